"""The CSI's inference streams (`workbench.csi.inference.completion_stream` and
`chat_stream`), the kernel's `/csi/v1` events out, from echo and from real OpenAI-compatible
and Aleph Alpha servers on loopback: each event arrives as the server sends it, in the
kernel's order, and a cancel, a reader that leaves early, a server that stalls or never ends
each stop the stream and its connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.test_inference import (
    GPT,
    MODEL,
    NO_PARAMS,
    aleph_alpha,
    chat_request,
    openai,
    text_of,
)
from tests.servers.model_api import (
    AlephAlphaApi,
    ModelServerState,
    OpenAIApi,
    RunningServer,
    model_server,
)
from tests.servers.model_replies import reasoning_for, reply_for, tool_call_for
from tests.servers.raw_http import drip, endless_body, raw_server
from workbench.cancel import CancelToken
from workbench.csi import inference
from workbench.errors import ModelError, RunCancelled
from workbench.models.echo import EchoProvider
from workbench.models.http import MAX_REPLY_BYTES


def eventually(condition: Callable[[], bool], within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def pull_first_then_rest(
    served: inference.ServedStream, server: RunningServer, gate: threading.Event
) -> list[dict[str, Any]]:
    """The first event, read while the server holds back the rest; then the rest."""
    first = next(served.events)
    assert server.state.events_sent == 1 and server.state.streams_finished == 0
    gate.set()
    return [first, *served.events]


def test_echo_streams_give_the_same_reply_a_token_at_a_time() -> None:
    echo, cancel = EchoProvider(), CancelToken()
    params = {**NO_PARAMS, "max_tokens": 4}
    request = {"model": MODEL, "prompt": "an oak", "params": params}
    (whole,) = inference.complete(echo, [request], cancel).response
    events = list(inference.completion_stream(echo, request, cancel).events)
    assert [e["event"] for e in events] == ["append"] * 4 + ["end", "usage"]
    assert "".join(e["data"]["text"] for e in events[:4]) == whole["text"]
    assert events[-2:] == [
        {"event": "end", "data": {"finish_reason": "length"}},
        {"event": "usage", "data": {"usage": whole["usage"]}},
    ]
    chat = chat_request("hello there", logprobs="sampled")
    (answer,) = inference.chat(echo, [chat], cancel).response
    served = inference.chat_stream(echo, chat, cancel)
    events = list(served.events)
    names = [e["event"] for e in events]
    assert names == [
        "message_begin",
        *["message_append"] * (len(names) - 3),
        "message_end",
        "usage",
    ]
    appends = [e["data"] for e in events if e["event"] == "message_append"]
    assert "".join(a["content"] for a in appends) == answer["message"]["content"]
    assert [a["logprobs"][0] for a in appends] == answer["logprobs"]
    assert served.completion_tokens == answer["usage"]["completion"]


def test_openai_chat_stream_arrives_event_by_event() -> None:
    gate = threading.Event()
    with model_server(OpenAIApi(), ModelServerState(stream_gate=gate)) as server:
        request = chat_request("oak", logprobs={"top": 1}, reasoning_effort="low")
        served = inference.chat_stream(openai(server.base_url), request, CancelToken())
        assert not server.state.requests, "the request goes out at the first pull"
        events = pull_first_then_rest(served, server, gate)
        (sent,) = server.state.requests
    assert sent.body["stream"] is True and sent.body["stream_options"] == {"include_usage": True}
    assert events[0] == {"event": "message_begin", "data": {"role": "assistant"}}
    reasoning = [e["data"]["content"] for e in events if e["event"] == "reasoning"]
    assert "".join(reasoning) == reasoning_for("low", "oak")
    appends = [e["data"] for e in events if e["event"] == "message_append"]
    assert "".join(a["content"] for a in appends) == reply_for(GPT, "oak")
    first = appends[0]["logprobs"][0]
    assert (
        text_of(first["sampled"]["token"])
        == text_of(first["top"][0]["token"])
        == appends[0]["content"]
    )
    assert events[-2:] == [
        {"event": "message_end", "data": {"finish_reason": "stop"}},
        {"event": "usage", "data": {"usage": {"prompt": 1, "completion": 7}}},
    ]
    assert (served.model, served.prompt_tokens, served.completion_tokens) == (f"{GPT}-0125", 1, 7)


def test_openai_chat_stream_gives_tool_calls_in_pieces() -> None:
    with model_server(OpenAIApi()) as server:
        request = chat_request("sum", tools=[{"name": "add"}], tool_choice="required")
        events = list(inference.chat_stream(openai(server.base_url), request, CancelToken()).events)
    calls = [
        chunk for e in events if e["event"] == "tool_call" for chunk in e["data"]["tool_calls"]
    ]
    whole = tool_call_for("add", "sum")
    assert calls[0]["index"] == 0 and (calls[0]["id"], calls[0]["name"]) == (whole["id"], "add")
    assert calls[1]["id"] is None and calls[1]["name"] is None
    assert "".join(c["arguments"] for c in calls) == whole["arguments"]
    assert [e["event"] for e in events][-2:] == ["message_end", "usage"]
    assert events[-2]["data"] == {"finish_reason": "tool_calls"}


def test_openai_completion_stream_arrives_event_by_event() -> None:
    gate = threading.Event()
    with model_server(OpenAIApi(), ModelServerState(stream_gate=gate)) as server:
        request = {"model": GPT, "prompt": "Pine", "params": {**NO_PARAMS, "logprobs": "sampled"}}
        served = inference.completion_stream(openai(server.base_url), request, CancelToken())
        events = pull_first_then_rest(served, server, gate)
        (sent,) = server.state.requests
    assert (
        sent.path == "/v1/completions"
        and sent.body["stream"] is True
        and sent.body["logprobs"] == 0
    )
    appends = [e["data"] for e in events if e["event"] == "append"]
    assert "".join(a["text"] for a in appends) == reply_for(GPT, "Pine")
    assert all(len(a["logprobs"]) == 1 and a["logprobs"][0]["top"] == [] for a in appends)
    assert [e["event"] for e in events] == ["append"] * len(appends) + ["end", "usage"]
    assert events[-2]["data"] == {"finish_reason": "stop"}
    assert events[-1]["data"] == {"usage": {"prompt": 1, "completion": 7}}


def test_a_cancel_stops_a_stream_at_once_and_drops_its_connection() -> None:
    state = ModelServerState(stream_delay=1.0)
    with model_server(OpenAIApi(), state) as server:
        cancel = CancelToken()
        served = inference.chat_stream(openai(server.base_url), chat_request("a b c d"), cancel)
        assert next(served.events)["event"] == "message_begin"
        timer = threading.Timer(0.3, cancel.cancel)
        timer.start()
        started = time.monotonic()
        with pytest.raises(RunCancelled):
            next(served.events)  # waits on the server's next event when the cancel comes
        assert time.monotonic() - started < 0.8
        served.close()
        assert eventually(lambda: server.state.live_connections == 0, within=5)
        assert len(server.state.requests) == 1 and server.state.streams_finished == 0


def test_a_stream_left_early_closes_its_connection_and_errors_come_from_the_pull() -> None:
    with model_server(OpenAIApi(), ModelServerState(stream_delay=0.5)) as server:
        served = inference.completion_stream(
            openai(server.base_url),
            {"model": GPT, "prompt": "x y z", "params": NO_PARAMS},
            CancelToken(),
        )
        next(served.events)
        served.close()
        assert eventually(lambda: server.state.live_connections == 0, within=5)
    failing = ModelServerState(failures=["503", "always:401"])
    with model_server(OpenAIApi(), failing) as server:
        served = inference.chat_stream(openai(server.base_url), chat_request("hi"), CancelToken())
        with pytest.raises(ModelError, match=r"refused the API key .*\(401\)"):
            next(served.events)
        assert len(server.state.requests) == 2, "a 503 before the stream starts is retried"


def test_a_stream_that_drips_or_never_ends_is_given_up_on() -> None:
    with raw_server(drip(every=0.2)) as url:
        served = inference.chat_stream(openai(url, timeout=1.0), chat_request("hi"), CancelToken())
        started = time.monotonic()
        with pytest.raises(ModelError, match=r"stopped sending its stream .* for 1 s"):
            next(served.events)
        assert time.monotonic() - started < 3
    with raw_server(endless_body()) as url:
        served = inference.chat_stream(openai(url), chat_request("hi"), CancelToken())
        with pytest.raises(ModelError, match=f"more than {MAX_REPLY_BYTES >> 20} MiB"):
            next(served.events)


def test_aleph_alpha_completion_stream_arrives_event_by_event() -> None:
    gate = threading.Event()
    with model_server(AlephAlphaApi(), ModelServerState(stream_gate=gate)) as server:
        request = {"model": MODEL, "prompt": "Maple", "params": {**NO_PARAMS, "echo": True}}
        served = inference.completion_stream(aleph_alpha(server.base_url), request, CancelToken())
        events = pull_first_then_rest(served, server, gate)
        (sent,) = server.state.requests
    assert sent.body["stream"] is True and sent.body["echo"] is True
    assert [e["event"] for e in events][-2:] == ["end", "usage"]
    assert "".join(e["data"]["text"] for e in events[:-2]) == reply_for(MODEL, "Maple")
    assert events[-2:] == [
        {"event": "end", "data": {"finish_reason": "stop"}},
        {"event": "usage", "data": {"usage": {"prompt": 1, "completion": 9}}},
    ]
    assert (served.model, served.completion_tokens) == ("2022-04", 9)


def test_a_cancel_stops_an_echo_stream() -> None:
    echo = EchoProvider()
    cancel = CancelToken()
    served = inference.chat_stream(echo, chat_request("one two three"), cancel)
    assert next(served.events)["event"] == "message_begin"
    cancel.cancel()
    with pytest.raises(RunCancelled):
        next(served.events)
