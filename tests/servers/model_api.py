"""Real HTTP servers on loopback that speak the OpenAI and Aleph Alpha request and response
shapes (from their public API references), with switchable failures for the tests.

What they answer is made from the request alone, in `model_replies`. Streams go out as
server-sent events, one chunked write each, `stream_delay` apart; with a `stream_gate`, the
server waits for it after the first event, so a test can show that the first event arrived
while the rest was still unsent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.servers import model_replies as replies
from tests.servers.model_replies import reply_for

__all__ = [
    "AlephAlphaApi",
    "ModelServerState",
    "OpenAIApi",
    "Recorded",
    "RunningServer",
    "model_server",
    "reply_for",
]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    #: When it arrived (time.monotonic), so a test can tell what came after a cancel.
    at: float = field(default_factory=time.monotonic)


@dataclass
class ModelServerState:
    api_key: str | None = None
    models: tuple[str, ...] = ("luminous-extended-control", "luminous-base", "gpt-4o-mini")
    #: Failures to serve before answering normally, e.g. ["429", "500"]; "always:503" repeats.
    failures: list[str] = field(default_factory=list)
    slow_seconds: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    #: TCP connections open right now (a client's keep-alive ones included).
    live_connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Seconds between two events of a stream.
    stream_delay: float = 0.0
    #: If given, a stream waits for it (at most 10 s) after its first event.
    stream_gate: threading.Event | None = None
    #: Events written so far, and streams written to their end.
    events_sent: int = 0
    streams_finished: int = 0
    #: Aleph Alpha: the tokenizer JSON text served at `/models/{model}/tokenizer`, by model.
    tokenizers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Keep-alive, as real model servers do: a client must close its connections itself.
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        state.requests.append(Recorded(method, self.path, dict(self.headers), body))
        if state.slow_seconds:
            time.sleep(state.slow_seconds)
        if state.failures:
            failure = state.failures[0]
            if not failure.startswith("always:"):
                state.failures.pop(0)
            self._fail(failure.removeprefix("always:"))
            return
        if state.api_key and self.headers.get("Authorization") != f"Bearer {state.api_key}":
            self._send(401, self.server.api.unauthorized())
            return
        self.server.api.answer(self, method, self.path, body)

    def _fail(self, failure: str) -> None:
        if failure == "malformed":
            self._send_raw(200, b"{not json", "application/json")
        elif failure == "drop":
            self.close_connection = True
            self.connection.close()
        else:
            headers = {"Retry-After": "0"} if failure == "429" else {}
            self._send(int(failure), {"error": {"message": f"test failure {failure}"}}, headers)

    def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(data).encode(), "application/json", headers)

    def _send_raw(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def send_events(self, events: list[Any], *, done_marker: bool) -> None:
        """Each event as `data: <json>` and an empty line, in a chunk of its own, flushed."""
        state = self.server.state
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        payloads = [f"data: {json.dumps(event)}\n\n" for event in events]
        if done_marker:
            payloads.append("data: [DONE]\n\n")
        for n, payload in enumerate(payloads):
            if n == 1 and state.stream_gate is not None:
                state.stream_gate.wait(10)
            elif n and state.stream_delay:
                time.sleep(state.stream_delay)
            with state.lock:  # counted first: a client may read it before the write returns
                state.events_sent += 1
            self._chunk(payload.encode())
        self._chunk(b"")
        with state.lock:
            state.streams_finished += 1

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _not_found(handler: _Handler, model: str, error: Any) -> bool:
    """Answer 404 when `model` is not served; True if it did."""
    if model in handler.server.state.models:
        return False
    handler._send(404, error)
    return True


class OpenAIApi:
    """`GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/completions` (both streamed
    with `"stream": true`)."""

    prefix = "/v1"

    def unauthorized(self) -> Any:
        return {
            "error": {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        }

    def answer(self, handler: _Handler, method: str, path: str, body: Any) -> None:
        state = handler.server.state
        if method == "GET" and path == "/v1/models":
            handler._send(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": 0, "owned_by": "test"}
                        for m in state.models
                    ],
                },
            )
            return
        if method != "POST" or path not in ("/v1/chat/completions", "/v1/completions"):
            handler._send(404, {"error": {"message": f"Unknown path {path}"}})
            return
        model = body.get("model")
        missing = {
            "message": f"The model `{model}` does not exist",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
        if _not_found(handler, model, {"error": missing}):
            return
        served = f"{model}-0125"
        if path == "/v1/chat/completions":
            _answer_chat(handler, body, served)
        else:
            _answer(handler, body, replies.text_completion(body, served), done_marker=True)


def _answer(handler: _Handler, body: Any, reply: list[Any], *, done_marker: bool) -> None:
    """A streamed reply's events, or a whole reply (the one item of `reply`)."""
    if body.get("stream"):
        handler.send_events(reply, done_marker=done_marker)
    else:
        handler._send(200, reply[0])


