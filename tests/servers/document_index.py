"""A real HTTP server on loopback that speaks the Aleph Alpha Document Index API's routes the
kernel calls (kernel src/search/client.rs), with the documents a test gives it and a
required bearer token:

* `POST /collections/{namespace}/{collection}/indexes/{index}/search` answers
  `[{"document_path", "section": [{"modality": "text", "text"}], "score", "start":
  {"modality": "text", "item", "position"}, "end": {...}}]` (the kernel's recorded cassette
  tests/cassettes/search_request.vcr.json has this shape);
* `GET /collections/{namespace}/{collection}/docs/{name}` answers `{"schema_version": "V1",
  "contents": [...], "metadata"}`, and a missing document 404 with the Document Index's
  plain-text sentence (tests/cassettes/document_not_found_is_err.vcr.json).

Its "search" is simple on purpose (a document's first text item, scored by the share of the
query's words in it): the tests are about the protocol, not ranking. A test can make the
next search answer `search_reply` instead, to send what a real index should not.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

TOKEN = "di-test-token"


@dataclass
class Received:
    method: str
    #: The path as sent, percent-encoding kept (a document name's `/` is `%2F` there).
    raw_path: str
    headers: dict[str, str]
    body: Any


@dataclass
class DocumentIndexState:
    #: (namespace, collection, name) -> {"contents": [...], "metadata": ...}
    documents: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    #: Index names every collection has.
    indexes: tuple[str, ...] = ("asym-64",)
    token: str = TOKEN
    #: If set, the next search answers this (then it is cleared).
    search_reply: Any = None
    requests: list[Received] = field(default_factory=list)

    def add(
        self, namespace: str, collection: str, name: str, text: str, metadata: Any = None
    ) -> None:
        self.documents[(namespace, collection, name)] = {
            "contents": [{"modality": "text", "text": text}],
            "metadata": metadata,
        }

    def collections(self) -> set[tuple[str, str]]:
        return {(ns, collection) for ns, collection, _ in self.documents}


@dataclass
class RunningDocumentIndex:
    state: DocumentIndexState
    url: str


def _app(state: DocumentIndexState) -> Starlette:
    async def record(request: Request) -> Response | None:
        raw = await request.body()
        state.requests.append(
            Received(
                request.method,
                request.scope["raw_path"].decode(),
                dict(request.headers),
                json.loads(raw) if raw else None,
            )
        )
        if request.headers.get("authorization") != f"Bearer {state.token}":
            return PlainTextResponse("Unauthorized", status_code=401)
        return None

    async def search(request: Request) -> Response:
        if (refused := await record(request)) is not None:
            return refused
        ns, collection = request.path_params["namespace"], request.path_params["collection"]
        index = request.path_params["index"]
        if (ns, collection) not in state.collections():
            return PlainTextResponse(
                f"Resource collection with ID {ns}/{collection} does not exist.", 404
            )
        if index not in state.indexes:
            return PlainTextResponse(
                f"Resource index with ID {ns}/{collection}/indexes/{index} does not exist.", 404
            )
        if state.search_reply is not None:
            reply, state.search_reply = state.search_reply, None
            return JSONResponse(reply)
        body = state.requests[-1].body
        query = " ".join(part["text"] for part in body["query"] if part["modality"] == "text")
        words = set(re.findall(r"\w+", query.lower()))
        results = []
        for (doc_ns, doc_collection, name), document in sorted(state.documents.items()):
            if (doc_ns, doc_collection) != (ns, collection):
                continue
            text = document["contents"][0]["text"]
            score = len(words & set(re.findall(r"\w+", text.lower()))) / max(len(words), 1)
            if score <= 0 or (body["min_score"] is not None and score < body["min_score"]):
                continue
            results.append(
                {
                    "document_path": {"namespace": ns, "collection": collection, "name": name},
                    "section": [{"modality": "text", "text": text}],
                    "score": score,
                    "start": {"modality": "text", "item": 0, "position": 0},
                    "end": {"modality": "text", "item": 0, "position": len(text) - 1},
                }
            )
        results.sort(key=lambda r: -r["score"])
        return JSONResponse(results[: body["max_results"]])

    async def document(request: Request) -> Response:
        if (refused := await record(request)) is not None:
            return refused
        params = request.path_params
        key = (params["namespace"], params["collection"], params["name"])
        if key not in state.documents:
            return PlainTextResponse(
                f"Resource document with ID {'/'.join(key[:2])}/docs/{key[2]} does not exist.",
                404,
            )
        return JSONResponse({"schema_version": "V1", **state.documents[key]})

    return Starlette(
        routes=[
            Route(
                "/collections/{namespace}/{collection}/indexes/{index}/search",
                search,
                methods=["POST"],
            ),
            Route(
                "/collections/{namespace}/{collection}/docs/{name:path}",
                document,
                methods=["GET"],
            ),
        ]
    )


@contextmanager
def document_index_server(
    state: DocumentIndexState | None = None,
) -> Iterator[RunningDocumentIndex]:
    """The server on 127.0.0.1 at a free port, in a background thread, for the block."""
    state = state or DocumentIndexState()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_app(state), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test Document Index did not start")
        time.sleep(0.01)
    try:
        yield RunningDocumentIndex(state, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
