"""The kernel's HTTP API as a Starlette app: the skill routes, the CSI, health, auth.

Routes and answers follow `src/shell.rs`, `src/skill_runtime/routes.rs` and
`src/skill_store/routes.rs` of github.com/Aleph-Alpha/pharia-engine @ 329c933e (see
serve/kernel.py for the sentences). Auth is the kernel's without an IAM behind it: with no
token configured every request passes; with one, `/v1` and `/csi` need
`Authorization: Bearer <it>` (401 "Bearer token expected" without, 401 "Bearer token
invalid" for another: the kernel answers the latter 403; here both are 401).
`/health` is open. OTLP/HTTP traces (serve/otlp.py) are taken at `/v1/traces`, behind the
same check, and left out of the request log (they have their own). Cross-origin requests
are not allowed (the kernel allows every origin): a web page the developer visits must not
run skills on their keys.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workbench import flows
from workbench.csi.host import CsiHost
from workbench.csi.record import CsiCall
from workbench.serve import kernel
from workbench.serve.bodies import json_body
from workbench.serve.csi_routes import csi_routes
from workbench.serve.kernel import Refusal
from workbench.serve.log import LoggedRequest, RequestLog, RunNote
from workbench.serve.otlp import PATHS as OTLP_PATHS
from workbench.serve.otlp import SpanLog, otlp_routes
from workbench.serve.runs import Outcome, Resolved, SkillServer, output_body

#: Where a request's RunNote waits for the log, in the ASGI scope's state.
_NOTE = "workbench.run_note"
#: Paths behind the bearer check (the kernel's authenticated group).
_GUARDED = ("/v1/", "/csi/", "/csi", "/cached_skills")


def make_app(
    server: SkillServer,
    *,
    token: str | None = None,
    log: RequestLog | None = None,
    spans: SpanLog | None = None,
) -> Starlette:
    """The app serving `server`'s skills; every request goes into `log`, every span posted
    to /v1/traces into `spans`."""

    def open_host(request: Request) -> CsiHost:
        return CsiHost(
            provider=server.provider,
            backends=server.backends_for(server.home, server.namespaces.default),
        )

    def heard(request: Request, calls: list[CsiCall]) -> None:
        _note(request).csi_calls = calls

    routes = [
        Route("/health", _health, methods=["GET"]),
        Route("/v1/skills", _listing(server), methods=["GET"]),
        Route("/v1/skills/{namespace}/{name}/metadata", _metadata(server), methods=["GET"]),
        Route("/v1/skills/{namespace}/{name}/run", _run(server), methods=["POST"]),
        Route(
            "/v1/skills/{namespace}/{name}/message-stream",
            _message_stream(server),
            methods=["POST"],
        ),
        *csi_routes(open_host, heard),
    ]
    spans = SpanLog() if spans is None else spans
    routes.extend(otlp_routes(spans))
    app = Starlette(routes=routes)
    app.state.server = server
    app.state.spans = spans
    app.state.log = log or RequestLog()
    app.add_middleware(_Authorized, token=token)
    app.add_middleware(_Logged, log=app.state.log)
    return app


def make_otlp_app(spans: SpanLog, *, token: str | None = None) -> Starlette:
    """OTLP/HTTP traces alone, for a listener of their own (port 4318, the exporters'
    default), behind the same token as the kernel's API."""
    app = Starlette(routes=otlp_routes(spans))
    app.state.spans = spans
    app.add_middleware(_Authorized, token=token)
    return app


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


def _listing(server: SkillServer) -> Any:
    async def skills(request: Request) -> Response:
        return JSONResponse(await server.names())

    return skills


def _metadata(server: SkillServer) -> Any:
    async def metadata(request: Request) -> Response:
        found = await _find(server, request)
        if isinstance(found, Response):
            return found
        described = await server.metadata(found)
        if isinstance(described, Refusal):
            return _refused(request, described)
        return JSONResponse(described)

    return metadata


def _run(server: SkillServer) -> Any:
    async def run(request: Request) -> Response:
        # The kernel's extractors in order: the namespace, the JSON body, then the skill.
        problem = _bad_namespace(request)
        if problem is not None:
            return problem
        value = await json_body(request)
        if isinstance(value, Response):
            return value
        found = await _find(server, request)
        if isinstance(found, Response):
            return found
        outcome = Outcome()
        async for item in server.run(found, value, "run"):
            if isinstance(item, Outcome):
                outcome = item
        _noted(request, outcome)
        if outcome.refusal is not None or outcome.result is None:
            return _refused(request, outcome.refusal or _no_result())
        return Response(output_body(outcome.result), media_type="application/json")

    return run


