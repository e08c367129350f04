"""The whole CSI offline: one SDK skill (tests/data/skills/sdk_skill, call "everything")
calls chunking, language selection, search, documents, metadata, list-tools and invoke-tool;
it runs against the project's own documents and a real MCP server on loopback, and against a
loopback server speaking the Document Index API. Each answer is checked against what the
library or the test itself says independently: the splitter's own chunks, lingua's own
answer, the documents the test wrote."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lingua import Language, LanguageDetectorBuilder
from semantic_text_splitter import TextSplitter

from tests.conftest import collect
from tests.servers.document_index import TOKEN, DocumentIndexState, document_index_server
from tests.servers.mcp_server import RunningMcpServer, mcp_server, tools
from workbench import flows
from workbench.csi.backends import CsiBackends
from workbench.documents.local import LocalDocumentIndex
from workbench.documents.remote import RemoteDocumentIndex
from workbench.models import EchoProvider
from workbench.models.base import ModelProvider
from workbench.models.replay import RecordingProvider, ReplayProvider
from workbench.project.model import SkillProject
from workbench.run.pool import RunnerPool
from workbench.run.results import RunResult
from workbench.tools import ToolBox

LONG = "Oat milk is made from oats and water. " * 4 + "Hafermilch wird aus Hafer gemacht."
SAID = [
    "Ich trinke jeden Morgen einen Kaffee mit Hafermilch, weil sie mir gut schmeckt.",
    "I drink a coffee with oat milk every morning because I like how it tastes.",
]
DOCUMENTS = {
    "oat-milk-en": ("Oat milk is a plant milk made from oats.", {"lang": "en", "year": 2024}),
    "hafermilch-de": ("Hafermilch, oat milk auf Englisch, ist eine Pflanzenmilch.", {"lang": "de"}),
    "weather": ("It rains in Heidelberg today.", {"lang": "en"}),
}
ASKED = {
    "namespace": "playground",
    "collection": "drinks",
    "long": LONG,
    "size": 30,
    "said": SAID,
    "query": "oat milk",
    "field": "lang",
    "value": "en",
    "document": "oat-milk-en",
}


@pytest.fixture(scope="module")
def pool() -> Iterator[RunnerPool]:
    runner = RunnerPool()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def mcp() -> Iterator[RunningMcpServer]:
    with mcp_server(tools) as server:
        yield server


@pytest.fixture
def local_documents(tmp_path: Path) -> Path:
    folder = tmp_path / "documents" / ASKED["namespace"] / ASKED["collection"]
    folder.mkdir(parents=True)
    for name, (text, metadata) in DOCUMENTS.items():
        (folder / f"{name}.md").write_text(text)
        (folder / f"{name}.meta.json").write_text(json.dumps(metadata))
    return tmp_path


def run(
    pool: RunnerPool,
    project: SkillProject,
    backends: CsiBackends,
    provider: ModelProvider | None = None,
    request: dict[str, Any] | None = None,
) -> RunResult:
    text = json.dumps(request or {"call": "everything", "text": json.dumps(ASKED)})
    events = asyncio.run(
        collect(
            flows.run(
                project,
                flows.RunRequest(text),
                provider or EchoProvider(),
                runner=pool,
                backends=backends,
            )
        )
    )
    assert isinstance(events[-1], flows.RunFinished), events[-1]
    return events[-1].result


def answer(result: RunResult) -> dict[str, Any]:
    assert result.error is None, f"{result.error}\n{getattr(result.error, 'details', '')}"
    return json.loads(json.loads(result.output or "")["answer"])


def lingua_says(text: str) -> str | None:
    detector = (
        LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.GERMAN)
        .with_minimum_relative_distance(0.5)
        .build()
    )
    found = detector.detect_language_of(text)
    return None if found is None else found.iso_code_639_3.name.lower()


def test_every_csi_function_offline_with_the_projects_documents_and_mcp_tools(
    pool, sdk_skill_build, local_documents, mcp
) -> None:
    project, _ = sdk_skill_build
    backends = CsiBackends(
        documents=LocalDocumentIndex(local_documents), tools=ToolBox([mcp.url], timeout=30)
    )
    try:
        result = run(pool, project, backends)
    finally:
        backends.close()
    said = answer(result)
    # Echo has no tokenizer: characters, as the kernel falls back to.
    splitter = TextSplitter(ASKED["size"], 2)
    assert said["chunks"] == [[text, offset] for offset, text in splitter.chunk_indices(LONG)]
    assert said["languages"] == [lingua_says(text) for text in SAID] == ["deu", "eng"]
    assert {name for name, _ in said["search"]} == {"oat-milk-en", "hafermilch-de"}
    assert said["narrowed"] == ["oat-milk-en"]  # the filter narrows the search
    assert said["document"] == [DOCUMENTS["oat-milk-en"][0]]
    assert said["metadata"] == DOCUMENTS["oat-milk-en"][1]
    assert {"add", "echo", "fail"} <= set(said["tools"])
    assert said["added"] == "5"
    assert said["failed"].startswith("error: ") and "out of cheese" in said["failed"]
    traced = {call.csi for call in result.csi_calls}
    assert traced >= {
        "chunk_with_offsets",
        "select_language",
        "search",
        "documents",
        "document_metadata",
        "list_tools",
        "invoke_tool",
    }
    (search, *_) = [c for c in result.csi_calls if c.csi == "search"]
    assert any("BM25" in note for note in search.notes)  # said where ranking differs


def test_the_same_skill_against_a_document_index_server(pool, sdk_skill_build, mcp) -> None:
    project, _ = sdk_skill_build
    state = DocumentIndexState()
    for name, (text, metadata) in DOCUMENTS.items():
        state.add(ASKED["namespace"], ASKED["collection"], name, text, metadata)
    state.indexes = ("asym",)
    with document_index_server(state) as server:
        backends = CsiBackends(
            documents=RemoteDocumentIndex(server.url, TOKEN, timeout=10),
            tools=ToolBox([mcp.url], timeout=30),
        )
        try:
            said = answer(run(pool, project, backends))
        finally:
            backends.close()
    assert {name for name, _ in said["search"]} == {"oat-milk-en", "hafermilch-de"}
    assert said["document"] == [DOCUMENTS["oat-milk-en"][0]]
    assert said["metadata"] == DOCUMENTS["oat-milk-en"][1]
    searches = [r.body for r in state.requests if r.method == "POST"]
    assert searches[-1]["filters"] == [
        {"with": [{"metadata": {"field": "lang", "equal_to": "en"}}]},
        {"with": [{"modality": "text"}]},
    ]


def test_a_run_with_documents_and_tools_replays_offline(
    pool, sdk_skill_build, local_documents, mcp, tmp_path
) -> None:
    project, _ = sdk_skill_build
    tape = tmp_path / "replies.json"
    backends = CsiBackends(
        documents=LocalDocumentIndex(local_documents), tools=ToolBox([mcp.url], timeout=30)
    )
    try:
        recorded = run(pool, project, backends, RecordingProvider(EchoProvider(), tape))
    finally:
        backends.close()
    recorded_functions = {call["function"] for call in json.loads(tape.read_text())["calls"]}
    assert {"search", "documents", "invoke_tool", "list_tools", "chunk_with_offsets"} <= (
        recorded_functions
    )
    # No documents, no tools, no model: everything from the recording.
    replayed = run(pool, project, CsiBackends(), ReplayProvider(tape))
    assert answer(replayed) == answer(recorded)


def test_tool_events_reach_a_message_stream_as_the_kernel_sends_them(
    pool, sdk_stream_build, mcp
) -> None:
    project, _ = sdk_stream_build
    backends = CsiBackends(tools=ToolBox([mcp.url], timeout=30))
    try:
        result = run(pool, project, backends, request={"topic": "tools"})
    finally:
        backends.close()
    assert result.error is None, result.error
    tool_events = [m["event"] for m in result.messages if m["type"] == "tool"]
    assert tool_events[:2] == [{"type": "begin", "name": "add"}, {"type": "begin", "name": "fail"}]
    assert tool_events[2] == {"type": "end", "name": "add"}
    assert tool_events[3]["type"] == "error" and "no" in tool_events[3]["message"]
    assert result.messages.index({"type": "tool", "event": tool_events[-1]}) < next(
        i for i, m in enumerate(result.messages) if m["type"] == "begin"
    )
    assert (result.output or "").startswith("5\nerror: ")


def test_an_unreachable_mcp_server_is_one_sentence(pool, sdk_skill_build, local_documents):
    project, _ = sdk_skill_build
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mcp"
    backends = CsiBackends(
        documents=LocalDocumentIndex(local_documents), tools=ToolBox([url], timeout=10)
    )
    try:
        result = run(pool, project, backends)
    finally:
        backends.close()
    assert result.error is not None
    said = str(result.error)
    assert f"The MCP server at {url} could not be reached" in said, said
    assert "\n" not in said and "Traceback" not in said
