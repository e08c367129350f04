"""The tools of a namespace's MCP servers, served synchronously to the CSI host's threads, as
the Pharia Kernel serves `list-tools` and `invoke-tool` (`src/tool/*`, `src/mcp/*`).

What the kernel does, and so this does:
* It keeps each server's tool list and refreshes it every 60 s (`McpServerStore`); calls are
  answered from that list. Here a list older than `refresh_after` is fetched again when next
  needed (the kernel refreshes in the background instead).
* The namespace's tools are one map by name (`ToolsInNamespace`), listed sorted by name. When
  two servers list the same name only one of them serves it; which one is arbitrary in the
  kernel (a HashSet's order), here it is the server configured first, for listing and calling.
* A name no server lists gets `err("Tool {name} not found on any server.")` without any call.
* Every call is a fresh `initialize` handshake and one `tools/call` (no session kept).

Where the kernel would hand the skill a vague `err` or quietly list no tools, because a server
is down, refuses the handshake, keeps sessions or lists a tool without a description, this
raises `workbench.errors.ToolServerError` with one sentence that names the server and what to
do: the workbench exists to find such problems before a deploy does.

Threading: one event loop thread per ToolBox (an anyio blocking portal, started with the first
call), with one HTTP client whose connection pool outlives the calls; each call is a task on it
that a CancelToken cancels. Measured on loopback against a stateless server: ~14 ms a call,
against ~35-47 ms for a fresh event loop and client per call (`anyio.run`); keeping the MCP
session as well would take ~5 ms, but the kernel keeps none, and state a server keeps in a
session would then carry over between calls here and not there.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import CancelledError, Future
from contextlib import ExitStack, suppress
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from workbench.cancel import CancelToken
from workbench.errors import InternalError, RunCancelled, ToolServerError
from workbench.tools.kernel import ToolOutcome, tool_not_found

if TYPE_CHECKING:
    from anyio.abc import TaskStatus
    from anyio.from_thread import BlockingPortal

    from workbench.tools.mcp_exchange import McpExchanges

T = TypeVar("T")

#: The kernel's `check_interval` for refreshing a server's tool list (`Mcp::from_subscriber`).
KERNEL_REFRESH_SECONDS = 60.0


class ToolBox:
    """The tools of `servers` (MCP endpoint URLs, e.g. http://127.0.0.1:8000/mcp).

    Thread-safe; `close()` (or leaving a `with` block) stops its event loop thread.
    """

    def __init__(
        self,
        servers: Sequence[str],
        timeout: float = 30,
        *,
        refresh_after: float = KERNEL_REFRESH_SECONDS,
    ) -> None:
        for url in servers:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ToolServerError(
                    f"The MCP server URL {url!r} is not an http:// or https:// address: "
                    "fix it in the config (e.g. http://127.0.0.1:8000/mcp)."
                )
        # A namespace's servers are a set in the kernel: a URL given twice is one server.
        self.servers = tuple(dict.fromkeys(servers))
        self.timeout = timeout
        self.refresh_after = refresh_after
        self._lock = threading.Lock()
        #: url -> (time.monotonic() when fetched, the server's descriptions)
        self._listings: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._stack: ExitStack | None = None
        self._portal: BlockingPortal | None = None
        self._exchanges: McpExchanges | None = None
        self._closed = False

    # -- the CSI's two functions ---------------------------------------------------------

    def list_tools(self, cancel: CancelToken | None = None) -> list[dict[str, Any]]:
        """`/csi/v1/list_tools`: `[{"name", "description", "input_schema"}]`, sorted by name."""
        self._check_open()
        listings = {url: self._cached(url) for url in self.servers}
        stale = [url for url, listing in listings.items() if listing is None]
        if stale:
            found = self._run(lambda tools: tools.list_many(stale), cancel, "the MCP servers")
            for url, listing in zip(stale, found, strict=True):
                if isinstance(listing, ToolServerError):
                    raise listing  # the first server in the config's order that failed
                listings[url] = self._remember(url, listing)
        by_name: dict[str, dict[str, Any]] = {}
        for listing in listings.values():
            for tool in listing or []:
                by_name.setdefault(tool["name"], tool)  # the first server to list a name has it
        # Copies: a caller may change what it gets, the cache must not change with it.
        return [copy.deepcopy(by_name[name]) for name in sorted(by_name)]

    def invoke(
        self, name: str, arguments: dict[str, Any], cancel: CancelToken | None = None
    ) -> ToolOutcome:
        """One `invoke-tool` request: the skill's `ok` contents or `err` string.

        Raises ToolServerError when a server cannot be used, RunCancelled when cancelled."""
        self._check_open()
        url = self._server_of(name, cancel)
        if url is None:
            return ToolOutcome(error=tool_not_found(name))
        return self._run(
            lambda tools: tools.call_tool(url, name, arguments), cancel, f"the MCP server at {url}"
        )

    def invoke_all(
        self, calls: Sequence[tuple[str, dict[str, Any]]], cancel: CancelToken | None = None
    ) -> list[ToolOutcome]:
        """A whole `invoke-tool` batch, run at once and answered in order, as the kernel does
        (`RawCsi::invoke_tool`, `join_all`)."""
        results: list[ToolOutcome | BaseException] = [ToolOutcome() for _ in calls]

        def one(index: int, name: str, arguments: dict[str, Any]) -> None:
            try:
                results[index] = self.invoke(name, arguments, cancel)
            except BaseException as error:  # handed to the caller below
                results[index] = error

        threads = [
            threading.Thread(target=one, args=(index, *call), name="tool-call", daemon=True)
            for index, call in enumerate(calls)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcomes = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            outcomes.append(result)
        return outcomes

    def forget(self) -> None:
        """Drop the cached tool lists: the next call asks every server again."""
        with self._lock:
            self._listings.clear()

    def close(self) -> None:
        """Stop the event loop thread; a call still running is cancelled (RunCancelled)."""
        with self._lock:
            self._closed = True
            portal, stack = self._portal, self._stack
            self._portal = self._stack = self._exchanges = None
        if portal is not None and stack is not None:
            with suppress(RuntimeError):  # already stopped
                portal.call(portal.stop, True)
            stack.close()

    def __enter__(self) -> ToolBox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- lists ---------------------------------------------------------------------------

    def _cached(self, url: str) -> list[dict[str, Any]] | None:
        with self._lock:
            entry = self._listings.get(url)
        if entry is None or time.monotonic() - entry[0] >= self.refresh_after:
            return None
        return entry[1]

    def _remember(self, url: str, listing: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            self._listings[url] = (time.monotonic(), listing)
        return listing

    def _server_of(self, name: str, cancel: CancelToken | None) -> str | None:
        """The first configured server that lists `name`, asking each in turn only as far as
        needed; if none does and one could not be asked, its error (it may be the one)."""
        failures: list[ToolServerError] = []
        for url in self.servers:
            listing = self._cached(url)
            if listing is None:
                try:
                    listing = self._run(
                        lambda tools, url=url: tools.list_tools(url),
                        cancel,
                        f"the MCP server at {url}",
                    )
                except ToolServerError as error:
                    failures.append(error)
                    continue
                listing = self._remember(url, listing)
            if any(tool["name"] == name for tool in listing):
                return url
        if failures:
            raise failures[0]
        return None

    # -- the event loop thread -----------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise InternalError("The tool box was used after it was closed.")

    def _start(self) -> tuple[BlockingPortal, McpExchanges]:
        with self._lock:
            self._check_open()
            if self._portal is not None and self._exchanges is not None:
                return self._portal, self._exchanges
            from anyio.from_thread import start_blocking_portal

            stack = ExitStack()
            portal = stack.enter_context(start_blocking_portal(name="mcp-tools"))
            try:
                _, exchanges = portal.start_task(_hold_exchanges, self.timeout)
            except BaseException:
                stack.close()
                raise
            self._stack, self._portal, self._exchanges = stack, portal, exchanges
            return portal, exchanges

    def _run(
        self,
        work: Callable[[McpExchanges], Awaitable[T]],
        cancel: CancelToken | None,
        what: str,
    ) -> T:
        """Run `work(exchanges)` on the loop thread and wait for it; a cancel stops the wait
        at once and cancels the task (its connection is closed, not reused)."""
        cancelled = f"The call to {what} was cancelled."
        if cancel is not None and cancel.is_cancelled:
            raise RunCancelled(cancelled)
        portal, exchanges = self._start()
        try:
            future: Future[T] = portal.start_task_soon(work, exchanges)
        except RuntimeError:  # closed meanwhile: the portal has stopped
            raise RunCancelled(cancelled) from None
        stop_listening = cancel.add_listener(future.cancel) if cancel is not None else None
        try:
            return future.result()
        except CancelledError:
            raise RunCancelled(cancelled) from None
        finally:
            if stop_listening is not None:
                stop_listening()


async def _hold_exchanges(timeout: float, *, task_status: TaskStatus[McpExchanges]) -> None:
    """Own the loop's one HTTP client for the portal's life: stopping the portal cancels this
    task, which closes the client and its pooled connections."""
    import anyio

    from workbench.tools.mcp_exchange import McpExchanges, http_client

    async with http_client(timeout) as http:
        task_status.started(McpExchanges(http, timeout))
        await anyio.sleep_forever()
