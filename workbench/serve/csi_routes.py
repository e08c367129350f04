"""The kernel's HTTP CSI, `POST /csi/v1/{function}` and `POST /csi/v2/{function}`: what the
SDK's `DevCsi` calls, so a skill's Python code runs against the workbench's models, documents
and tools exactly as against a kernel.

Sources (github.com/Aleph-Alpha/pharia-engine): `src/csi_shell/v1.rs`, `v2.rs`, `common.rs`
and axum's `Json` rejections. Batch functions take and answer JSON arrays; the two streams
answer `text/event-stream` events written as axum writes them (`event: X\\ndata: Y\\n\\n`,
which `DevCsi` parses strictly). Errors: a body that is not JSON 400, one of the wrong shape
422, a backend's error 500 "Something went wrong: …", a stream's error an `event: error`
inside a 200. The versions differ only in chat: v2 has `reasoning_content` and `reasoning`
events, v1 has logprobs on `message_append` (the host speaks the union of both).

Each request gets its own `CsiHost` from the caller (its provider and backends), which
records the calls; `on_calls` hears them when the answer is complete (a stream: at its end).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from workbench.csi import backends
from workbench.csi.host import FUNCTIONS, STREAMS, CsiHost
from workbench.csi.record import CsiCall
from workbench.errors import InvalidCsiRequest, WorkbenchError
from workbench.serve import kernel
from workbench.serve.bodies import json_body

OpenHost = Callable[[Request], CsiHost]
OnCalls = Callable[[Request, list[CsiCall]], None]

VERSIONS = ("v1", "v2")
#: What the kernel serves under each version (the seed's complete_text is no kernel route).
BATCH_FUNCTIONS = (frozenset(FUNCTIONS) - {"complete_text"}) | frozenset(backends.SERVED)
STREAM_FUNCTIONS = frozenset(STREAMS)
#: How long a stream whose client went away waits for its pull to notice the cancel (the
#: host looks every 50 ms).
_SETTLE_SECONDS = 2.0


def csi_routes(open_host: OpenHost, on_calls: OnCalls | None = None) -> list[Route]:
    """The routes; `open_host(request)` gives each request a fresh host (the route has put
    `csi_version`, `csi_function` and the JSON `csi_body` on `request.state` first, e.g. for
    the tools' `namespace`); `on_calls(request, calls)` hears what the host recorded."""

    def serving(version: str) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            function = request.path_params["function"]
            if function not in BATCH_FUNCTIONS and function not in STREAM_FUNCTIONS:
                return PlainTextResponse(
                    f"The Kernel has no CSI function `{function}` under /csi/{version}.", 404
                )
            body = await json_body(request)
            if isinstance(body, Response):
                return body
            request.state.csi_version = version
            request.state.csi_function = function
            request.state.csi_body = body
            try:
                host = open_host(request)
            except WorkbenchError as error:  # e.g. the provider cannot be set up
                return _failed(error)
            if function in STREAM_FUNCTIONS:
                return await _stream(request, host, version, function, body, on_calls)
            try:
                return await _batch(host, version, function, body)
            finally:
                _tell(on_calls, request, host)

        return serve

    return [
        Route(f"/csi/{version}/{{function}}", serving(version), methods=["POST"])
        for version in VERSIONS
    ]


def _label(function: str) -> str:
    """The function as the trace names it: its WIT name."""
    return function.replace("_", "-")


def _refused(error: InvalidCsiRequest) -> PlainTextResponse:
    # The kernel's serde refuses such a body before any backend sees it (axum's 422).
    return PlainTextResponse(
        f"Failed to deserialize the JSON body into the target type: {error}", 422
    )


def _failed(error: Exception) -> PlainTextResponse:
    return PlainTextResponse(f"Something went wrong: {error}", kernel.INTERNAL_SERVER_ERROR)


async def _batch(host: CsiHost, version: str, function: str, body: Any) -> Response:
    try:
        answer = await anyio.to_thread.run_sync(host.call, function, body, _label(function))
    except InvalidCsiRequest as error:
        return _refused(error)
    except Exception as error:  # a backend's error (or bug): the kernel's 500
        return _failed(error)
    if function == "chat" and version == "v1" and isinstance(answer, list):
        answer = [_chat_v1(item) for item in answer]
    return JSONResponse(answer)


def _chat_v1(answer: Any) -> Any:
    """/csi/v1 chat knows no reasoning: the message without `reasoning_content`."""
    if not isinstance(answer, dict) or not isinstance(answer.get("message"), dict):
        return answer
    message = {k: v for k, v in answer["message"].items() if k != "reasoning_content"}
    return {**answer, "message": message}


def _event_for(version: str, event: dict[str, Any]) -> dict[str, Any] | None:
    """The host's event as this version sends it; None for one it does not send."""
    name = event.get("event")
    if version == "v1" and name == "reasoning":
        return None  # v1 has no reasoning events (the SDK's v1 reader refuses them)
    if version == "v2" and name == "message_append":
        data = event.get("data") or {}
        return {"event": name, "data": {"content": data.get("content")}}
    return event


def _sse(name: str, data: Any) -> bytes:
    # serde_json's compact form, as axum's `Event::json_data` writes it.
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {name}\ndata: {text}\n\n".encode()


async def _stream(
    request: Request,
    host: CsiHost,
    version: str,
    function: str,
    body: Any,
    on_calls: OnCalls | None,
) -> Response:
    try:
        stream = await anyio.to_thread.run_sync(host.open_stream, function, body, _label(function))
    except InvalidCsiRequest as error:
        _tell(on_calls, request, host)
        return _refused(error)
    except Exception as error:  # the kernel says a stream's failure inside the stream
        _tell(on_calls, request, host)
        return _event_stream(_one_error(error))
    return _event_stream(_events(request, host, version, stream, on_calls))


class _EventStream(StreamingResponse):
    """A stream whose events are closed however it ends: when the client goes while an event
    is being sent, the events' generator would otherwise wait for the garbage collector to
    run its cleanup (cancel the provider, close the stream, tell `on_calls`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                await close()


def _event_stream(content: AsyncIterator[bytes]) -> StreamingResponse:
    return _EventStream(
        content, media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


async def _one_error(error: Exception) -> AsyncIterator[bytes]:
    yield _sse("error", {"message": str(error)})


async def _events(
    request: Request, host: CsiHost, version: str, stream: int, on_calls: OnCalls | None
) -> AsyncIterator[bytes]:
    ended = False
    idle = threading.Event()  # no pull in progress
    idle.set()

    def pull() -> dict[str, Any] | None:
        idle.clear()
        try:
            return host.next_event(stream)
        finally:
            idle.set()

    try:
        while True:
            try:
                # Each pull may wait on the model: in a thread, and abandoned if the client
                # goes (the host's cancel below then ends the pull within its poll).
                event = await anyio.to_thread.run_sync(pull, abandon_on_cancel=True)
            except Exception as error:
                ended = True
                yield _sse("error", {"message": str(error)})
                return
            if event is None:
                ended = True
                return
            sent = _event_for(version, event)
            if sent is not None:
                yield _sse(str(sent["event"]), sent.get("data"))
    finally:
        if not ended:
            host.cancel.cancel()  # the client went away: the provider stops too
            if not idle.is_set():
                # The abandoned pull records the stream as stopped; wait for it, so the
                # record is whole when `on_calls` hears it (and made once).
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(idle.wait, _SETTLE_SECONDS)
        with contextlib.suppress(Exception):
            host.close_stream(stream)
        _tell(on_calls, request, host)


def _tell(on_calls: OnCalls | None, request: Request, host: CsiHost) -> None:
    if on_calls is not None:
        with contextlib.suppress(Exception):  # a listener's bug must not break an answer
            on_calls(request, list(host.calls))
