"""The async side of the tool box: one exchange with an MCP server over the official SDK's
streamable HTTP transport, the way the Pharia Kernel has it (`src/mcp/client.rs`): a fresh
`initialize` handshake, then one `tools/list` or `tools/call`, through one shared HTTP client
(the kernel's one `reqwest::Client`). No MCP session outlives the exchange, as in the kernel.

The MCP SDK is slow to import (about a second: httpx2, pydantic, starlette): `ToolBox` imports
this module with its first call, on its event loop thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import TypeAdapter, ValidationError

from workbench.errors import ToolServerError
from workbench.tools.kernel import (
    ToolOutcome,
    descriptions_from_listing,
    outcome_from_result,
    runtime_error,
)

# The SDK logs what it then raises ("Unexpected content type: text/html"); with logging left
# unconfigured, as the workbench leaves it, Python would print that on stderr, over the app.
logging.getLogger("mcp").addHandler(logging.NullHandler())

# The answer as it came, not the SDK's model of it: the kernel parses the raw JSON, and its
# rules (required `isError`, text only) are applied to that in `kernel`.
_RAW: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
_CLIENT_INFO = types.Implementation(name="skill-workbench", version="1")
_SESSION_HEADER = "mcp-session-id"
#: Session ids the server handed out during the current exchange. The SDK runs each HTTP
#: request in the context of the task that sent the message, so the response hook sees it.
_sessions_given: ContextVar[list[str] | None] = ContextVar("sessions_given", default=None)


def http_client(timeout: float) -> httpx2.AsyncClient:
    """The one HTTP client of a tool box's exchanges (enter it on the loop that uses it)."""
    return httpx2.AsyncClient(
        timeout=httpx2.Timeout(timeout), event_hooks={"response": [_note_session]}
    )


class McpExchanges:
    """Exchanges with MCP servers through one `http_client`; lives on one event loop."""

    def __init__(self, http: httpx2.AsyncClient, timeout: float) -> None:
        self.http = http
        self.timeout = timeout

    async def list_tools(self, url: str) -> list[dict[str, Any]]:
        """The server's tool descriptions, or ToolServerError."""
        answer = await self._exchange(url, types.ListToolsRequest())
        if isinstance(answer, str):
            raise ToolServerError(
                f"The MCP server at {url} refused to list its tools ({answer}): "
                "check that the URL points at an MCP server."
            )
        return descriptions_from_listing(url, answer)

    async def list_many(self, urls: Sequence[str]) -> list[list[dict[str, Any]] | ToolServerError]:
        """Every server's descriptions (or its error), fetched at once, in the order given."""
        found: list[list[dict[str, Any]] | ToolServerError] = [[] for _ in urls]

        async def one(index: int, url: str) -> None:
            try:
                found[index] = await self.list_tools(url)
            except ToolServerError as error:  # one server down must not cancel the others
                found[index] = error

        async with anyio.create_task_group() as group:
            for index, url in enumerate(urls):
                group.start_soon(one, index, url)
        return found

    async def call_tool(self, url: str, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """The skill's outcome of one call, or ToolServerError if the server could not be used."""
        request = types.CallToolRequest(
            params=types.CallToolRequestParams(name=name, arguments=arguments)
        )
        answer = await self._exchange(url, request)
        if isinstance(answer, str):
            # The server answered the call with a JSON-RPC error: the kernel finds no result
            # in it and hands the skill a runtime error.
            return ToolOutcome(error=runtime_error(answer))
        return outcome_from_result(answer)

    async def _exchange(self, url: str, request: Any) -> dict[str, Any] | str:
        """Handshake, then `request`: its raw result, or the message of the JSON-RPC error
        (or unreadable answer) the server gave that request. A failure to connect, a refused
        handshake, a cut connection or the time limit is a ToolServerError."""
        sessions: list[str] = []
        _sessions_given.set(sessions)  # this task's own context: concurrent exchanges differ
        try:
            with anyio.fail_after(self.timeout):
                transport = streamable_http_client(url, http_client=self.http)
                async with Client(
                    transport, mode="legacy", cache=None, client_info=_CLIENT_INFO
                ) as client:
                    _refuse_sessions(url, sessions)
                    try:
                        return await client.session.send_request(request, _RAW)
                    except MCPError as error:
                        return error.message
                    except ValidationError:
                        return "its answer is not a valid MCP result"
        except Exception as error:  # the SDK's task groups wrap what failed: find it
            raise _server_error(url, error, self.timeout) from None


def _refuse_sessions(url: str, sessions: list[str]) -> None:
    # The kernel ignores Mcp-Session-Id, so a server that keeps sessions rejects its next
    # message ("Missing session ID") and the kernel lists none of its tools.
    if sessions:
        raise ToolServerError(
            f"The MCP server at {url} keeps sessions, which the Pharia Kernel does not support "
            "(it would use none of its tools): run it stateless, e.g. with stateless_http=True "
            "in the Python MCP SDK."
        )


async def _note_session(response: httpx2.Response) -> None:
    sessions = _sessions_given.get()
    if sessions is not None and (session := response.headers.get(_SESSION_HEADER)):
        sessions.append(session)


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _server_error(url: str, error: BaseException, timeout: float) -> ToolServerError:
    """One sentence for what broke, from the first real cause in the SDK's exception groups."""
    leaf = _leaves(error)[0]
    if isinstance(leaf, ToolServerError):  # ours, raised inside the SDK's context managers
        return leaf
    if isinstance(leaf, TimeoutError | httpx2.TimeoutException):
        return ToolServerError(
            f"The MCP server at {url} did not answer within {timeout:g} s: check that it is "
            "running and not stuck, or allow tools more time."
        )
    if isinstance(leaf, httpx2.ConnectError):
        return ToolServerError(
            f"The MCP server at {url} could not be reached: start it, or fix its URL in the config."
        )
    if isinstance(leaf, MCPError):
        # The SDK turns an HTTP error status into an MCPError (404 becomes "Not Found").
        return ToolServerError(
            f"The MCP server at {url} refused the MCP handshake ({leaf.message}): check that "
            "the URL is the server's MCP endpoint (often ending in /mcp)."
        )
    if isinstance(leaf, httpx2.HTTPError):
        return ToolServerError(
            f"The connection to the MCP server at {url} broke ({_detail(leaf)}): "
            "check that the server is running, then try again."
        )
    return ToolServerError(
        f"The MCP server at {url} broke the MCP protocol ({_detail(leaf)}): "
        "check that the URL points at an MCP server."
    )


def _detail(error: BaseException) -> str:
    # pydantic's messages run to many lines; the first says what it is.
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__
