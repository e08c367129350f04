"""Real HTTP servers on loopback that speak the OpenAI and Aleph Alpha request and response
shapes (from their public API references), with switchable failures for the tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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


def reply_for(model: str, prompt: str) -> str:
    return f"({model}) a reply to: {prompt}"


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


class OpenAIApi:
    """`GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/completions`."""

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
        if model not in state.models:
            handler._send(
                404,
                {
                    "error": {
                        "message": f"The model `{model}` does not exist",
                        "type": "invalid_request_error",
                        "code": "model_not_found",
                    }
                },
            )
            return
        if path == "/v1/chat/completions":
            prompt = body["messages"][-1]["content"]
            choice = {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": reply_for(model, prompt)},
            }
            kind = "chat.completion"
        else:
            prompt = body["prompt"]
            choice = {"index": 0, "finish_reason": "stop", "text": reply_for(model, prompt)}
            kind = "text_completion"
        tokens = len(prompt.split())
        handler._send(
            200,
            {
                "id": "cmpl-test",
                "object": kind,
                "created": 0,
                "model": f"{model}-0125",
                "choices": [choice],
                "usage": {
                    "prompt_tokens": tokens,
                    "completion_tokens": 7,
                    "total_tokens": tokens + 7,
                },
            },
        )


class AlephAlphaApi:
    """`GET /models_available`, `POST /complete`."""

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
        if method != "POST" or path != "/complete":
            handler._send(404, {"error": f"Unknown path {path}", "code": "NOT_FOUND"})
            return
        model = body.get("model")
        if model not in state.models:
            handler._send(404, {"error": f"Model {model} not found", "code": "MODEL_NOT_FOUND"})
            return
        prompt = body["prompt"]
        handler._send(
            200,
            {
                "model_version": "2022-04",
                "completions": [
                    {"completion": reply_for(model, prompt), "finish_reason": "maximum_tokens"}
                ],
                "num_tokens_prompt_total": len(prompt.split()),
                "num_tokens_generated": 9,
            },
        )


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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningServer(state, f"http://127.0.0.1:{server.server_port}{api.prefix}")
    finally:
        server.shutdown()
        server.server_close()
