"""The kernel's HTTP CSI (`/csi/v1`, `/csi/v2`) served by the workbench, called by the real
SDK's `DevCsi` (pharia-skill 0.20.0, in the session's SDK environment, unchanged) and by
httpx for what the SDK never sends: errors, v2, a client that goes away."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request

from tests.conftest import SdkEnvironment, sse_events
from workbench.cancel import CancelToken
from workbench.csi.backends import CsiBackends
from workbench.csi.host import CsiHost
from workbench.csi.record import CsiCall
from workbench.documents.local import LocalDocumentIndex
from workbench.errors import ModelError, RunCancelled
from workbench.models import EchoProvider
from workbench.models.inference import (
    ChatEvent,
    ChatRequest,
    CompletionAppend,
    CompletionEvent,
    CompletionRequest,
    CompletionResult,
    EventStream,
    MessageAppend,
    MessageBegin,
    MessageEnd,
    ReasoningAppend,
    StreamUsage,
    TokenUsage,
)
from workbench.serve.csi_routes import csi_routes

NAMESPACE, COLLECTION = "acme", "handbook"
OAT_MILK = "Oat milk is made from oats and water. It foams well for coffee."
#: Only a bound against hangs.
HANG = 30
RAIN = "Rain falls mostly in autumn here, and the river rises."


class ShakyProvider(EchoProvider):
    """Echo, except: complete fails, a completion stream breaks after one token, and a chat
    stream reasons before it answers (or, for the model "hang", waits for its cancel)."""

    #: Set when a "hang" stream waits, and when its cancel reached the provider.
    waiting = threading.Event()
    hung_up = threading.Event()

    def complete(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> CompletionResult:
        raise ModelError("The model server answered 503 (overloaded).")

    def completion_stream(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[CompletionEvent]:
        def events() -> Iterator[CompletionEvent]:
            yield CompletionAppend("half")
            raise ModelError("The model server closed the stream.")

        return EventStream[CompletionEvent](request.model).feed(events())

    def chat_stream(
        self, request: ChatRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[ChatEvent]:
        def events() -> Iterator[ChatEvent]:
            yield MessageBegin("assistant")
            if request.model == "hang":
                self.waiting.set()
                if cancel is not None and cancel.wait(HANG):
                    self.hung_up.set()
                raise RunCancelled("The call to the model was cancelled.")
            yield ReasoningAppend("thinking")
            yield MessageAppend("answer")
            yield MessageEnd("stop")
            yield StreamUsage(TokenUsage(1, 1))

        return EventStream[ChatEvent](request.model).feed(events())


@dataclass
class Server:
    url: str
    hosts: list[CsiHost] = field(default_factory=list)
    heard: list[tuple[str, list[CsiCall]]] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    provider: EchoProvider = field(default_factory=EchoProvider)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("http-csi")
    folder = root / "documents" / NAMESPACE / COLLECTION
    folder.mkdir(parents=True)
    (folder / "oat-milk.md").write_text(OAT_MILK)
    (folder / "oat-milk.meta.json").write_text(json.dumps({"lang": "en"}))
    (folder / "rain.md").write_text(RAIN)
    return root


@pytest.fixture(scope="module")
def server(documents: Path) -> Iterator[Server]:
    index = LocalDocumentIndex(documents, ":memory:")
    running = Server("")

    def open_host(request: Request) -> CsiHost:
        running.bodies.append(request.state.csi_body)
        host = CsiHost(running.provider, backends=CsiBackends(documents=index))
        running.hosts.append(host)
        return host

    def on_calls(request: Request, calls: list[CsiCall]) -> None:
        running.heard.append((request.url.path, calls))

    app = Starlette(routes=csi_routes(open_host, on_calls))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    running.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    try:
        yield running
    finally:
        uvicorn_server.should_exit = True
        thread.join(10)
        sock.close()
        index.close()


@pytest.fixture
def shaky(server: Server) -> Iterator[Server]:
    server.provider = ShakyProvider()
    try:
        yield server
    finally:
        server.provider = EchoProvider()


# --- the SDK's DevCsi ---------------------------------------------------------------------

DEV_CSI_SCRIPT = """
import dataclasses, enum, json
from pharia_skill import (
    ChatParams, ChunkParams, CompletionParams, DocumentPath, IndexPath, Language, Message,
    TopLogprobs,
)
from pharia_skill.testing import DevCsi