def _answer_chat(handler: _Handler, body: Any, served_model: str) -> None:
    if body.get("stream"):
        handler.send_events(replies.chat_chunks(body, served_model), done_marker=True)
    else:
        handler._send(200, replies.chat_completion(body, served_model))


class AlephAlphaApi:
    """`GET /models_available`, `GET /models/{model}/tokenizer`, `POST /complete` (streamed
    with `"stream": true`), `POST /explain`, `POST /chat/completions`."""

    prefix = ""

    def unauthorized(self) -> Any:
        return {"error": "Unauthenticated", "code": "UNAUTHENTICATED"}

    def answer(self, handler: _Handler, method: str, path: str, body: Any) -> None:
        state = handler.server.state
        if method == "GET" and path == "/models_available":
            handler._send(
                200,
                [
                    {
                        "name": m,
                        "description": "test model",
                        "max_context_size": 2048,
                        "hostings": ["aleph-alpha"],
                    }
                    for m in state.models
                ],
            )
            return
        if method == "GET" and path.startswith("/models/") and path.endswith("/tokenizer"):
            model = unquote(path.removeprefix("/models/").removesuffix("/tokenizer"))
            tokenizer = state.tokenizers.get(model)
            if tokenizer is None:
                handler._send(404, {"error": f"Model {model} not found", "code": "NOT_FOUND"})
            else:
                handler._send_raw(200, tokenizer.encode(), "application/json")
            return
        if method != "POST" or path not in ("/complete", "/explain", "/chat/completions"):
            handler._send(404, {"error": f"Unknown path {path}", "code": "NOT_FOUND"})
            return
        model = body.get("model")
        missing = {"error": f"Model {model} not found", "code": "MODEL_NOT_FOUND"}
        if _not_found(handler, model, missing):
            return
        if path == "/chat/completions":
            _answer_chat(handler, body, model)
        elif path == "/explain":
            handler._send(200, replies.explanation(body))
        else:
            _answer(handler, body, replies.aleph_alpha_completion(body), done_marker=False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout, cancel) is part of the tests

    def __init__(self, api: OpenAIApi | AlephAlphaApi, state: ModelServerState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        self.state = state

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.state.lock:
            self.state.live_connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        # Called once per accepted connection, when its handler is done with it.
        try:
            super().shutdown_request(request)
        finally:
            with self.state.lock:
                self.state.live_connections -= 1


@dataclass
class RunningServer:
    state: ModelServerState
    base_url: str


@contextmanager
def model_server(
    api: OpenAIApi | AlephAlphaApi, state: ModelServerState | None = None
) -> Iterator[RunningServer]:
    state = state or ModelServerState()
    server = _Server(api, state)
    # A short poll: shutting the server down at the end of each test then takes no time.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield RunningServer(state, f"http://127.0.0.1:{server.server_port}{api.prefix}")
    finally:
        server.shutdown()
        server.server_close()
