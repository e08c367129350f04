"""The `/csi/v1` request shapes both backends take, checked as the kernel's serde would
(kernel src/csi_shell/v1.rs: `SearchRequest`, `DocumentPath`), each failure one sentence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.errors import DocumentIndexError


@dataclass(frozen=True)
class Search:
    query: str
    namespace: str
    collection: str
    index: str
    max_results: int
    min_score: float | None
    filters: list[Any]


def search_request(request: Any) -> Search:
    if not isinstance(request, dict):
        raise DocumentIndexError("A search request must be a JSON object.")
    index_path = request.get("index_path")
    if not isinstance(index_path, dict):
        raise _wrong("index_path", "an object with namespace, collection and index")
    for key in ("namespace", "collection", "index"):
        if not isinstance(index_path.get(key), str):
            raise _wrong(f"index_path.{key}", "a string")
    query, max_results = request.get("query"), request.get("max_results")
    min_score, filters = request.get("min_score"), request.get("filters", [])
    if not isinstance(query, str):
        raise _wrong("query", "a string")
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 0:
        raise _wrong("max_results", "a whole number of at least 0")
    if min_score is not None and (
        isinstance(min_score, bool) or not isinstance(min_score, int | float)
    ):
        raise _wrong("min_score", "a number or null")
    if not isinstance(filters, list):
        raise _wrong("filters", "a list")
    return Search(
        query,
        index_path["namespace"],
        index_path["collection"],
        index_path["index"],
        max_results,
        None if min_score is None else float(min_score),
        filters,
    )


def document_path(path: Any) -> tuple[str, str, str]:
    if not isinstance(path, dict) or not all(
        isinstance(path.get(key), str) for key in ("namespace", "collection", "name")
    ):
        raise DocumentIndexError(
            "A document path needs a namespace, a collection and a name, each a string."
        )
    return path["namespace"], path["collection"], path["name"]


def _wrong(field: str, what: str) -> DocumentIndexError:
    return DocumentIndexError(f"The search request's `{field}` must be {what}.")
