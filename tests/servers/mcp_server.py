"""Real MCP servers on loopback, made with the official SDK's `MCPServer` (FastMCP before mcp 2)
and served over streamable HTTP by uvicorn on a thread: `tools` with add, echo, fail, slow and
picture, and `more_tools` with multiply and an echo of its own (two servers listing one name).

Stateless by default, as the kernel's own test server is (`crates/test-skills/src/mcp_server.py`
in pharia-engine): the kernel keeps no MCP session, so a server that keeps sessions is of no
use to it; `stateful=True` makes one of those.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio
import uvicorn
from mcp.server.mcpserver import Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

__all__ = ["McpServerState", "RunningMcpServer", "mcp_server", "more_tools", "tools"]

#: The bytes of the smallest PNG there is: enough for an image content item.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class McpServerState:
    #: Tool calls that reached a tool, by name, in order.
    calls: list[str] = field(default_factory=list)
    #: Set when `slow` has begun, so a test can cancel a call that is surely under way.
    slow_started: threading.Event = field(default_factory=threading.Event)


def tools(state: McpServerState) -> MCPServer:
    # WARNING: MCPServer configures the root logger at its level when made.
    server = MCPServer("workbench-test-tools", log_level="WARNING")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers"""
        state.calls.append("add")
        return a + b

    @server.tool()
    def echo(text: str) -> str:
        """Say the text back"""
        state.calls.append("echo")
        return text

    @server.tool()
    def fail(reason: str) -> str:
        """Fail with the reason given"""
        state.calls.append("fail")
        # Only a ToolError's text reaches the client; any other exception is reported as
        # "Error executing tool fail" alone (mcp 2).
        raise ToolError(reason)

    @server.tool()
    async def slow(seconds: float) -> str:
        """Answer after the given number of seconds"""
        state.calls.append("slow")
        state.slow_started.set()
        await anyio.sleep(seconds)
        return f"slept {seconds:g} s"

    @server.tool()
    def picture() -> Image:
        """A one-pixel picture"""
        state.calls.append("picture")
        return Image(data=_PNG, format="png")

    return server


def more_tools(state: McpServerState) -> MCPServer:
    server = MCPServer("workbench-test-more-tools", log_level="WARNING")

    @server.tool()
    def multiply(a: int, b: int) -> int:
        """Multiply two numbers"""
        state.calls.append("multiply")
        return a * b

    @server.tool()
    def echo(text: str) -> str:
        """Say the text back, from the second server"""
        state.calls.append("echo")
        return f"second: {text}"

    return server


@dataclass
class RunningMcpServer:
    state: McpServerState
    #: The MCP endpoint, e.g. http://127.0.0.1:40123/mcp
    url: str
    #: The server itself: a test can add or remove tools while it runs.
    server: MCPServer


@contextmanager
def mcp_server(
    make: Callable[[McpServerState], MCPServer] = tools, *, stateful: bool = False
) -> Iterator[RunningMcpServer]:
    """Serve the tools `make(state)` returns on a free loopback port for the `with` block."""
    state = McpServerState()
    server = make(state)
    app = server.streamable_http_app(stateless_http=not stateful)
    # Bound here, so the port is known before uvicorn starts and no other test can take it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",  # the SDK's session manager runs in the app's lifespan
        # A call the client gave up on (a cancelled `slow`) must not hold the shutdown.
        timeout_graceful_shutdown=1,
    )
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(
        target=uvicorn_server.run, kwargs={"sockets": [sock]}, name="mcp-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test MCP server did not start")
        time.sleep(0.01)
    try:
        yield RunningMcpServer(state, f"http://127.0.0.1:{sock.getsockname()[1]}/mcp", server)
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        sock.close()
