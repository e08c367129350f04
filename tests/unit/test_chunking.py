"""The CSI's chunking as the kernel does it: sized by the model's tokenizer when the provider
has one, else by characters (with a note), byte offsets always and character offsets on
request, and what the kernel refuses refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from semantic_text_splitter import TextSplitter
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from workbench.cancel import CancelToken
from workbench.csi import chunking
from workbench.errors import InvalidCsiRequest, ModelError

MODEL = "word-model"
WORDS = "one two three four five six seven eight nine ten"
#: Umlauts, an emoji with a skin tone modifier (two code points), ß, a flag (two), CJK.
UNICODE = (
    "Döner macht schöner ☝🏾! Grüße aus Köln, Straße für Straße. "
    "Ünïcödé überall 🇩🇪 und 日本語 dazu, ñ y ç también. Ende."
)


def word_tokenizer(*, truncate_at: int | None = None) -> str:
    """A word-level tokenizer's JSON, trained here on WORDS: each word one token."""
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator([WORDS], trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    if truncate_at is not None:
        tokenizer.enable_truncation(truncate_at)
    return tokenizer.to_str()


@dataclass
class NoTokenizer:
    """A provider like echo or OpenAI's: no `tokenizer` method at all."""

    name: str = "echo"
    kind: str = "echo"


@dataclass
class Settings:
    base_url: str


@dataclass
class WithTokenizer:
    """A provider that serves `answer` as its tokenizer (raising it if it is an error)."""

    answer: str | ModelError | None
    name: str = "fake"
    kind: str = "fake"
    settings: Settings | None = None
    asked: list[str] = field(default_factory=list)

    def tokenizer(self, model: str, *, cancel: CancelToken | None = None) -> str | None:
        self.asked.append(model)
        if isinstance(self.answer, ModelError):
            raise self.answer
        return self.answer


def request(text: str, max_tokens: int, overlap: int = 0, model: str = MODEL) -> dict[str, Any]:
    return {"text": text, "params": {"model": model, "max_tokens": max_tokens, "overlap": overlap}}


def chunk(provider: Any, *requests: dict[str, Any]) -> Any:
    return chunking.chunk(provider, list(requests), CancelToken())


# --- characters ---------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "overlap"), [(20, 0), (20, 5), (7, 2), (3, 2)])
def test_without_a_tokenizer_the_text_is_split_by_characters(size: int, overlap: int) -> None:
    text = f"{UNICODE}\n\n{WORDS}. {UNICODE}"
    served = chunk(NoTokenizer(), request(text, size, overlap))
    assert served.response == [TextSplitter(size, overlap).chunks(text)]
    assert all(len(piece) <= size for piece in served.response[0])


def test_the_kernels_own_characters_case_gives_four_chunks() -> None:
    # src/chunking.rs, chunking_without_tokenizer: "123456", 3 tokens, overlap 2 → 4 chunks.
    served = chunk(NoTokenizer(), request("123456", 3, 2))
    assert served.response == [["123", "234", "345", "456"]]


def test_falling_back_to_characters_is_noted_once_with_the_reason() -> None:
    served = chunk(NoTokenizer(name="echo"), request(WORDS, 10), request(UNICODE, 10))
    assert served.notes == (
        "Sized in characters: echo has no tokenizer for 'word-model'; the kernel does the "
        "same when it cannot fetch one.",
    )
    assert served.model == MODEL
    assert served.prompt_tokens is None and served.completion_tokens is None


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (None, "fake has no tokenizer for 'word-model'"),
        (ModelError("The server is down (500)."), "could not be fetched (The server is down"),
        ('{"not": "a tokenizer"', "sent a tokenizer for 'word-model' that cannot be read"),
    ],
)
def test_no_tokenizer_a_failed_fetch_or_a_broken_one_falls_back_to_characters(
    answer: Any, said: str
) -> None:
    served = chunk(WithTokenizer(answer), request(WORDS, 10))
    assert served.response == [TextSplitter(10).chunks(WORDS)]
    (note,) = served.notes
    assert note.startswith("Sized in characters: ") and said in note
    assert note.endswith("the kernel does the same when it cannot fetch one.")


# --- tokens -------------------------------------------------------------------------------


def test_a_providers_tokenizer_sizes_the_chunks_in_tokens() -> None:
    provider = WithTokenizer(word_tokenizer())
    served = chunk(provider, request(WORDS, 4))
    # One word a token: four words a chunk (by characters, 4 would cut words apart).
    assert served.response == [["one two three four", "five six seven eight", "nine ten"]]
    assert served.notes == ()
    assert provider.asked == [MODEL]


def test_overlap_is_counted_in_tokens_too() -> None:
    served = chunk(WithTokenizer(word_tokenizer()), request(WORDS, 4, 2))
    assert served.response == [
        [
            "one two three four",
            "three four five six",
            "five six seven eight",
            "seven eight nine ten",
        ]
    ]


def test_every_chunk_fits_the_token_budget_of_a_longer_text() -> None:
    text = " ".join([WORDS] * 7) + ". " + " ".join(reversed(WORDS.split())) * 3
    tokenizer = Tokenizer.from_str(word_tokenizer())
    (pieces,) = chunk(WithTokenizer(word_tokenizer()), request(text, 9)).response
    assert pieces and all(len(tokenizer.encode(piece).ids) <= 9 for piece in pieces)
    assert " ".join(pieces).split() == text.split(), "nothing lost, nothing repeated"


