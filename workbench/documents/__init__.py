"""The CSI's document functions (search, documents, document_metadata) behind one small
interface, served by the project's own files (`local.LocalDocumentIndex`) or by an Aleph
Alpha Document Index over HTTP (`remote.RemoteDocumentIndex`).

Requests and results are the kernel's `/csi/v1` JSON (kernel src/csi_shell/v1.rs), one item
of a batch at a time. A backend raises `workbench.errors.DocumentIndexError`, with one
sentence saying what is missing or failed and what to do, for every failure a user can
cause, and nothing else. The backends are imported from their modules, not from here: the
remote one brings httpx, which is slow to import.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["DocumentIndex"]


class DocumentIndex(Protocol):
    #: One line for the trace: what answers, and how it ranks.
    description: str

    def search(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """One `/csi/v1` search item, `{"query", "index_path": {"namespace", "collection",
        "index"}, "max_results", "min_score": float | None, "filters": [...]}`, to its
        results, best first: `{"document_path": {"namespace", "collection", "name"},
        "content", "score", "start": {"item", "position"}, "end": {"item", "position"}}`
        (cursors inclusive at both ends, positions in characters)."""
        ...

    def document(self, path: dict[str, Any]) -> dict[str, Any]:
        """`{"namespace", "collection", "name"}` to `{"path", "contents": [{"modality":
        "text", "text"} | {"modality": "image"}], "metadata": JSON | None}`."""
        ...

    def metadata(self, path: dict[str, Any]) -> Any:
        """The document's metadata (JSON), or None if it has none."""
        ...

    def close(self) -> None: ...
