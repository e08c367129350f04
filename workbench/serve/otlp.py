"""OpenTelemetry traces received as an OTLP/HTTP collector receives them, kept for the app.

The SDK's `DevCsi` exports a span per CSI call with opentelemetry-exporter-otlp-proto-http
(a SimpleSpanProcessor: one POST per span, as the span ends) to
`$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces`, by default http://localhost:4318/v1/traces, and
retries loudly when nothing listens there. Its spans are named `text_completion MODEL`,
`chat MODEL` (with the `gen_ai.*` attributes: model, prompt or messages, the answer, usage)
or after the CSI function (`explain`, `search`, ...: `input` and `output` as JSON text).

Bodies are `ExportTraceServiceRequest`s, protobuf (`application/x-protobuf`) or the OTLP JSON
mapping (`application/json`: ids in hex, not base64), gzip or deflate encoded or not; the
answer is an empty `ExportTraceServiceResponse` in the same encoding, a failure a
`google.rpc.Status`, as the OTLP specification asks of a collector.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from workbench.serve.log import BoundedLog

#: Where OTLP/HTTP exporters post traces. The second is what an exporter posts to when
#: OTEL_EXPORTER_OTLP_ENDPOINT is given the traces URL itself (as the SDK's docstring does
#: for Langfuse), since the exporter appends /v1/traces to it.
PATHS = ("/v1/traces", "/v1/traces/v1/traces")
#: The OTLP/HTTP port, where the SDK's exporter posts when told nothing else.
DEFAULT_OTLP_PORT = 4318
#: Spans kept; the oldest go first.
DEFAULT_LIMIT = 5000
#: The exporter's own largest request (its max_request_size), before and after inflating.
BODY_LIMIT = 64 * 1024 * 1024

PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
_STATUSES = ("unset", "ok", "error")
#: google.rpc.Code for a body that is not traces.
_INVALID_ARGUMENT = 3
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


@dataclass(frozen=True)
class SpanEvent:
    name: str
    #: Seconds since the epoch.
    at: float
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OtelSpan:
    """One span as plain values: ids in hex, times in seconds since the epoch."""

    trace_id: str
    span_id: str
    #: The span it is a child of; None for a trace's root.
    parent_id: str | None
    name: str
    start: float
    end: float
    attributes: dict[str, Any] = field(default_factory=dict)
    #: "unset", "ok" or "error".
    status: str = "unset"
    status_message: str = ""
    #: "internal", "client", "server", ...
    kind: str = "unspecified"
    #: The resource's service.name ("unknown_service" when the exporter was told none).
    service: str | None = None
    #: The instrumentation scope: the tracer's name, e.g. pharia_skill.testing.dev.csi.
    scope: str = ""
    events: tuple[SpanEvent, ...] = ()

    @property
    def duration(self) -> float:
        return max(self.end - self.start, 0.0)

    @property
    def failed(self) -> bool:
        return self.status == "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "attributes": self.attributes,
            "status": self.status,
            "status_message": self.status_message,
            "kind": self.kind,
            "service": self.service,
            "scope": self.scope,
            "events": [
                {"name": event.name, "at": event.at, "attributes": event.attributes}
                for event in self.events
            ],
        }


def summary(spans: Sequence[OtelSpan]) -> str:
    """A batch on one line, as the CLI prints it: `3 spans: chat m, search, ... (1 failed)`."""
    names = [span.name for span in spans[:4]]
    more = ", ..." if len(spans) > 4 else ""
    failed = sum(span.failed for span in spans)
    said = f" ({failed} failed)" if failed else ""
    timed = f" {spans[0].duration:.2f} s" if len(spans) == 1 else ""
    noun = "span" if len(spans) == 1 else "spans"
    return f"{len(spans)} {noun}: {', '.join(names)}{more}{timed}{said}"


class SpanLog(BoundedLog[OtelSpan, tuple[OtelSpan, ...]]):
    """Every span received; listeners hear each batch as one export brought it."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        super().__init__(limit)

    def add(self, spans: Sequence[OtelSpan]) -> None:
        if spans:
            batch = tuple(spans)
            self._keep(batch, batch)

    def trace(self, trace_id: str) -> list[OtelSpan]:
        """The spans of one trace, by start time."""
        return sorted((s for s in self.entries() if s.trace_id == trace_id), key=_start)


def _start(span: OtelSpan) -> float:
    return span.start


