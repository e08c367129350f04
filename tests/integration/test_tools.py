"""The CSI's tools against real MCP servers on loopback (the official SDK's MCPServer over
streamable HTTP): listing across servers, calls and what a skill receives of them, the
kernel's sentences, servers that cannot be used, cancelling, and the `event: tool` payloads."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.servers.mcp_server import RunningMcpServer, mcp_server, more_tools, tools
from workbench.cancel import CancelToken
from workbench.errors import InternalError, RunCancelled, ToolServerError
from workbench.tools import TOOL_EVENT, ToolBox, ToolOutcome, end_event, tool_event
from workbench.tools.kernel import descriptions_from_listing, outcome_from_result

#: Only so that a broken cancel fails the test instead of hanging it; not a timing claim.
NO_HANG = 20.0

ADD_SCHEMA = {
    "properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}},
    "required": ["a", "b"],
    "title": "addArguments",
    "type": "object",
}


@pytest.fixture(scope="module")
def first() -> Iterator[RunningMcpServer]:
    with mcp_server(tools) as server:
        yield server


@pytest.fixture(scope="module")
def second() -> Iterator[RunningMcpServer]:
    with mcp_server(more_tools) as server:
        yield server


@pytest.fixture
def toolbox(first: RunningMcpServer, second: RunningMcpServer) -> Iterator[ToolBox]:
    with ToolBox([first.url, second.url], timeout=10) as box:
        yield box


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def text(value: str) -> ToolOutcome:
    return ToolOutcome(contents=[{"type": "text", "text": value}])


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Start `call` on a thread of its own, as the CSI host's worker calls the tool box."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as error:
            result.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


# -- list_tools ----------------------------------------------------------------------------


def test_tools_of_every_server_are_listed_once_by_name(toolbox: ToolBox) -> None:
    listed = toolbox.list_tools()

    assert [tool["name"] for tool in listed] == [
        "add",
        "echo",
        "fail",
        "multiply",
        "picture",
        "slow",
    ]
    by_name = {tool["name"]: tool for tool in listed}
    assert by_name["add"] == {
        "name": "add",
        "description": "Add two numbers",
        "input_schema": ADD_SCHEMA,
    }
    assert by_name["multiply"]["description"] == "Multiply two numbers"
    # Both servers list echo: the one configured first serves it.
    assert by_name["echo"]["description"] == "Say the text back"
    for tool in listed:
        assert set(tool) == {"name", "description", "input_schema"}
        assert isinstance(tool["input_schema"], dict)
        assert json.loads(json.dumps(tool)) == tool  # JSON all the way down


def test_no_servers_means_no_tools() -> None:
    with ToolBox([]) as box:
        assert box.list_tools() == []
        assert box.invoke("add", {"a": 1, "b": 2}) == ToolOutcome(
            error="Tool add not found on any server."
        )


def test_the_tool_list_is_kept_until_it_is_due_for_a_refresh(first: RunningMcpServer) -> None:
    def shout(text: str) -> str:
        """Say it loudly"""
        return text.upper()

    with ToolBox([first.url]) as kept, ToolBox([first.url], refresh_after=0) as fresh:
        kept.list_tools()
        first.server.add_tool(shout)
        try:
            assert "shout" not in [tool["name"] for tool in kept.list_tools()]
            assert kept.invoke("shout", {"text": "hi"}).error == (
                "Tool shout not found on any server."
            )
            assert "shout" in [tool["name"] for tool in fresh.list_tools()]
            kept.forget()
            assert kept.invoke("shout", {"text": "hi"}) == text("HI")
        finally:
            first.server.remove_tool("shout")


# -- invoke --------------------------------------------------------------------------------


def test_a_call_answers_text(toolbox: ToolBox) -> None:
    assert toolbox.invoke("add", {"a": 1, "b": 2}) == text("3")
    assert toolbox.invoke("echo", {"text": "Grüße, 🐟"}) == text("Grüße, 🐟")
    assert toolbox.invoke("multiply", {"a": 6, "b": 7}) == text("42")


def test_the_server_configured_first_serves_a_name_both_list(
    first: RunningMcpServer, second: RunningMcpServer
) -> None:
    with ToolBox([second.url, first.url]) as box:
        assert box.invoke("echo", {"text": "hi"}) == text("second: hi")
        echo = next(tool for tool in box.list_tools() if tool["name"] == "echo")
        assert echo["description"] == "Say the text back, from the second server"


def test_a_tool_that_raises_gives_the_skill_its_message(toolbox: ToolBox) -> None:
    outcome = toolbox.invoke("fail", {"reason": "Out of cheese."})

    assert outcome == ToolOutcome(error="Error executing tool fail: Out of cheese.")
    assert not outcome.ok


def test_arguments_the_tool_refuses_are_the_tools_error(toolbox: ToolBox) -> None:
    outcome = toolbox.invoke("add", {"a": "one"})

    assert outcome.contents is None
    assert outcome.error is not None
    assert outcome.error.startswith("Error executing tool add: ")


def test_an_unknown_tool_gets_the_kernels_sentence(
    toolbox: ToolBox, first: RunningMcpServer
) -> None:
    calls = len(first.state.calls)

    assert toolbox.invoke("subtract", {"a": 1}) == ToolOutcome(
        error="Tool subtract not found on any server."
    )
    assert len(first.state.calls) == calls


def test_content_other_than_text_is_an_error_as_in_the_kernel(toolbox: ToolBox) -> None:
    outcome = toolbox.invoke("picture", {})

    assert outcome == ToolOutcome(
        error="The tool call could not be executed, original error: "
        "the tool answered with image content, and skills receive only text"
    )


def test_a_batch_is_answered_in_the_order_asked(toolbox: ToolBox) -> None:
    outcomes = toolbox.invoke_all(
        [
            ("slow", {"seconds": 0.5}),
            ("slow", {"seconds": 0.5}),
            ("add", {"a": 2, "b": 2}),
            ("nope", {}),
        ]
    )

    assert outcomes == [
        text("slept 0.5 s"),
        text("slept 0.5 s"),
        text("4"),
        ToolOutcome(error="Tool nope not found on any server."),
    ]


# -- servers that cannot be used -----------------------------------------------------------


def test_a_server_nobody_listens_on_is_one_sentence() -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    with ToolBox([url]) as box:
        for call in (box.list_tools, lambda: box.invoke("add", {"a": 1, "b": 2})):
            with pytest.raises(ToolServerError) as raised:
                call()
            assert str(raised.value) == (
                f"The MCP server at {url} could not be reached: "
                "start it, or fix its URL in the config."
            )


def test_a_server_that_is_down_does_not_stop_the_tools_of_another(
    first: RunningMcpServer,
) -> None:
    down = f"http://127.0.0.1:{free_port()}/mcp"
    with ToolBox([down, first.url]) as box:
        assert box.invoke("add", {"a": 1, "b": 2}) == text("3")
        # The server that is down might have had it: "not found" would be a guess.
        with pytest.raises(ToolServerError, match="could not be reached"):
            box.invoke("subtract", {"a": 1, "b": 2})


def test_a_url_that_is_not_the_mcp_endpoint_is_named(first: RunningMcpServer) -> None:
    url = first.url.removesuffix("/mcp") + "/nothing-here"
    with ToolBox([url]) as box, pytest.raises(ToolServerError) as raised:
        box.list_tools()

    assert str(raised.value) == (
        f"The MCP server at {url} refused the MCP handshake (Not Found): check that the URL "
        "is the server's MCP endpoint (often ending in /mcp)."
    )


def test_a_server_that_keeps_sessions_is_refused_as_the_kernel_cannot_use_it() -> None:
    with mcp_server(tools, stateful=True) as stateful, ToolBox([stateful.url]) as box:
        for call in (box.list_tools, lambda: box.invoke("add", {"a": 1, "b": 2})):
            with pytest.raises(ToolServerError, match="keeps sessions"):
                call()
        assert stateful.state.calls == []


def test_a_url_that_is_not_http_is_refused_at_once() -> None:
    with pytest.raises(ToolServerError, match="not an http:// or https:// address"):
        ToolBox(["localhost:8000/mcp"])


def test_a_call_past_the_time_limit_is_a_server_error(first: RunningMcpServer) -> None:
    with ToolBox([first.url], timeout=0.5) as box:
        box.list_tools()
        with pytest.raises(ToolServerError) as raised:
            box.invoke("slow", {"seconds": 5})
        assert str(raised.value) == (
            f"The MCP server at {first.url} did not answer within 0.5 s: check that it is "
            "running and not stuck, or allow tools more time."
        )
        assert box.invoke("add", {"a": 1, "b": 1}) == text("2")


# -- cancelling and closing ----------------------------------------------------------------


def test_cancelling_a_slow_call_stops_it_and_leaves_the_server_free(
    toolbox: ToolBox, first: RunningMcpServer
) -> None:
    first.state.slow_started.clear()
    token = CancelToken()
    thread, result = in_thread(lambda: toolbox.invoke("slow", {"seconds": 60}, token))
    assert first.state.slow_started.wait(NO_HANG)

    token.cancel()
    thread.join(NO_HANG)

    assert not thread.is_alive()
    assert isinstance(result[0], RunCancelled)
    assert str(result[0]) == f"The call to the MCP server at {first.url} was cancelled."
    assert toolbox.invoke("add", {"a": 1, "b": 2}) == text("3")


def test_a_call_cancelled_before_it_starts_sends_nothing(
    toolbox: ToolBox, first: RunningMcpServer
) -> None:
    toolbox.list_tools()
    calls = len(first.state.calls)
    token = CancelToken()
    token.cancel()

    with pytest.raises(RunCancelled):
        toolbox.invoke("add", {"a": 1, "b": 2}, token)
    with pytest.raises(RunCancelled):
        ToolBox([first.url]).list_tools(token)
    assert len(first.state.calls) == calls


def test_closing_cancels_a_running_call_and_ends_the_loop_thread(
    first: RunningMcpServer,
) -> None:
    first.state.slow_started.clear()
    box = ToolBox([first.url])
    thread, result = in_thread(lambda: box.invoke("slow", {"seconds": 60}))
    assert first.state.slow_started.wait(NO_HANG)

    box.close()
    thread.join(NO_HANG)

    assert not thread.is_alive()
    assert isinstance(result[0], RunCancelled)
    assert not [t for t in threading.enumerate() if t.name == "mcp-tools" and t.is_alive()]
    with pytest.raises(InternalError):
        box.list_tools()


# -- what the kernel makes of answers, and its events ---------------------------------------


def test_tool_events_are_the_kernels_message_stream_payloads() -> None:
    def wire(payload: dict[str, str]) -> str:  # serde_json's compact form
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)

    assert TOOL_EVENT == "tool"
    assert wire(tool_event("begin", "add")) == '{"type":"begin","name":"add"}'
    assert wire(tool_event("end", "add")) == '{"type":"end","name":"add"}'
    assert (
        wire(tool_event("error", "add", "Out of cheese"))
        == '{"type":"error","name":"add","message":"Out of cheese"}'
    )
    assert end_event("add", text("3")) == {"type": "end", "name": "add"}
    assert end_event("add", ToolOutcome(error="Out of cheese")) == {
        "type": "error",
        "name": "add",
        "message": "Out of cheese",
    }


def test_answers_are_read_as_strictly_as_the_kernel_reads_them() -> None:
    texts = [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]

    assert outcome_from_result({"content": texts, "isError": True}) == ToolOutcome(
        error="one\n\ntwo"
    )
    assert outcome_from_result({"content": [], "isError": False}) == ToolOutcome(contents=[])
    missing = outcome_from_result({"content": texts})
    assert missing.error == (
        "The tool call could not be executed, original error: "
        "the MCP server's tool result has no isError field, which the Pharia Kernel needs"
    )
    listing = {"tools": [{"name": "add", "inputSchema": {"type": "object"}}]}
    with pytest.raises(ToolServerError) as raised:
        descriptions_from_listing("http://127.0.0.1:1/mcp", listing)
    assert str(raised.value) == (
        "The MCP server at http://127.0.0.1:1/mcp lists a tool 'add' without a description, "
        "and the Pharia Kernel then ignores all of its tools: give every tool a description."
    )