def _message_stream(server: SkillServer) -> Any:
    async def message_stream(request: Request) -> Response:
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        problem = _bad_namespace(request)
        if problem is not None:
            return problem
        value = await json_body(request)
        if isinstance(value, Response):
            return value
        _note(request).skill = f"{namespace}/{name}"
        # Always 200: the kernel says every failure inside the stream, as an `event: error`.
        return StreamingResponse(
            _events(server, request, namespace, name, value),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache"},
        )

    return message_stream


async def _events(
    server: SkillServer, request: Request, namespace: str, name: str, value: Any
) -> AsyncIterator[bytes]:
    found = await server.resolve(namespace, name)
    if isinstance(found, Refusal):
        _note(request).error = _first_line(found.message)
        yield sse("error", {"message": found.message})
        return
    async for item in server.run(found, value, "message-stream"):
        if isinstance(item, flows.MessageWritten):
            event = kernel_event(item.event)
            if event is not None:
                yield sse(*event)
            continue
        _noted(request, item)
        if item.refusal is not None:
            yield sse("error", {"message": item.refusal.message})


def kernel_event(event: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """A message the skill wrote as the kernel streams it: (the SSE event, its data).
    The role of a begin is not passed on; a tool event is the kernel's payload itself."""
    kind = event.get("type")
    if kind == "begin":
        return "message", {"type": "begin"}
    if kind == "append":
        return "message", {"type": "append", "text": event.get("text", "")}
    if kind == "end":
        return "message", {"type": "end", "payload": event.get("payload")}
    if kind == "reasoning":
        return "reasoning", {"type": "reasoning", "text": event.get("text", "")}
    if kind == "tool" and isinstance(event.get("event"), dict):
        return "tool", event["event"]
    return None


def sse(name: str, data: Any) -> bytes:
    """One event as axum's `Event::event(name).json_data(data)` writes it."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {name}\ndata: {text}\n\n".encode()


def _bad_namespace(request: Request) -> Response | None:
    """axum's `Path` rejection of a namespace the kernel refuses (400), or None."""
    problem = kernel.namespace_problem(request.path_params["namespace"])
    return None if problem is None else _refused(request, Refusal(kernel.BAD_REQUEST, problem))


async def _find(server: SkillServer, request: Request) -> Resolved | Response:
    namespace, name = request.path_params["namespace"], request.path_params["name"]
    problem = _bad_namespace(request)
    if problem is not None:
        return problem
    _note(request).skill = f"{namespace}/{name}"
    found = await server.resolve(namespace, name)
    if isinstance(found, Refusal):
        return _refused(request, found)
    return found


def _refused(request: Request, refusal: Refusal) -> Response:
    _note(request).error = _first_line(refusal.message)
    return PlainTextResponse(refusal.message, refusal.status)


def _no_result() -> Refusal:
    return Refusal(
        kernel.INTERNAL_SERVER_ERROR, "The run ended without a result; please report this."
    )


def _noted(request: Request, outcome: Outcome) -> None:
    note = _note(request)
    if outcome.result is not None:
        note.csi_calls = list(outcome.result.csi_calls)
    if outcome.refusal is not None:
        note.error = _first_line(outcome.refusal.message)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _note(request: Request) -> RunNote:
    note = request.scope.setdefault("state", {}).get(_NOTE)
    return note if isinstance(note, RunNote) else RunNote()


def bearer(scope: Scope) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None."""
    for key, value in scope.get("headers", ()):
        if key.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


class _Authorized:
    """The kernel's `authorization_middleware`, with one token instead of an IAM."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = scope["type"] == "http" and str(scope.get("path", "")).startswith(_GUARDED)
        if self.token is not None and guarded:
            given = bearer(scope)
            if given is None:
                refusal = kernel.BEARER_EXPECTED
            elif not hmac.compare_digest(given.encode(), self.token.encode()):
                refusal = kernel.BEARER_INVALID
            else:
                refusal = None
            if refusal is not None:
                await PlainTextResponse(refusal, kernel.UNAUTHORIZED)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _Logged:
    """Puts every request into the log once its answer is sent (a stream: at its end)."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in OTLP_PATHS:
            await self.app(scope, receive, send)
            return
        at, started = time.time(), time.perf_counter()
        note = RunNote()
        scope.setdefault("state", {})[_NOTE] = note
        status = kernel.INTERNAL_SERVER_ERROR  # unless an answer starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.log.add(
                LoggedRequest(
                    at=at,
                    method=str(scope.get("method", "")),
                    path=str(scope.get("path", "")),
                    caller=self.log.caller(scope.get("client"), bearer(scope)),
                    status=status,
                    duration=time.perf_counter() - started,
                    skill=note.skill,
                    csi_calls=tuple(note.csi_calls),
                    error=note.error,
                )
            )