def plain(value):
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value

csi = DevCsi()
out = {}
out["complete"] = plain(csi.complete(
    "model-a", "Say hello to oak trees", CompletionParams(max_tokens=4, logprobs=TopLogprobs(2))
))
out["chat"] = plain(csi.chat(
    "model-b", [Message.system("Be brief."), Message.user("How are oaks?")], ChatParams()
))
stream = csi.completion_stream("model-c", "one two three", CompletionParams())
out["completion_stream"] = {
    "appends": [plain(append) for append in stream.stream()],
    "finish_reason": plain(stream.finish_reason()),
    "usage": plain(stream.usage()),
}
chat = csi.chat_stream(
    "model-d", [Message.user("Stream me")], ChatParams(logprobs=TopLogprobs(1))
)
out["chat_stream"] = {
    "role": chat.role if hasattr(chat, "role") else None,
    "appends": [plain(append) for append in chat.stream()],
    "finish_reason": plain(chat.finish_reason()),
    "usage": plain(chat.usage()),
}
out["chunk"] = plain(csi.chunk("abcdefghij klmnopqrst", ChunkParams("model-e", max_tokens=10)))
out["select_language"] = [
    plain(csi.select_language(text, [Language.English, Language.German]))
    for text in ("The weather is lovely today and I like it.", "Ich spreche nur ein wenig Deutsch.")
]
out["search"] = plain(csi.search(
    IndexPath("acme", "handbook", "asym-64"), "oat milk coffee", max_results=2
))
oat_milk = DocumentPath("acme", "handbook", "oat-milk")
out["document_metadata"] = plain(csi.document_metadata(oat_milk))
out["document"] = plain(csi.document(DocumentPath("acme", "handbook", "rain")))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def dev_csi(sdk_environment: SdkEnvironment, server: Server) -> dict[str, Any]:
    """What DevCsi got for each call, run once: the SDK's results as plain JSON."""
    environment = {
        **os.environ,
        "PHARIA_KERNEL_ADDRESS": server.url,
        "PHARIA_AI_TOKEN": "any-token",
        "OTEL_SDK_DISABLED": "true",  # no trace exporter trying localhost:4318
    }
    done = subprocess.run(
        [str(sdk_environment.root / "bin" / "python"), "-c", DEV_CSI_SCRIPT],
        capture_output=True,
        text=True,
        env=environment,
        cwd=sdk_environment.root.parent,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return said


def recorded(server: Server, csi: str) -> CsiCall:
    """The host's record of the call to `csi`, as the server's on_calls heard it."""
    calls = [call for _path, calls in server.heard for call in calls if call.csi == csi]
    assert calls, f"no {csi} call was recorded"
    return calls[-1]


def test_dev_csi_completes_with_the_echo_of_its_prompt(dev_csi, server):
    completion = dev_csi["complete"]
    # The echo's first 4 tokens (max_tokens) of "[echo: model 'model-a' received this …".
    assert completion["text"] == "[echo: model 'model-a' received "
    assert completion["finish_reason"] == "length"
    assert completion["usage"] == {"prompt": 5, "completion": 4}
    first = completion["logprobs"][0]
    assert bytes(first["sampled"]["token"]).decode() == "[echo: "
    assert len(first["top"]) == 2
    call = recorded(server, "complete")
    assert call.function == "complete" and call.model_requested == "model-a"
    assert call.response[0]["text"] == completion["text"]
    sent = next(
        body
        for body in server.bodies
        if isinstance(body, list) and body and body[0].get("prompt") == "Say hello to oak trees"
    )
    assert sent[0]["params"]["logprobs"] == {"top": 2}


def test_dev_csi_chats_over_v1_without_reasoning_content(dev_csi, server):
    chat = dev_csi["chat"]
    assert chat["message"]["role"] == "assistant"
    assert (
        chat["message"]["content"] == "[echo: model 'model-b' received this message]\nHow are oaks?"
    )
    assert chat["finish_reason"] == "stop"
    assert recorded(server, "chat").model_requested == "model-b"


def test_dev_csi_streams_a_completion_event_by_event(dev_csi):
    stream = dev_csi["completion_stream"]
    text = "".join(append["text"] for append in stream["appends"])
    assert text == "[echo: model 'model-c' received this prompt]\none two three"
    assert len(stream["appends"]) == len(text.split())  # one event per token
    assert stream["finish_reason"] == "stop"
    assert stream["usage"] == {"prompt": 3, "completion": len(stream["appends"])}


def test_dev_csi_streams_a_chat_with_v1_logprobs(dev_csi, server):
    stream = dev_csi["chat_stream"]
    text = "".join(append["content"] for append in stream["appends"])
    assert text == "[echo: model 'model-d' received this message]\nStream me"
    assert all(len(append["logprobs"]) == 1 for append in stream["appends"])
    assert stream["finish_reason"] == "stop"
    assert stream["usage"]["completion"] == len(stream["appends"])
    call = recorded(server, "chat_stream")
    assert call.function == "chat-stream" and call.error is None


def test_dev_csi_chunks_with_offsets_by_characters(dev_csi):
    # Echo lends no tokenizer: the kernel's fallback, characters, sizes the chunks.
    chunks = dev_csi["chunk"]
    assert [chunk["text"] for chunk in chunks] == ["abcdefghij", "klmnopqrst"]
    assert [chunk["character_offset"] for chunk in chunks] == [0, 11]


def test_dev_csi_selects_languages(dev_csi):
    assert dev_csi["select_language"] == ["eng", "deu"]


def test_dev_csi_searches_and_reads_the_local_documents(dev_csi):
    results = dev_csi["search"]
    assert results, "the search found nothing"
    best = results[0]
    assert best["document_path"] == {
        "namespace": NAMESPACE,
        "collection": COLLECTION,
        "name": "oat-milk",
    }
    assert "Oat milk" in best["content"]
    assert dev_csi["document_metadata"] == {"lang": "en"}
    document = dev_csi["document"]
    assert document["path"]["name"] == "rain"
    assert document["contents"] == [{"modality": "text", "text": RAIN}]


def test_each_request_gets_its_own_host_and_is_heard_once(dev_csi, server):
    assert len(server.hosts) >= 10  # one per DevCsi call (select_language twice)
    assert all(len(host.calls) == 1 for host in server.hosts)
    assert len(server.heard) == len(server.hosts)


# --- what the SDK never sends -------------------------------------------------------------


def test_a_backend_error_is_the_kernels_500_text(shaky):
    body = [
        {
            "model": "m",
            "prompt": "p",
            "params": {"return_special_tokens": False, "stop": [], "logprobs": "no"},
        }
    ]
    response = httpx.post(f"{shaky.url}/csi/v1/complete", json=body)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Something went wrong: The model server answered 503 (overloaded)."
    assert recorded(shaky, "complete").error is not None


def test_a_broken_stream_ends_with_an_error_event_inside_a_200(shaky):
    body = {
        "model": "m",
        "prompt": "p",
        "params": {"return_special_tokens": False, "stop": [], "logprobs": "no"},
    }
    response = httpx.post(f"{shaky.url}/csi/v1/completion_stream", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[0] == ("append", {"text": "half", "logprobs": []})
    name, data = events[-1]
    assert name == "error" and "closed the stream" in data["message"]


def test_chat_stream_v1_drops_reasoning_and_v2_drops_append_logprobs(shaky):
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "params": {"logprobs": "no"},
    }
    v1 = sse_events(httpx.post(f"{shaky.url}/csi/v1/chat_stream", json=body).text)
    v2 = sse_events(httpx.post(f"{shaky.url}/csi/v2/chat_stream", json=body).text)
    assert [name for name, _ in v1] == ["message_begin", "message_append", "message_end", "usage"]
    assert v1[1][1] == {"content": "answer", "logprobs": []}
    assert [name for name, _ in v2] == [
        "message_begin",
        "reasoning",
        "message_append",
        "message_end",
        "usage",
    ]
    assert v2[1][1] == {"content": "thinking"}
    assert v2[2][1] == {"content": "answer"}


def test_chat_v2_has_reasoning_content_and_v1_has_not(server):
    body = [
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "params": {"logprobs": "no"},
        }
    ]
    v1 = httpx.post(f"{server.url}/csi/v1/chat", json=body).json()
    v2 = httpx.post(f"{server.url}/csi/v2/chat", json=body).json()
    assert "reasoning_content" not in v1[0]["message"]
    assert v2[0]["message"]["reasoning_content"] is None
    assert {k: v for k, v in v2[0]["message"].items() if k != "reasoning_content"} == v1[0][
        "message"
    ]


