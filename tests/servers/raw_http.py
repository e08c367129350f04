"""A loopback server that misbehaves on purpose at the byte level (a slow drip, an endless
body, a redirect, an error that echoes the request's headers): what a real model server does
on a bad day, which a well-behaved HTTP framework will not do for a test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Gets the request head (bytes up to the blank line) and the client socket; answers.
Behaviour = Callable[[bytes, socket.socket], None]


@contextmanager
def raw_server(behaviour: Behaviour) -> Iterator[str]:
    """Serve `behaviour` on loopback; yields the base URL. Every connection gets a thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve(client: socket.socket) -> None:
        with client:
            client.settimeout(10)
            head = b""
            try:
                while b"\r\n\r\n" not in head:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                behaviour(head, client)
            except OSError:
                pass  # the client hung up: that is what these tests provoke

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        acceptor.join(timeout=2)
        listener.close()


def drip(every: float, count: int = 200) -> Behaviour:
    """Headers, then one byte of body every `every` seconds (bounded)."""

    def behave(_head: bytes, client: socket.socket) -> None:
        client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        client.sendall(b"Content-Length: 1000000\r\n\r\n")
        for _ in range(count):
            client.sendall(b" ")
            time.sleep(every)

    return behave


def endless_body(total: int = 2 << 30) -> Behaviour:
    """Claims and starts sending `total` bytes (2 GB by default) until the client hangs up."""

    def behave(_head: bytes, client: socket.socket) -> None:
        client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        client.sendall(f"Content-Length: {total}\r\n\r\n".encode())
        block = b"[" * (1 << 20)
        for _ in range(total >> 20):
            client.sendall(block)

    return behave


def redirect(location: str) -> Behaviour:
    def behave(_head: bytes, client: socket.socket) -> None:
        client.sendall(
            f"HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\n"
            "Content-Length: 0\r\n\r\n".encode()
        )

    return behave


def echo_headers_in_error(_head: bytes, client: socket.socket) -> None:
    """A 400 whose JSON error message repeats every request header, Authorization included."""
    lines = _head.decode("latin-1").split("\r\n\r\n")[0].split("\r\n")[1:]
    lines.sort(key=lambda line: not line.lower().startswith("authorization"))  # key first
    headers = " | ".join(lines).replace('"', "'")
    body = f'{{"error": {{"message": "bad request; you sent: {headers}"}}}}'.encode()
    client.sendall(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
