"""The CSI's inference functions (`workbench.csi.inference`), the kernel's `/csi/v1` JSON in
and out, served by echo and by a real OpenAI-compatible server on loopback: what reaches the
server, what comes back, and what a provider cannot honour. Aleph Alpha is in
test_inference_aleph_alpha.py, streams in test_inference_streams.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.servers.model_api import OpenAIApi, model_server
from tests.servers.model_replies import (
    logprob_for,
    reasoning_for,
    reply_for,
    tokens,
    tool_call_for,
)
from workbench.cancel import CancelToken
from workbench.csi import inference
from workbench.errors import InvalidCsiRequest, ModelError
from workbench.models.aleph_alpha import AlephAlphaProvider
from workbench.models.echo import EchoProvider
from workbench.models.http import HttpSettings
from workbench.models.openai import OpenAIProvider

MODEL = "luminous-base"
GPT = "gpt-4o-mini"
NO_PARAMS = {"return_special_tokens": False, "stop": [], "logprobs": "no"}


def openai(url: str, timeout: float = 5.0) -> OpenAIProvider:
    return OpenAIProvider("local", HttpSettings(url, "sk-test", timeout=timeout, backoff=0.01))


def aleph_alpha(url: str) -> AlephAlphaProvider:
    return AlephAlphaProvider("aa", HttpSettings(url, "aa-token", timeout=5, backoff=0.01))


def text_of(token: list[int]) -> str:
    return bytes(token).decode()


def chat_request(content: str, model: str = GPT, **params: Any) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "params": {"logprobs": "no", **params},
    }


# --- echo ---------------------------------------------------------------------------------


def test_echo_complete_cuts_at_max_tokens_and_makes_up_logprobs() -> None:
    echo, prompt = EchoProvider(), "Tell me about oak trees"
    whole = echo.complete_text(prompt, MODEL).text
    params = {**NO_PARAMS, "max_tokens": 3, "logprobs": {"top": 2}, "temperature": 0.7}
    served = inference.complete(
        echo, [{"model": MODEL, "prompt": prompt, "params": params}], CancelToken()
    )
    (answer,) = served.response
    first_three = tokens(whole)[:3]
    assert answer["text"] == "".join(first_three) and whole.startswith(answer["text"])
    assert answer["finish_reason"] == "length"
    assert answer["usage"] == {"prompt": 5, "completion": 3}
    assert [text_of(d["sampled"]["token"]) for d in answer["logprobs"]] == first_three
    first = answer["logprobs"][0]
    assert [text_of(t["token"]) for t in first["top"]] == [first_three[0], "<alt 1>"]
    assert first["top"][1]["logprob"] == first["sampled"]["logprob"] - 1
    assert (served.model, served.prompt_tokens, served.completion_tokens) == (MODEL, 5, 3)
    assert served.notes == (
        "temperature has no effect: the echo provider always gives the same answer.",
    )


def test_echo_complete_honours_stop_and_echo_and_matches_complete_text() -> None:
    echo, prompt = EchoProvider(), "line one\nline two"
    plain = inference.complete(
        echo, [{"model": MODEL, "prompt": prompt, "params": NO_PARAMS}], CancelToken()
    )
    assert plain.response[0]["text"] == echo.complete_text(prompt, MODEL).text
    assert plain.response[0]["finish_reason"] == "stop" and plain.notes == ()
    params = {**NO_PARAMS, "stop": ["two"], "echo": True}
    cut = inference.complete(
        echo, [{"model": MODEL, "prompt": prompt, "params": params}], CancelToken()
    )
    text = cut.response[0]["text"]
    assert text.startswith(prompt + "[echo:") and text.endswith("line ")
    seed = inference.complete_text(echo, {"prompt": prompt, "model": MODEL}, CancelToken())
    assert seed.response == echo.complete_text(prompt, MODEL).text and seed.model == MODEL


def test_echo_chat_echoes_the_last_user_message_and_notes_what_it_ignores() -> None:
    request = chat_request(
        "how are you",
        tools=[{"name": "add", "parameters": {"type": "object"}}],
        tool_choice={"named": "add"},
        reasoning_effort="low",
    )
    request["messages"].insert(0, {"role": "system", "content": "Be brief"})
    served = inference.chat(EchoProvider(), [request], CancelToken())
    (answer,) = served.response
    assert answer["message"] == {
        "role": "assistant",
        "content": f"[echo: model {GPT!r} received this message]\nhow are you",
        "reasoning_content": None,
        "tool_call_id": None,
        "tool_calls": None,
    }
    assert answer["finish_reason"] == "stop" and answer["usage"] == {"prompt": 5, "completion": 9}
    assert len(served.notes) == 3 and all("echo provider" in note for note in served.notes)
    assert any(note.startswith("tools are never called") for note in served.notes)


def test_echo_explain_scores_each_word_or_sentence() -> None:
    echo = EchoProvider()
    request = {"prompt": "Oaks grow slowly. Birches grow fast.", "target": "oaks", "model": MODEL}
    words, sentences = inference.explain(
        echo,
        [{**request, "granularity": "word"}, {**request, "granularity": "sentence"}],
        CancelToken(),
    ).response
    assert words[0] == {"start": 0, "length": 4, "score": 1.0}
    assert [w["score"] for w in words[1:]] == [0, 0, 0, 0, 0]
    assert sentences == [
        {"start": 0, "length": 17, "score": 1 / 3},
        {"start": 18, "length": 18, "score": 0},
    ]


# --- OpenAI-compatible --------------------------------------------------------------------

EVERY_CHAT_PARAM = {
    "max_tokens": 50,
    "max_completion_tokens": 40,
    "temperature": 0.2,
    "top_p": 0.9,
    "frequency_penalty": 0.1,
    "presence_penalty": 0.3,
    "logprobs": {"top": 2},
    "tools": [
        {
            "name": "lookup",
            "description": "Look it up",
            "parameters": {"type": "object"},
            "strict": True,
        },
        {"name": "add"},
    ],
    "tool_choice": {"named": "lookup"},
    "parallel_tool_calls": False,
    "response_format": {
        "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True}
    },
    "reasoning_effort": "high",
}


def test_openai_chat_sends_every_parameter_and_maps_tool_calls_and_reasoning_back() -> None:
    with model_server(OpenAIApi()) as server:
        served = inference.chat(
            openai(server.base_url), [chat_request("oak?", **EVERY_CHAT_PARAM)], CancelToken()
        )
        (request,) = server.state.requests
    assert request.path == "/v1/chat/completions"
    assert request.body == {
        "model": GPT,
        "messages": [{"role": "user", "content": "oak?"}],
        "logprobs": True,
        "top_logprobs": 2,
        "temperature": 0.2,
        "top_p": 0.9,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.3,
        "max_tokens": 50,
        "max_completion_tokens": 40,
        "parallel_tool_calls": False,
        "reasoning_effort": "high",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": "Look it up",
                    "parameters": {"type": "object"},
                    "strict": True,
                },
            },
            {"type": "function", "function": {"name": "add"}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
        },
    }
    (answer,) = served.response
    assert answer["message"] == {
        "role": "assistant",
        "content": None,
        "reasoning_content": reasoning_for("high", "oak?"),
        "tool_call_id": None,
        "tool_calls": [tool_call_for("lookup", "oak?")],
    }
    assert answer["finish_reason"] == "tool_calls"
    assert answer["usage"] == {"prompt": 1, "completion": 7}
    assert served.model == f"{GPT}-0125" and served.notes == ()


def test_openai_chat_maps_messages_logprobs_and_the_sdks_spellings() -> None:
    messages = [
        {"role": "System", "content": "Be brief"},
        {"role": "user", "content": "add 1 and 2"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "name": "add", "arguments": '{"a":1}'}],
        },
        {"role": "tool", "content": "3"},
        {"role": "user", "content": "thanks"},
    ]
    params = {
        "logprobs": "sampled",
        "tool_choice": {"name": "add"},
        "reasoning_effort": "minimal",
        "max_tokens": 3,
    }
    with model_server(OpenAIApi()) as server:
        served = inference.chat(
            openai(server.base_url),
            [{"model": GPT, "messages": messages, "params": params}],
            CancelToken(),
        )
        (request,) = server.state.requests
    assert request.body["messages"] == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "add 1 and 2"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a":1}'},
                }
            ],
        },
        {"role": "tool", "content": "3", "tool_call_id": ""},
        {"role": "user", "content": "thanks"},
    ]
    assert request.body["tool_choice"] == {"type": "function", "function": {"name": "add"}}
    assert (request.body["logprobs"], request.body["top_logprobs"]) == (True, 1)
    assert request.body["reasoning_effort"] == "minimal" and "tools" not in request.body
    (answer,) = served.response
    expected = tokens(reply_for(GPT, "thanks"))[:3]
    assert answer["message"]["content"] == "".join(expected)
    assert answer["finish_reason"] == "length"
    assert [text_of(d["sampled"]["token"]) for d in answer["logprobs"]] == expected
    assert answer["logprobs"][0]["sampled"]["logprob"] == logprob_for(expected[0])
    assert all(d["top"] == [] for d in answer["logprobs"]), "sampled asks for no alternatives"


def test_openai_complete_uses_the_completions_api_and_notes_what_it_cannot_send() -> None:
    params = {
        "max_tokens": 2,
        "temperature": 0.5,
        "top_k": 40,
        "top_p": 0.8,
        "stop": ["\n"],
        "return_special_tokens": True,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "logprobs": {"top": 2},
        "echo": True,
    }
    with model_server(OpenAIApi()) as server:
        served = inference.complete(
            openai(server.base_url),
            [
                {"model": GPT, "prompt": "Oak", "params": params},
                {"model": GPT, "prompt": "Elm", "params": NO_PARAMS},
            ],
            CancelToken(),
        )
        first, second = server.state.requests
    assert first.path == "/v1/completions"
    assert first.body == {
        "model": GPT,
        "prompt": "Oak",
        "max_tokens": 2,
        "temperature": 0.5,
        "top_p": 0.8,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "stop": ["\n"],
        "logprobs": 2,
        "echo": True,
    }
    assert second.body == {"model": GPT, "prompt": "Elm"}
    oak, elm = served.response
    two = tokens(reply_for(GPT, "Oak"))[:2]
    assert oak["text"] == "Oak" + "".join(two) and oak["finish_reason"] == "length"
    assert [text_of(t["token"]) for t in oak["logprobs"][0]["top"]] == [two[0], "alt1"]
    assert oak["logprobs"][0]["top"][1]["logprob"] == logprob_for(two[0], 1)
    assert elm["text"] == reply_for(GPT, "Elm") and elm["logprobs"] == []
    assert served.notes == (
        "top_k is not sent: the OpenAI completions API has no top-k.",
        "return_special_tokens is not sent: the OpenAI completions API has no switch for "
        "special tokens.",
    )
    assert (served.model, served.prompt_tokens, served.completion_tokens) == (f"{GPT}-0125", 2, 14)


def test_openai_cannot_explain_and_says_so_in_one_sentence() -> None:
    request = {"prompt": "p", "target": "t", "model": GPT, "granularity": "auto"}
    with model_server(OpenAIApi()) as server:
        with pytest.raises(ModelError) as caught:
            inference.explain(openai(server.base_url), [request], CancelToken())
        assert not server.state.requests
    message = str(caught.value)
    assert "Aleph Alpha provider" in message and "cannot explain" in message
    assert message.count(". ") == 0 and message.endswith(".") and "\n" not in message


# --- the kernel's JSON --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "request_json", "phrase"),
    [
        (
            "chat",
            [chat_request("x") | {"messages": [{"role": "wizard", "content": "x"}]}],
            "`role` must be one of",
        ),
        ("chat", [{"model": GPT, "messages": [{"role": "user"}]}], "`content` is missing"),
        ("complete", [{"prompt": "x"}], "`model` is missing"),
        (
            "complete",
            [{"model": GPT, "prompt": "x", "params": {"logprobs": "many"}}],
            "`logprobs` must be",
        ),
        ("complete", {"model": GPT, "prompt": "x"}, "must be a list of requests"),
        (
            "explain",
            [{"prompt": "p", "target": "t", "model": GPT, "granularity": "page"}],
            "`granularity`",
        ),
    ],
)
def test_a_request_the_kernel_would_refuse_is_refused_before_any_provider(
    function: str, request_json: Any, phrase: str
) -> None:
    with model_server(OpenAIApi()) as server:
        with pytest.raises(InvalidCsiRequest) as caught:
            getattr(inference, function)(openai(server.base_url), request_json, CancelToken())
        assert not server.state.requests
    assert phrase in str(caught.value) and isinstance(caught.value, ModelError)


def test_every_answer_is_plain_json() -> None:
    echo, cancel = EchoProvider(), CancelToken()
    complete = {"model": MODEL, "prompt": "p q", "params": {**NO_PARAMS, "logprobs": {"top": 3}}}
    answers = [
        inference.complete(echo, [complete], cancel).response,
        inference.chat(echo, [chat_request("x", logprobs="sampled")], cancel).response,
        inference.explain(echo, [{"prompt": "p", "target": "p", "model": MODEL}], cancel).response,
        list(inference.completion_stream(echo, complete, cancel).events),
        list(inference.chat_stream(echo, chat_request("x"), cancel).events),
    ]
    for answer in answers:
        assert json.loads(json.dumps(answer, allow_nan=False)) == answer
