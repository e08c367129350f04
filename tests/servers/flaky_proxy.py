"""A TCP proxy on loopback that cuts one connection once it has carried N bytes upstream:
a push interrupted half-way, as a flaky network or a proxy's body limit does it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field


@dataclass
class ProxyState:
    cut_after: int
    cuts_left: int = 1
    cuts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _pipe(source: socket.socket, target: socket.socket, state: ProxyState | None) -> None:
    carried = 0
    try:
        while data := source.recv(65536):
            carried += len(data)
            if state is not None and carried > state.cut_after:
                with state.lock:
                    cut = state.cuts_left > 0
                    if cut:
                        state.cuts_left -= 1
                        state.cuts += 1
                if cut:
                    break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@contextmanager
def flaky_proxy(upstream: str, cut_after: int) -> Iterator[tuple[str, ProxyState]]:
    host, port = upstream.rsplit(":", 1)
    state = ProxyState(cut_after)
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection((host, int(port)))
            threading.Thread(target=_pipe, args=(client, server, state), daemon=True).start()
            threading.Thread(target=_pipe, args=(server, client, None), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}", state
    finally:
        stopping.set()
        listener.close()