def test_unknown_functions_and_versions_are_404(server):
    assert httpx.post(f"{server.url}/csi/v1/complete_text", json=[]).status_code == 404
    assert httpx.post(f"{server.url}/csi/v1/nothing", json=[]).status_code == 404
    assert httpx.post(f"{server.url}/csi/v3/complete", json=[]).status_code == 404
    assert httpx.get(f"{server.url}/csi/v1/complete").status_code == 405


def test_bodies_the_kernel_refuses(server):
    url = f"{server.url}/csi/v1/complete"
    not_json = httpx.post(url, content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert not_json.text.startswith("Failed to parse the request body as JSON: ")
    no_type = httpx.post(url, content=b"[]")
    assert no_type.status_code == 415
    assert no_type.text == "Expected request with `Content-Type: application/json`"
    wrong_shape = httpx.post(url, json={"model": "m"})
    assert wrong_shape.status_code == 422
    assert wrong_shape.text.startswith("Failed to deserialize the JSON body into the target type")
    stream_shape = httpx.post(f"{server.url}/csi/v1/chat_stream", json={"model": "m"})
    assert stream_shape.status_code == 422


def test_tools_pass_the_namespace_through(server):
    listed = httpx.post(f"{server.url}/csi/v1/list_tools", json={"namespace": "acme"})
    assert listed.status_code == 200 and listed.json() == []
    body = {"namespace": "acme", "requests": [{"name": "add", "arguments": []}]}
    invoked = httpx.post(f"{server.url}/csi/v1/invoke_tool", json=body)
    assert invoked.status_code == 200
    (answer,) = invoked.json()
    assert isinstance(answer, str) and "add" in answer  # the tool's error is its answer
    assert server.bodies[-1]["namespace"] == "acme"
    assert recorded(server, "invoke_tool").request["namespace"] == "acme"


def test_a_client_that_goes_away_stops_the_models_stream(shaky):
    body = {
        "model": "hang",
        "messages": [{"role": "user", "content": "hi"}],
        "params": {"logprobs": "no"},
    }
    with httpx.stream("POST", f"{shaky.url}/csi/v1/chat_stream", json=body) as response:
        # Kept: a dropped line iterator would close the connection at once (httpcore).
        lines = response.iter_lines()
        assert next(lines) == "event: message_begin"
        assert ShakyProvider.waiting.wait(HANG)  # the server waits for the model's next event
        assert not ShakyProvider.hung_up.is_set()
    host = shaky.hosts[-1]
    assert ShakyProvider.hung_up.wait(HANG), "the provider was never told"
    assert host.cancel.is_cancelled
    deadline = time.monotonic() + HANG
    while not heard_by(shaky, host):
        assert time.monotonic() < deadline, "on_calls never heard the stream"
        time.sleep(0.01)
    (call,) = host.calls  # recorded once, as stopped
    assert call.csi == "chat_stream" and call.error == "stopped while waiting for the model"
    assert heard_by(shaky, host) == [call]


def heard_by(server: Server, host: CsiHost) -> list[CsiCall]:
    return [call for _path, calls in server.heard for call in calls if call in host.calls]
