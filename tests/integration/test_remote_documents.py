"""The remote document index against a real HTTP server speaking the Document Index API:
the requests are the kernel's (src/search/client.rs), the answers mapped as the kernel maps
them (src/search/actor.rs), and every failure one sentence."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers.document_index import (
    TOKEN,
    DocumentIndexState,
    RunningDocumentIndex,
    document_index_server,
)
from workbench.documents.remote import RemoteDocumentIndex
from workbench.errors import DocumentIndexError

KERNEL_TEXT = "The Kernel runs skills, which reach the world through the CSI."


@pytest.fixture
def document_index() -> Iterator[RunningDocumentIndex]:
    state = DocumentIndexState()
    state.add("Kernel", "test", "kernel-docs", KERNEL_TEXT, {"url": "https://example.de"})
    state.add("Kernel", "test", "kernel/docs", "Tomatoes are red.", None)
    with document_index_server(state) as running:
        yield running


@pytest.fixture
def client(document_index: RunningDocumentIndex) -> Iterator[RemoteDocumentIndex]:
    index = RemoteDocumentIndex(document_index.url + "/", TOKEN, timeout=5)
    yield index
    index.close()


def search_request(query: str, filters: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "query": query,
        "index_path": {"namespace": "Kernel", "collection": "test", "index": "asym-64"},
        "max_results": 3,
        "min_score": None,
        "filters": filters or [],
        **extra,
    }


def test_search_sends_the_kernels_body_and_maps_its_results(
    document_index: RunningDocumentIndex, client: RemoteDocumentIndex
) -> None:
    year = {"with": [{"metadata": {"field": "created", "after": "1970-07-01T14:10:11Z"}}]}
    results = client.search(search_request("What is the Kernel?", [year]))

    (received,) = document_index.state.requests
    assert received.method == "POST"
    assert received.raw_path == "/collections/Kernel/test/indexes/asym-64/search"
    assert received.headers["authorization"] == f"Bearer {TOKEN}"
    assert received.body == {
        "query": [{"modality": "text", "text": "What is the Kernel?"}],
        "max_results": 3,
        "min_score": None,
        # The skill's filters first, then the one the kernel adds to every search.
        "filters": [year, {"with": [{"modality": "text"}]}],
    }
    assert list(received.body) == ["filters", "max_results", "min_score", "query"]
    assert results == [
        {
            "document_path": {"namespace": "Kernel", "collection": "test", "name": "kernel-docs"},
            "content": KERNEL_TEXT,
            "score": pytest.approx(2 / 4),
            "start": {"item": 0, "position": 0},
            "end": {"item": 0, "position": len(KERNEL_TEXT) - 1},
        }
    ]


def test_min_score_and_max_results_are_sent_as_given(
    document_index: RunningDocumentIndex, client: RemoteDocumentIndex
) -> None:
    assert client.search(search_request("kernel", max_results=1, min_score=0.99)) != []
    assert document_index.state.requests[-1].body["min_score"] == 0.99
    assert document_index.state.requests[-1].body["max_results"] == 1


def test_documents_and_metadata_are_fetched_with_the_name_encoded(
    document_index: RunningDocumentIndex, client: RemoteDocumentIndex
) -> None:
    path = {"namespace": "Kernel", "collection": "test", "name": "kernel/docs"}
    assert client.document(path) == {
        "path": path,
        "contents": [{"modality": "text", "text": "Tomatoes are red."}],
        "metadata": None,
    }
    assert (
        document_index.state.requests[-1].raw_path == "/collections/Kernel/test/docs/kernel%2Fdocs"
    )
    assert document_index.state.requests[-1].method == "GET"
    other = {"namespace": "Kernel", "collection": "test", "name": "kernel-docs"}
    assert client.metadata(other) == {"url": "https://example.de"}
    assert client.metadata(path) is None


def test_an_image_item_is_passed_on_without_its_bytes(
    document_index: RunningDocumentIndex, client: RemoteDocumentIndex
) -> None:
    document_index.state.documents[("Kernel", "test", "picture")] = {
        "contents": [
            {"modality": "image", "bytes": "iVBORw0KGgo="},
            {"modality": "text", "text": "x"},
        ],
        "metadata": {"kind": "figure"},
    }
    document = client.document({"namespace": "Kernel", "collection": "test", "name": "picture"})
    assert document["contents"] == [{"modality": "image"}, {"modality": "text", "text": "x"}]


def test_a_wrong_token_is_said_with_where_to_set_it(document_index: RunningDocumentIndex) -> None:
    index = RemoteDocumentIndex(document_index.url, "not-the-token", timeout=5)
    with pytest.raises(DocumentIndexError) as raised:
        index.search(search_request("kernel"))
    index.close()
    assert str(raised.value) == (
        f"The Document Index at {document_index.url} did not accept the token (401 "
        "Unauthorized); set the Document Index token with `workbench key set document-index`."
    )


def test_no_token_is_said_before_anything_is_sent(document_index: RunningDocumentIndex) -> None:
    index = RemoteDocumentIndex(document_index.url, None, timeout=5)
    path = {"namespace": "Kernel", "collection": "test", "name": "kernel-docs"}
    for call, doing in (
        (lambda: index.search(search_request("kernel")), "Searching in the Document Index"),
        (lambda: index.document(path), "Fetching a document from the Document Index"),
        (lambda: index.metadata(path), "Fetching metadata from the Document Index"),
    ):
        with pytest.raises(DocumentIndexError, match=f"^{doing} requires a PhariaAI token;"):
            call()
    index.close()
    assert document_index.state.requests == []


def test_a_missing_collection_index_or_document_names_it(client: RemoteDocumentIndex) -> None:
    gone = {"namespace": "Kernel", "collection": "gone", "index": "asym-64"}
    with pytest.raises(DocumentIndexError) as raised:
        client.search({**search_request("x"), "index_path": gone})
    assert str(raised.value).endswith(
        "has no collection Kernel/gone with an index 'asym-64' (404: Resource collection with "
        "ID Kernel/gone does not exist)."
    )

    hybrid = {"namespace": "Kernel", "collection": "test", "index": "hybrid"}
    with pytest.raises(DocumentIndexError, match="with an index 'hybrid' \\(404: "):
        client.search({**search_request("x"), "index_path": hybrid})

    with pytest.raises(DocumentIndexError) as raised:
        client.document({"namespace": "Kernel", "collection": "test", "name": "nope"})
    assert str(raised.value).endswith(
        "has no document 'nope' in the collection Kernel/test (404: Resource document with "
        "ID Kernel/test/docs/nope does not exist)."
    )


def test_an_unreachable_index_names_its_url() -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    index = RemoteDocumentIndex(f"http://user:secret@127.0.0.1:{port}", TOKEN, timeout=5)
    with pytest.raises(DocumentIndexError) as raised:
        index.search(search_request("kernel"))
    index.close()
    assert str(raised.value) == (
        f"Cannot reach the Document Index at http://127.0.0.1:{port} (connection refused); "
        "check its URL, and that it is running."
    )


@pytest.mark.parametrize(
    ("section", "phrase"),
    [
        (
            [{"modality": "text", "text": "a"}, {"modality": "text", "text": "b"}],
            "more than one item in its section",
        ),
        ([{"modality": "image", "bytes": "AAAA"}], "a search result that is not text"),
    ],
)
def test_results_the_kernel_refuses_are_refused(
    document_index: RunningDocumentIndex,
    client: RemoteDocumentIndex,
    section: list[Any],
    phrase: str,
) -> None:
    cursor = {"modality": "text", "item": 0, "position": 0}
    document_index.state.search_reply = [
        {
            "document_path": {"namespace": "Kernel", "collection": "test", "name": "kernel-docs"},
            "section": section,
            "score": 0.5,
            "start": cursor,
            "end": cursor,
        }
    ]
    with pytest.raises(DocumentIndexError, match=phrase):
        client.search(search_request("kernel"))


def test_a_malformed_filter_is_said_before_anything_is_sent(
    document_index: RunningDocumentIndex, client: RemoteDocumentIndex
) -> None:
    bad = [{"with": [{"metadata": {"field": "year", "bigger_than": 3}}]}]
    with pytest.raises(DocumentIndexError, match=r"^The search's filters cannot be read"):
        client.search(search_request("kernel", bad))
    assert document_index.state.requests == []