def test_a_truncating_tokenizer_still_counts_every_token_as_the_kernels_crate_does() -> None:
    # text-splitter 0.28 (the kernel's) counts a truncating tokenizer's overflow; newer ones
    # would stop at the truncation length and put the whole text in one chunk.
    served = chunk(WithTokenizer(word_tokenizer(truncate_at=2)), request(WORDS, 4))
    assert served.response == [["one two three four", "five six seven eight", "nine ten"]]


def test_a_tokenizer_that_cannot_encode_the_text_fails_the_call_as_in_the_kernel() -> None:
    tokenizer = Tokenizer(models.WordLevel({"one": 0, "two": 1}))  # no unknown token
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    with pytest.raises(ModelError, match="cannot encode the text to chunk"):
        chunk(WithTokenizer(tokenizer.to_str()), request("one two three", 4))


def test_a_tokenizer_is_fetched_once_per_server_and_model() -> None:
    provider = WithTokenizer(word_tokenizer(), settings=Settings(f"http://{uuid.uuid4()}/"))
    chunk(provider, request(WORDS, 4), request(WORDS, 5))
    chunk(provider, request(WORDS, 4, model="other"))
    assert provider.asked == [MODEL, "other"]


def test_a_failed_fetch_is_tried_again_next_time_as_in_the_kernel() -> None:
    provider = WithTokenizer(ModelError("Down."), settings=Settings(f"http://{uuid.uuid4()}/"))
    chunk(provider, request(WORDS, 4))
    chunk(provider, request(WORDS, 4))
    assert provider.asked == [MODEL, MODEL]


# --- offsets ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", [NoTokenizer(), WithTokenizer(word_tokenizer())])
def test_offsets_are_utf8_bytes_and_characters_of_the_text(provider: Any) -> None:
    asked = {**request(UNICODE, 7, 2), "character_offsets": True}
    (pieces,) = chunking.chunk_with_offsets(provider, [asked], CancelToken()).response
    encoded = UNICODE.encode()
    assert len(pieces) > 3
    for piece in pieces:
        assert encoded[piece["byte_offset"] :].startswith(piece["text"].encode())
        assert UNICODE[piece["character_offset"] :].startswith(piece["text"])
    assert any(p["byte_offset"] > p["character_offset"] for p in pieces), "multi-byte text"
    # The same chunks as `chunk` gives, in the same order.
    assert [p["text"] for p in pieces] == chunk(provider, request(UNICODE, 7, 2)).response[0]


class KernelsSplit:
    """The chunks of src/chunking.rs's chunking_multi_byte_character (pharia-1's tokenizer,
    7 tokens, overlap 2), at the character offsets the kernel gives them."""

    def chunk_indices(self, text: str) -> list[tuple[int, str]]:
        return [(0, "Döner macht"), (6, "macht schöner"), (20, "☝🏾"), (22, "! Remember that.")]


def test_byte_offsets_are_the_kernels_for_its_multi_byte_case() -> None:
    text = "Döner macht schöner ☝🏾! Remember that."
    asked = chunking.ChunkRequest(text, MODEL, 7, 2)
    pieces = chunking._chunks(KernelsSplit(), asked)  # type: ignore[arg-type]
    # The kernel's test expects these byte offsets, with these character offsets.
    assert [(p.byte_offset, p.character_offset) for p in pieces] == [
        (0, 0),
        (7, 6),
        (22, 20),
        (29, 22),
    ]


def test_character_offsets_are_null_unless_asked_for() -> None:
    asked = {**request(UNICODE, 12), "character_offsets": False}
    (pieces,) = chunking.chunk_with_offsets(NoTokenizer(), [asked], CancelToken()).response
    assert pieces and all(p["character_offset"] is None for p in pieces)
    for piece in pieces:
        assert UNICODE.encode()[piece["byte_offset"] :].startswith(piece["text"].encode())


def test_a_batch_is_answered_in_order_and_an_empty_text_has_no_chunks() -> None:
    served = chunk(NoTokenizer(), request("abc def", 3), request("", 3), request("xyz", 5))
    assert served.response == [["abc", "def"], [], ["xyz"]]


# --- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "said"),
    [
        ({"text": "x"}, "`params` is missing"),
        ([{"text": "x", "params": {"model": MODEL, "overlap": 0}}], "`max_tokens` is missing"),
        ([{"text": "x", "params": {"model": MODEL, "max_tokens": 3}}], "`overlap` is missing"),
        ([{"params": {"model": MODEL, "max_tokens": 3, "overlap": 0}}], "`text` is missing"),
        ([request("x", -1)], "`max_tokens` must be a whole number"),
        ([request("x", 3, 3)], "`overlap` (3) must be smaller than `max_tokens` (3)"),
        ([request("x", 0)], "`overlap` (0) must be smaller than `max_tokens` (0)"),
        ([request("x", 2**32)], "from 0 to 4294967295"),
        ([request("\ud800", 3)], "lone surrogate"),
    ],
)
def test_what_the_kernel_refuses_is_refused(requests: Any, said: str) -> None:
    if isinstance(requests, dict):
        requests = [requests]
    with pytest.raises(InvalidCsiRequest) as raised:
        chunking.chunk(WithTokenizer(word_tokenizer()), requests, CancelToken())
    assert said in str(raised.value)


def test_chunk_with_offsets_needs_character_offsets_and_a_list() -> None:
    with pytest.raises(InvalidCsiRequest, match="`character_offsets` is missing"):
        chunking.chunk_with_offsets(NoTokenizer(), [request("x", 3)], CancelToken())
    with pytest.raises(InvalidCsiRequest, match="must be a list of requests"):
        chunking.chunk(NoTokenizer(), request("x", 3), CancelToken())  # type: ignore[arg-type]
