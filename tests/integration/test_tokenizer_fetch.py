"""Chunking sized by the tokenizer an Aleph Alpha API serves, as the kernel fetches it: `GET
/models/{model}/tokenizer` with the bearer token, from a real server on loopback; and sized in
characters, with a note, when the server will not give one."""

from __future__ import annotations

import json
import uuid
from typing import Any

from semantic_text_splitter import TextSplitter

from tests.integration.test_inference import aleph_alpha
from tests.servers.model_api import AlephAlphaApi, ModelServerState, model_server
from tests.unit.test_chunking import WORDS, word_tokenizer
from workbench.cancel import CancelToken
from workbench.csi import chunking


def fresh_model() -> str:
    # Tokenizers are kept per server address and model: a model name of its own per test,
    # so a server that gets a port an earlier one had never meets that one's tokenizer.
    return f"tok-{uuid.uuid4().hex[:8]}"


def request(model: str, max_tokens: int = 4) -> dict[str, Any]:
    return {"text": WORDS, "params": {"model": model, "max_tokens": max_tokens, "overlap": 0}}


def test_the_provider_fetches_the_tokenizer_with_its_bearer_token() -> None:
    model = fresh_model()
    served_json = word_tokenizer()
    state = ModelServerState(api_key="aa-token", tokenizers={model: served_json})
    with model_server(AlephAlphaApi(), state) as server:
        fetched = aleph_alpha(server.base_url).tokenizer(model, cancel=CancelToken())
        (asked,) = server.state.requests
    assert fetched is not None and json.loads(fetched) == json.loads(served_json)
    assert (asked.method, asked.path) == ("GET", f"/models/{model}/tokenizer")
    assert asked.headers["Authorization"] == "Bearer aa-token"


def test_chunking_is_sized_by_the_fetched_tokenizer_which_is_fetched_once() -> None:
    model = fresh_model()
    state = ModelServerState(api_key="aa-token", tokenizers={model: word_tokenizer()})
    with model_server(AlephAlphaApi(), state) as server:
        provider = aleph_alpha(server.base_url)
        first = chunking.chunk(provider, [request(model)], CancelToken())
        second = chunking.chunk(provider, [request(model, 5)], CancelToken())
        paths = [r.path for r in server.state.requests]
    # One word one token: four words a chunk, where 4 characters would split every word.
    assert first.response == [["one two three four", "five six seven eight", "nine ten"]]
    assert second.response == [["one two three four five", "six seven eight nine ten"]]
    assert first.notes == second.notes == ()
    assert paths == [f"/models/{model}/tokenizer"], "kept after the first fetch"


def test_a_model_without_a_tokenizer_is_sized_in_characters_with_a_note() -> None:
    model = fresh_model()
    with model_server(AlephAlphaApi(), ModelServerState(api_key="aa-token")) as server:
        provider = aleph_alpha(server.base_url)
        served = chunking.chunk(provider, [request(model, 12)], CancelToken())
        chunking.chunk(provider, [request(model, 12)], CancelToken())
        fetches = len(server.state.requests)
    assert served.response == [TextSplitter(12).chunks(WORDS)]
    (note,) = served.notes
    assert note.startswith(f"Sized in characters: the tokenizer for {model!r} could not be")
    assert "(404)" in note and f"Model {model} not found" in note
    assert fetches == 2, "a failed fetch is not kept: the kernel tries again too"


def test_a_refused_key_falls_back_to_characters_and_says_so() -> None:
    model = fresh_model()
    state = ModelServerState(api_key="the-right-one", tokenizers={model: word_tokenizer()})
    with model_server(AlephAlphaApi(), state) as server:
        served = chunking.chunk(aleph_alpha(server.base_url), [request(model, 12)], CancelToken())
    assert served.response == [TextSplitter(12).chunks(WORDS)]
    (note,) = served.notes
    assert "refused the API key (401)" in note and "aa-token" not in note
