"""OTLP/HTTP traces taken by `workbench serve`: the SDK's own DevCsi exporting its spans (in
the session's pharia-skill environment) to the OTLP port and to the kernel's port, bodies
posted by hand in protobuf and in OTLP JSON, refusals, and the command printing each batch."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from tests.conftest import REPOSITORY, copy_project
from workbench import flows
from workbench.config.user import load_config
from workbench.models.echo import EchoProvider
from workbench.serve.app import make_app, make_otlp_app
from workbench.serve.log import RequestLog
from workbench.serve.namespaces import Namespaces
from workbench.serve.otlp import PROTOBUF, OtelSpan, SpanLog
from workbench.serve.runs import SkillServer
from workbench.serve.server import BackgroundServer, serve_in_background

TRACE = bytes(range(16))
ROOT, CHILD = bytes(range(8)), bytes(range(8, 16))
SERVICE = {"stringValue": "test-service"}
#: What a native SDK test does: a completion and a chat through DevCsi, then a flush (the
#: SDK's SimpleSpanProcessor exports as each span ends; the flush makes sure of it).
DEVCSI_SCRIPT = """
import json
from pharia_skill import ChatParams, CompletionParams, Message
from pharia_skill.testing import DevCsi

csi = DevCsi()
done = csi.complete("otel-model", "Roses are", CompletionParams(max_tokens=8))
said = csi.chat("otel-chat", [Message.user("Say hi to the collector")], ChatParams(max_tokens=16))
print(json.dumps([done.text, said.message.content]))
DevCsi.provider().force_flush()
DevCsi.provider().shutdown()
"""


@pytest.fixture
def served() -> Iterator[tuple[BackgroundServer, SpanLog, RequestLog]]:
    spans, log = SpanLog(), RequestLog()
    server = SkillServer(
        Namespaces([], "local"),
        EchoProvider("echo"),
        "echo",
        lambda root: flows.open_backends(load_config(), root),
    )
    app = make_app(server, log=log, spans=spans)
    with serve_in_background(app, otlp=make_otlp_app(spans)) as running:
        yield running, spans, log
    server.close()


@pytest.mark.parametrize("port", ["otlp", "kernel"])
def test_devcsi_spans_arrive_beside_its_csi_calls(served, sdk_environment, port: str) -> None:
    running, spans, log = served
    assert running.otlp_url is not None and running.otlp_url != running.url
    endpoint = running.otlp_url if port == "otlp" else running.url
    env = {
        **os.environ,
        "PHARIA_KERNEL_ADDRESS": running.url,
        "PHARIA_AI_TOKEN": "x",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
    }
    done = subprocess.run(
        [str(sdk_environment.root / "bin" / "python"), "-c", DEVCSI_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Failed to export" not in done.stderr and "Transient error" not in done.stderr

    completion, chat = spans.entries()
    assert (completion.name, chat.name) == ("text_completion otel-model", "chat otel-chat")
    assert completion.attributes["gen_ai.operation.name"] == "text_completion"
    assert completion.attributes["gen_ai.request.model"] == "otel-model"
    assert completion.attributes["gen_ai.content.prompt"] == "Roses are"
    assert completion.attributes["gen_ai.request.max_tokens"] == 8
    answers = json.loads(done.stdout)
    assert completion.attributes["gen_ai.content.completion"] == answers[0]
    assert completion.attributes["gen_ai.response.finish_reasons"] in (["stop"], ["length"])
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert "Say hi to the collector" in chat.attributes["gen_ai.input.messages"]
    assert json.loads(chat.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "content": answers[1]}
    ]
    assert isinstance(chat.attributes["gen_ai.usage.output_tokens"], int)
    for span in (completion, chat):
        assert span.scope == "pharia_skill.testing.dev.csi" and span.status == "unset"
        assert len(span.trace_id) == 32 and len(span.span_id) == 16 and span.parent_id is None
        assert 0 < span.duration < 60 and span.start > 1.6e9
    assert completion.trace_id != chat.trace_id  # each call is a trace of its own

    # The CSI calls themselves, in the request log; the traces are not in it.
    paths = [entry.path for entry in log.entries()]
    assert paths == ["/csi/v1/complete", "/csi/v1/chat"]
    assert [call.csi for entry in log.entries() for call in entry.csi_calls] == ["complete", "chat"]


def _value(**one: object) -> AnyValue:
    return AnyValue(**one)  # type: ignore[arg-type]


def _export() -> ExportTraceServiceRequest:
    """A request as an exporter builds it: a root span and an erring child with an event."""
    attributes = [
        KeyValue(key="text", value=_value(string_value="hello")),
        KeyValue(key="count", value=_value(int_value=3)),
        KeyValue(key="ratio", value=_value(double_value=0.5)),
        KeyValue(key="flag", value=_value(bool_value=True)),
        KeyValue(key="raw", value=_value(bytes_value=b"\x00\xff")),
        KeyValue(key="empty", value=AnyValue()),
    ]
    root = Span(
        trace_id=TRACE,
        span_id=ROOT,
        name="run",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_001_500_000_000,
        attributes=attributes,
    )
    child = Span(
        trace_id=TRACE,
        span_id=CHILD,
        parent_span_id=ROOT,
        name="search",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=1_700_000_000_100_000_000,
        end_time_unix_nano=1_700_000_000_200_000_000,
        status=Status(code=Status.STATUS_CODE_ERROR, message="no index"),
        events=[Span.Event(name="exception", time_unix_nano=1_700_000_000_150_000_000)],
    )
    child.attributes.add(key="list", value=_value()).value.array_value.values.add(int_value=1)
    nested = child.attributes.add(key="map").value.kvlist_value.values.add(key="inner")
    nested.value.string_value = "x"
    resource = ResourceSpans(scope_spans=[ScopeSpans(spans=[root, child])])
    resource.resource.attributes.add(key="service.name").value.string_value = "test-service"
    resource.scope_spans[0].scope.name = "tests.otlp"
    return ExportTraceServiceRequest(resource_spans=[resource])


def _expected(spans: list[OtelSpan]) -> None:
    root, child = spans
    assert (root.trace_id, root.span_id, root.parent_id) == (TRACE.hex(), ROOT.hex(), None)
    assert (child.span_id, child.parent_id) == (CHILD.hex(), ROOT.hex())
    assert (root.name, root.kind, child.kind) == ("run", "server", "client")
    assert root.start == 1_700_000_000.0 and abs(root.duration - 1.5) < 1e-6
    assert root.attributes == {
        "text": "hello",
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "raw": "AP8=",
        "empty": None,
    }
    assert child.attributes == {"list": [1], "map": {"inner": "x"}}
    assert (child.status, child.status_message, child.failed) == ("error", "no index", True)
    assert [event.name for event in child.events] == ["exception"]
    assert (root.service, root.scope) == ("test-service", "tests.otlp")


def test_a_protobuf_body_plain_or_gzipped(served) -> None:
    running, spans, log = served
    body = _export().SerializeToString()
    for url, content, headers in (
        (running.otlp_url, body, {}),
        (running.url, gzip.compress(body), {"content-encoding": "gzip"}),
    ):
        spans.clear()
        answer = httpx.post(
            f"{url}/v1/traces", content=content, headers={"content-type": PROTOBUF, **headers}
        )
        assert answer.status_code == 200 and answer.headers["content-type"] == PROTOBUF
        assert ExportTraceServiceResponse.FromString(answer.content) == ExportTraceServiceResponse()
        _expected(spans.entries())
    assert log.entries() == []


def test_an_otlp_json_body_with_hex_ids(served) -> None:
    running, spans, _ = served
    heard: list[int] = []
    spans.listen(lambda batch: heard.append(len(batch)))
    body = {  # as the OTLP JSON mapping writes it: ids in hex, 64-bit numbers as strings
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": SERVICE}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "tests.otlp"},
                        "spans": [
                            {
                                "traceId": TRACE.hex(),
                                "spanId": ROOT.hex(),
                                "parentSpanId": "",
                                "name": "chat m",
                                "kind": 3,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000250000000",
                                "attributes": [
                                    {"key": "gen_ai.request.model", "value": {"stringValue": "m"}},
                                    {"key": "tokens", "value": {"intValue": "12"}},
                                ],
                                "status": {"code": 1},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    answer = httpx.post(f"{running.otlp_url}/v1/traces", json=body)
    assert (answer.status_code, answer.text) == (200, "{}")
    assert answer.headers["content-type"] == "application/json"
    (span,) = spans.entries()
    assert (span.trace_id, span.span_id, span.parent_id) == (TRACE.hex(), ROOT.hex(), None)
    assert (span.name, span.kind, span.status, span.service) == (
        "chat m",
        "client",
        "ok",
        "test-service",
    )
    assert span.attributes == {"gen_ai.request.model": "m", "tokens": 12}
    assert abs(span.duration - 0.25) < 1e-6
    assert heard == [1]
    assert span.to_dict()["attributes"]["tokens"] == 12


def test_what_is_not_traces_is_refused_as_a_collector_does(served) -> None:
    running, spans, _ = served
    url = f"{running.otlp_url}/v1/traces"
    garbage = httpx.post(url, content=b"\xff\xff\xff", headers={"content-type": PROTOBUF})
    assert garbage.status_code == 400 and garbage.headers["content-type"] == PROTOBUF
    assert garbage.content.startswith(b"\x08\x03\x12")  # google.rpc.Status, INVALID_ARGUMENT
    assert b"Not OTLP traces" in garbage.content
    bad_id = httpx.post(url, json={"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "not hex", "spanId": "00"}]}]}]})  # fmt: skip
    assert bad_id.status_code == 400 and bad_id.json()["code"] == 3
    assert "traceId 'not hex' is not hex" in bad_id.json()["message"]
    not_json = httpx.post(url, content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    text = httpx.post(url, content=b"x", headers={"content-type": "text/plain"})
    assert text.status_code == 415
    brotli = httpx.post(
        url, content=b"x", headers={"content-type": PROTOBUF, "content-encoding": "br"}
    )
    assert brotli.status_code == 415
    assert httpx.get(url).status_code == 405
    assert spans.entries() == []


def test_a_token_guards_the_traces_too() -> None:
    spans = SpanLog()
    token = "otlp-token-93"
    body = _export().SerializeToString()
    with serve_in_background(make_otlp_app(spans, token=token)) as running:
        url = f"{running.url}/v1/traces"
        refused = httpx.post(url, content=body, headers={"content-type": PROTOBUF})
        assert (refused.status_code, refused.text) == (401, "Bearer token expected")
        headers = {"content-type": PROTOBUF, "authorization": f"Bearer {token}"}
        assert httpx.post(url, content=body, headers=headers).status_code == 200
    assert len(spans.entries()) == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_command_prints_each_batch_and_stops_both_listeners(
    tmp_path: Path, sdk_environment
) -> None:
    project = copy_project(REPOSITORY / "examples/haiku", tmp_path / "haiku")
    otlp_port = _free_port()
    script = (
        "import argparse, sys\nfrom workbench.cli import serve\n"
        "parser = argparse.ArgumentParser()\nserve.add_parsers(parser.add_subparsers())\n"
        "sys.exit(serve.serve(parser.parse_args(['serve', *sys.argv[1:]])))\n"
    )
    command = [sys.executable, "-c", script, str(project), "--port", "0"]
    process = subprocess.Popen(
        [*command, "--otlp-port", str(otlp_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    said = [process.stdout.readline() for _ in range(4)]
    url = said[0].split(" at ")[1].split()[0]
    otlp_url = f"http://127.0.0.1:{otlp_port}"
    assert said[2].strip() == (
        f"For the SDK's DevCsi: PHARIA_KERNEL_ADDRESS={url}; "
        f"for its spans OTEL_EXPORTER_OTLP_ENDPOINT={otlp_url} (or {url})"
    )
    env = {
        **os.environ,
        "PHARIA_KERNEL_ADDRESS": url,
        "PHARIA_AI_TOKEN": "x",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_url,
    }
    python = str(sdk_environment.root / "bin" / "python")
    done = subprocess.run(
        [python, "-c", DEVCSI_SCRIPT], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    # A call's log line and its span's are printed by different requests: either first.
    lines = sorted(process.stdout.readline().strip() for _ in range(4))
    assert lines[0].startswith("POST /csi/v1/chat 200 ")
    assert lines[1].startswith("POST /csi/v1/complete 200 ")
    assert lines[2].startswith("[otel] 1 span: chat otel-chat ")
    assert lines[3].startswith("[otel] 1 span: text_completion otel-model ")
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip().endswith("Stopped.") and "Traceback" not in err
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{otlp_url}/v1/traces", content=b"", headers={"content-type": PROTOBUF})