def otlp_routes(spans: SpanLog) -> list[Route]:
    """`POST /v1/traces`, answering as an OTLP/HTTP collector does."""

    async def traces(request: Request) -> Response:
        mime = request.headers.get("content-type", "").split(";")[0].strip().lower()
        as_json = mime == _JSON
        if not as_json and mime not in (PROTOBUF, "application/protobuf"):
            return Response(
                f"Unsupported content type {mime or '(none)'}: OTLP/HTTP traces are "
                f"{PROTOBUF} or {_JSON}.",
                415,
                media_type="text/plain",
            )
        body = await _body(request)
        if isinstance(body, Response):
            return body
        try:
            message = _parsed(body, as_json)
        except ValueError as error:
            return _failure(f"Not OTLP traces: {error}", as_json)
        spans.add(spans_of(message))
        if as_json:
            return Response("{}", media_type=_JSON)
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type=PROTOBUF)

    return [Route(path, traces, methods=["POST"]) for path in PATHS]


async def _body(request: Request) -> bytes | Response:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > BODY_LIMIT:
                return Response("Too large.", 413, media_type="text/plain")
            chunks.append(chunk)
    except ClientDisconnect:
        return Response(status_code=400)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        return Response(f"Unsupported content encoding {encoding}.", 415, media_type="text/plain")
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, told by the header
    try:
        inflated = inflater.decompress(body, BODY_LIMIT + 1)
    except zlib.error as error:
        return Response(f"Not {encoding}: {error}.", 400, media_type="text/plain")
    if len(inflated) > BODY_LIMIT or inflater.unconsumed_tail:
        return Response("Too large once inflated.", 413, media_type="text/plain")
    return inflated


def _parsed(body: bytes, as_json: bool) -> ExportTraceServiceRequest:
    """The request in `body`; ValueError (with the reason) when it is not one."""
    message = ExportTraceServiceRequest()
    if not as_json:
        try:
            message.ParseFromString(body)
        except DecodeError as error:
            raise ValueError(str(error) or "not protobuf") from None
        return message
    try:
        value = json.loads(body)
        json_format.ParseDict(_base64_ids(value), message, ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError, RecursionError, TypeError) as error:
        raise ValueError(str(error) or type(error).__name__) from None
    return message


def _base64_ids(node: Any) -> Any:
    """OTLP JSON's hex trace and span ids as the protobuf JSON mapping's base64, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                try:
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
                except ValueError:
                    raise ValueError(f"{key} {value[:40]!r} is not hex") from None
            else:
                _base64_ids(value)
    elif isinstance(node, list):
        for item in node:
            _base64_ids(item)
    return node


def spans_of(request: ExportTraceServiceRequest) -> list[OtelSpan]:
    """The spans of an export request as plain records, in the order sent."""
    found: list[OtelSpan] = []
    for resource_spans in request.resource_spans:
        service = _attributes(resource_spans.resource.attributes).get("service.name")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(
                    OtelSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex() or None,
                        name=span.name,
                        start=span.start_time_unix_nano / 1e9,
                        end=span.end_time_unix_nano / 1e9,
                        attributes=_attributes(span.attributes),
                        status=_named(_STATUSES, span.status.code),
                        status_message=span.status.message,
                        kind=_named(_KINDS, span.kind),
                        service=service if isinstance(service, str) else None,
                        scope=scope_spans.scope.name,
                        events=tuple(
                            SpanEvent(e.name, e.time_unix_nano / 1e9, _attributes(e.attributes))
                            for e in span.events
                        ),
                    )
                )
    return found


def _named(names: tuple[str, ...], number: int) -> str:
    return names[number] if 0 <= number < len(names) else str(number)


def _attributes(pairs: Sequence[KeyValue]) -> dict[str, Any]:
    return {pair.key: _plain(pair.value) for pair in pairs}


def _plain(value: AnyValue) -> Any:
    """An attribute's value as JSON's: bytes as base64 text, as OTLP JSON writes them."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_plain(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, which)


def _failure(message: str, as_json: bool) -> Response:
    """400 with a google.rpc.Status, in the request's encoding."""
    if as_json:
        body = json.dumps({"code": _INVALID_ARGUMENT, "message": message})
        return Response(body, 400, media_type=_JSON)
    return Response(_status_bytes(_INVALID_ARGUMENT, message), 400, media_type=PROTOBUF)


def _status_bytes(code: int, message: str) -> bytes:
    """google.rpc.Status {code = 1, message = 2} in protobuf's wire format, by hand: its
    generated class lives in googleapis-common-protos, a dependency for two fields."""
    text = message.encode("utf-8")
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)
