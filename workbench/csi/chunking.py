"""The CSI's chunking, `chunk` and `chunk_with_offsets`, served here as the kernel serves them
(its src/chunking.rs): the text-splitter crate's `TextSplitter` (here through its Python
binding, semantic-text-splitter) with `ChunkConfig::new(max_tokens).with_overlap(overlap)` and
whitespace trimmed, sized by the model's Hugging Face tokenizer, or by characters when there
is none to be had.

The tokenizer comes from the provider's optional `tokenizer(model, cancel=)` (the Aleph Alpha
API serves one per model, which is where the kernel fetches it). As in the kernel, any failure
to get one is not an error: the text is sized in characters instead, and here a note says so.
Tokenizers are kept in memory per server and model, as the kernel keeps them per model; only
a successful fetch is kept, so a failed one is tried again next call, as in the kernel.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.cancel import CancelToken
from workbench.csi import wire
from workbench.csi.inference import Served
from workbench.errors import InvalidCsiRequest, ModelError, RunCancelled
from workbench.models.base import ModelProvider

if TYPE_CHECKING:  # both are imported when the first text is chunked
    from semantic_text_splitter import TextSplitter
    from tokenizers import Tokenizer

#: The kernel's serde reads `max_tokens` and `overlap` as u32.
_U32_MAX = 2**32 - 1
#: Splitters built from a tokenizer kept for reuse: building one parses the whole tokenizer.
_MAX_SPLITTERS = 16

_lock = threading.Lock()
_tokenizers: dict[tuple[str, str, str], Tokenizer] = {}
_splitters: OrderedDict[tuple[Any, ...], TextSplitter] = OrderedDict()


@dataclass(frozen=True)
class ChunkRequest:
    text: str
    model: str
    max_tokens: int
    overlap: int
    #: Only `chunk_with_offsets` may ask for them; byte offsets are always given.
    character_offsets: bool = False


@dataclass(frozen=True)
class Chunk:
    text: str
    byte_offset: int
    character_offset: int


def chunk(provider: ModelProvider, requests: list[dict[str, Any]], cancel: CancelToken) -> Served:
    """`[{"text", "params": {"model", "max_tokens", "overlap"}}]` in, `[[str]]` out."""
    parsed = _read(requests, "chunk", with_offsets=False)
    chunked, notes = _chunk_all(provider, parsed, cancel)
    return _served([[piece.text for piece in pieces] for pieces in chunked], parsed, notes)


def chunk_with_offsets(
    provider: ModelProvider, requests: list[dict[str, Any]], cancel: CancelToken
) -> Served:
    """As `chunk`, each request with `character_offsets`; out, per chunk, `{"text",
    "byte_offset", "character_offset"}`, the character offset null unless asked for."""
    parsed = _read(requests, "chunk_with_offsets", with_offsets=True)
    chunked, notes = _chunk_all(provider, parsed, cancel)
    response = [
        [
            {
                "text": piece.text,
                "byte_offset": piece.byte_offset,
                "character_offset": piece.character_offset if request.character_offsets else None,
            }
            for piece in pieces
        ]
        for request, pieces in zip(parsed, chunked, strict=True)
    ]
    return _served(response, parsed, notes)


def _served(response: list[Any], parsed: list[ChunkRequest], notes: dict[str, None]) -> Served:
    # Chunking generates nothing: no tokens to count. The model is the one whose tokenizer
    # was asked for (a note says when it sized nothing).
    model = parsed[0].model if parsed else None
    return Served(response, model, None, None, tuple(notes))


# --- reading ------------------------------------------------------------------------------


def _read(requests: Any, function: str, *, with_offsets: bool) -> list[ChunkRequest]:
    """Every request read before any is served; what the kernel's serde refuses is refused
    (all fields required, unknown ones ignored)."""
    return [
        _request(request, f"{function} request {n}", with_offsets)
        for n, request in enumerate(wire.batch(requests, function), 1)
    ]


def _request(value: Any, where: str, with_offsets: bool) -> ChunkRequest:
    fields = wire._Fields(value, where)
    text = str(fields.text("text", required=True))
    params = wire._Fields(fields.get("params", required=True), f"{where}, `params`")
    model = str(params.text("model", required=True))
    max_tokens = _u32(params, "max_tokens")
    overlap = _u32(params, "overlap")
    character_offsets = False
    if with_offsets:
        fields.get("character_offsets", required=True)
        character_offsets = bool(fields.flag("character_offsets"))
    try:
        text.encode()
    except UnicodeEncodeError:
        raise InvalidCsiRequest(
            f"In {where}, `text` holds a lone surrogate, which is not Unicode text; the "
            "kernel takes only valid UTF-8."
        ) from None
    if overlap >= max_tokens:
        # The kernel's `ChunkConfig::with_overlap` refuses this (a ChunkConfigError), which
        # fails the skill's call; said here before anything is fetched.
        raise InvalidCsiRequest(
            f"In {where}, `overlap` ({overlap}) must be smaller than `max_tokens` "
            f"({max_tokens}): the kernel's text splitter refuses it with \"The overlap is "
            'larger than or equal to the desired chunk capacity".'
        )
    return ChunkRequest(text, model, max_tokens, overlap, character_offsets)


def _u32(fields: wire._Fields, name: str) -> int:
    fields.get(name, required=True)
    value = fields.count(name)
    if value is None or value > _U32_MAX:
        raise fields.fail(name, "a whole number from 0 to 4294967295")
    return value


# --- chunking -----------------------------------------------------------------------------


def _chunk_all(
    provider: ModelProvider, requests: list[ChunkRequest], cancel: CancelToken
) -> tuple[list[list[Chunk]], dict[str, None]]:
    """Each request chunked in order (one failure fails the batch, as in the kernel), and the
    notes on how each was sized, each sentence once."""
    notes: dict[str, None] = {}
    results = []
    for request in requests:
        if cancel.is_cancelled:
            raise RunCancelled("The chunking was cancelled.")
        splitter, note = _splitter(provider, request, cancel)
        if note is not None:
            notes[note] = None
        results.append(_chunks(splitter, request))
    return results, notes


def _chunks(splitter: TextSplitter, request: ChunkRequest) -> list[Chunk]:
    """The binding gives character offsets (Python string indices); the kernel's byte offset
    is the chunk's start in the text's UTF-8, counted here as the chunks go (they start in
    order, overlapping or not)."""
    text = request.text
    try:
        indices = splitter.chunk_indices(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # a Rust panic: pyo3's PanicException is a BaseException
        # The text-splitter crate panics on text its tokenizer cannot encode (a tokenizer
        # without an unknown token); in the kernel that fails the call as well.
        raise ModelError(
            f"The tokenizer of {request.model!r} cannot encode the text to chunk ({error}); "
            "the kernel's call fails the same way."
        ) from None
    if text.isascii():  # one byte per character
        return [Chunk(piece, start, start) for start, piece in indices]
    chunks = []
    char_at, byte_at = 0, 0
    for start, piece in indices:
        if start < char_at:  # never, as chunks start in order; counted afresh if so
            char_at, byte_at = 0, 0
        byte_at += len(text[char_at:start].encode())
        char_at = start
        chunks.append(Chunk(piece, byte_at, start))
    return chunks


def _splitter(
    provider: ModelProvider, request: ChunkRequest, cancel: CancelToken
) -> tuple[TextSplitter, str | None]:
    """The kernel's splitter for the request, sized by the model's tokenizer if the provider
    has one, else by characters with a note that says why."""
    from semantic_text_splitter import TextSplitter

    tokenizer, source, note = _tokenizer(provider, request.model, cancel)
    if tokenizer is None:
        return _build(lambda: TextSplitter(request.max_tokens, request.overlap)), note
    key = (source, request.model, request.max_tokens, request.overlap)
    with _lock:
        splitter = _splitters.get(key) if source is not None else None
        if splitter is not None:
            _splitters.move_to_end(key)
            return splitter, None
    splitter = _build(
        lambda: TextSplitter.from_huggingface_tokenizer(
            tokenizer, request.max_tokens, request.overlap
        )
    )
    if source is not None:
        with _lock:
            _splitters[key] = splitter
            while len(_splitters) > _MAX_SPLITTERS:
                _splitters.popitem(last=False)
    return splitter, None


def _build(make: Callable[[], TextSplitter]) -> TextSplitter:
    try:
        return make()
    except ValueError as error:  # the chunk config refused (checked already when read)
        raise InvalidCsiRequest(f"The text splitter refused the request: {error}.") from None


def _tokenizer(
    provider: ModelProvider, model: str, cancel: CancelToken
) -> tuple[Tokenizer | None, tuple[str, str] | None, str | None]:
    """The model's tokenizer, where it was kept (None: not kept), and, when there is none,
    the note saying why the text is sized in characters."""
    name = getattr(provider, "name", "the provider")
    fetch = getattr(provider, "tokenizer", None)
    if fetch is None:
        return None, None, _characters(f"{name} has no tokenizer for {model!r}")
    source = _source(provider)
    key = (*source, model) if source is not None else None
    if key is not None:
        with _lock:
            kept = _tokenizers.get(key)
        if kept is not None:
            return kept, source, None
    try:
        text = fetch(model, cancel=cancel)
    except ModelError as error:  # the kernel falls back on any failure to fetch
        reason = str(error).rstrip(".")
        return (
            None,
            None,
            _characters(f"the tokenizer for {model!r} could not be fetched ({reason})"),
        )
    if text is None:
        return None, None, _characters(f"{name} has no tokenizer for {model!r}")
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_str(text)
    except Exception as error:  # tokenizers raises a bare Exception for a bad JSON
        # The kernel's client fails with InvalidTokenizer, which falls back too.
        return (
            None,
            None,
            _characters(f"{name} sent a tokenizer for {model!r} that cannot be read ({error})"),
        )
    # The kernel's text-splitter (0.28, tokenizers 0.22) counts every token of a truncating
    # tokenizer (its overflow included); the binding's newer tokenizers would count only up
    # to the truncation length, so truncation is turned off to size chunks as the kernel does.
    tokenizer.no_truncation()
    if key is not None:
        with _lock:
            _tokenizers[key] = tokenizer
    return tokenizer, source, None


def _source(provider: ModelProvider) -> tuple[str, str] | None:
    """Where a provider's tokenizers come from, to keep them by: its kind and base URL. A
    provider without a base URL hands its tokenizers over from memory, so none is kept."""
    base_url = getattr(getattr(provider, "settings", None), "base_url", None)
    if not isinstance(base_url, str):
        return None
    kind = getattr(provider, "kind", type(provider).__name__)
    return str(kind), base_url.rstrip("/")


def _characters(reason: str) -> str:
    return f"Sized in characters: {reason}; the kernel does the same when it cannot fetch one."
