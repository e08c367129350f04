"""Running the app with uvicorn: in this thread until Ctrl+C (the CLI), or in a background
thread until `stop()` (the terminal app, the tests).

The socket is bound here, before uvicorn starts, so a port in use is one sentence and port 0
gets a free port whose number is known at once. Skill runs wait on threads (the runner's
pipes, the model): the loop gets a thread pool big enough for the runs the server allows
at once and the calls beside them, instead of asyncio's default of a few per CPU.

A second app (OTLP/HTTP traces, on the exporters' own port) can be served beside the first,
by a second uvicorn server in the same loop: the first owns the signals and the stop, the
second follows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp

from workbench.errors import UsageError
from workbench.serve.kernel import DEFAULT_HOST

#: Threads for the loop's blocking work: runs in flight, their CSI calls, registry pulls.
THREADS = 64
#: How long a stop waits for requests in flight (a skill's stream) before cutting them.
GRACE_SECONDS = 3.0
_START_TIMEOUT = 30.0


def bind(host: str, port: int, option: str = "--port") -> socket.socket:
    """A listening socket on host:port; UsageError (naming `option`) when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said, not left 0: asyncio sets TCP_NODELAY only on sockets that say it,
    # and without it each answer written in two parts waits out the client's delayed ACK
    # (40 ms a request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise UsageError(
                f"Port {port} on {host} is in use (a kernel, or another `workbench serve`?); "
                f"pass {option} with another port."
            ) from None
        raise UsageError(f"Cannot listen on {host}:{port} ({error.strerror or error}).") from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _Follower(uvicorn.Server):
    """A server beside the first: it leaves Ctrl+C and SIGTERM to the first one (two
    servers taking the same signal handlers would each restore the other's)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(app: ASGIApp, kind: type[uvicorn.Server] = uvicorn.Server) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,  # the RequestLog is the access log
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    return kind(config)


Beside = tuple[uvicorn.Server, socket.socket]


async def _serve(server: uvicorn.Server, sock: socket.socket, beside: Beside | None) -> None:
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(THREADS, thread_name_prefix="serve")
    loop.set_default_executor(executor)
    follower = None if beside is None else asyncio.create_task(_follow(server, *beside))
    try:
        await server.serve(sockets=[sock])
    finally:
        if beside is not None and follower is not None:
            beside[0].should_exit = True
            # Not `await follower`: its failure must not hide the first server's.
            await asyncio.wait([follower])
        executor.shutdown(wait=False, cancel_futures=True)


async def _follow(leader: uvicorn.Server, other: uvicorn.Server, sock: socket.socket) -> None:
    """Serve `other` until `leader` is told to stop, so that both wind down at once."""

    async def watch() -> None:
        while not leader.should_exit:
            await asyncio.sleep(0.05)
        other.should_exit = True

    watcher = asyncio.create_task(watch())
    try:
        await other.serve(sockets=[sock])
    finally:
        watcher.cancel()


def serve_here(
    app: ASGIApp,
    sock: socket.socket,
    otlp: ASGIApp | None = None,
    otlp_sock: socket.socket | None = None,
) -> None:
    """Serve on `sock` (and `otlp` on `otlp_sock`) in this thread until Ctrl+C or SIGTERM.
    uvicorn stops gracefully, then raises the signal again: the caller sees
    KeyboardInterrupt for Ctrl+C."""
    server = _server(app)
    beside = _beside(otlp, otlp_sock)
    try:
        asyncio.run(_serve(server, sock, beside))
    finally:
        sock.close()
        if otlp_sock is not None:
            otlp_sock.close()


def _beside(app: ASGIApp | None, sock: socket.socket | None) -> Beside | None:
    return None if app is None or sock is None else (_server(app, _Follower), sock)


@dataclass
class BackgroundServer:
    """A server running in a thread of its own; `stop()` ends it and waits."""

    url: str
    _server: uvicorn.Server
    _thread: threading.Thread
    _sock: socket.socket
    _errors: list[BaseException] = field(default_factory=list)
    #: Where OTLP/HTTP traces are taken, when served on a port of their own.
    otlp_url: str | None = None
    _otlp_sock: socket.socket | None = None

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(GRACE_SECONDS + 10)
        for sock in (self._sock, self._otlp_sock):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_background(
    app: ASGIApp,
    host: str = DEFAULT_HOST,
    port: int = 0,
    *,
    otlp: ASGIApp | None = None,
    otlp_port: int = 0,
) -> BackgroundServer:
    """Start serving in a daemon thread and return once it answers (port 0: a free one);
    with `otlp`, that app too, on `otlp_port` (0: a free one)."""
    sock = bind(host, port)
    try:
        otlp_sock = bind(host, otlp_port, "--otlp-port") if otlp is not None else None
    except UsageError:
        sock.close()
        raise
    server = _server(app)
    beside = _beside(otlp, otlp_sock)
    errors: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(_serve(server, sock, beside))
        except BaseException as error:  # said by the caller waiting for the start
            errors.append(error)

    thread = threading.Thread(target=main, name="workbench-serve", daemon=True)
    thread.start()
    waited = threading.Event()
    servers = [server] if beside is None else [server, beside[0]]
    for _ in range(int(_START_TIMEOUT / 0.01)):
        if all(s.started for s in servers) or errors or not thread.is_alive():
            break
        waited.wait(0.01)
    if not all(s.started for s in servers):
        for s in servers:
            s.should_exit = True
        sock.close()
        if otlp_sock is not None:
            otlp_sock.close()
        raise UsageError(
            f"The server did not start ({errors[0] if errors else 'no answer'}); try another "
            "--port."
        )
    return BackgroundServer(
        url_of(sock),
        server,
        thread,
        sock,
        errors,
        url_of(otlp_sock) if otlp_sock is not None else None,
        otlp_sock,
    )
