"""The CSI functions served by backends other than the model: the document index (the
project's own documents, or a remote Document Index) and tools (MCP servers).

Each function takes the kernel's `/csi/v1` JSON and returns it, like the inference functions,
so the host records, replays and traces them the same way. Batches are answered in order; a
failure fails the batch, as in the kernel. Tool calls are the exception the kernel makes too:
a tool's own failure is the skill's `err` value, not a failed call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.cancel import CancelToken
from workbench.csi import wire
from workbench.csi.inference import Served
from workbench.errors import CsiUnavailable, InvalidCsiRequest, RunCancelled

if TYPE_CHECKING:
    from workbench.documents import DocumentIndex
    from workbench.tools import ToolBox

#: Where a local index's ranking differs from the kernel's: said on every search it answers.
_BM25 = (
    "Ranked by BM25 full-text search over the project's documents/, not by embeddings as a "
    "Document Index ranks; scores and min_score are not comparable."
)


@dataclass
class CsiBackends:
    """What serves the CSI besides the model provider."""

    documents: DocumentIndex | None = None
    tools: ToolBox | None = None
    #: The namespace a skill's tools come from (the kernel: the skill's own namespace).
    namespace: str = "workbench"
    #: Each tool event as the kernel streams it (`{"type": "begin", "name": ...}`).
    on_tool_event: Callable[[dict[str, Any]], None] | None = field(default=None, repr=False)

    def close(self) -> None:
        for backend in (self.documents, self.tools):
            if backend is not None:
                backend.close()


def _index(backends: CsiBackends, label: str) -> DocumentIndex:
    if backends.documents is None:
        raise CsiUnavailable(
            f"The skill called `{label}`, but no document index is set up; put documents in "
            "the project's documents/ folder, or set a remote Document Index in the config."
        )
    return backends.documents


def _served(response: Any, *notes: str) -> Served:
    return Served(response, None, None, None, tuple(notes))


def search(backends: CsiBackends, request: Any, cancel: CancelToken) -> Served:
    index = _index(backends, "search")
    answers = []
    for item in wire.batch(request, "search"):
        if cancel.is_cancelled:
            raise RunCancelled("The run was cancelled.")
        answers.append(index.search(item))
    local = "BM25" in getattr(index, "description", "")
    return _served(answers, *((_BM25,) if local else ()))


def documents(backends: CsiBackends, request: Any, cancel: CancelToken) -> Served:
    index = _index(backends, "documents")
    return _served([index.document(path) for path in wire.batch(request, "documents")])


def document_metadata(backends: CsiBackends, request: Any, cancel: CancelToken) -> Served:
    index = _index(backends, "document-metadata")
    paths = wire.batch(request, "document_metadata")
    return _served([index.metadata(path) for path in paths])


def list_tools(backends: CsiBackends, request: Any, cancel: CancelToken) -> Served:
    if backends.tools is None:
        return _served([])  # a namespace without MCP servers has no tools
    return _served(backends.tools.list_tools(cancel))


def invoke_tool(backends: CsiBackends, request: Any, cancel: CancelToken) -> Served:
    """Each request's `ok` contents or `err` string; the kernel's begin, then end or error,
    for each tool, as a message stream shows them."""
    calls = [_tool_call(item) for item in _tool_requests(request)]
    emit = backends.on_tool_event or (lambda _event: None)
    from workbench.tools import ToolOutcome, end_event, tool_event, tool_not_found

    for name, _arguments in calls:
        emit(tool_event("begin", name))
    if backends.tools is None:
        outcomes = [ToolOutcome(error=tool_not_found(name)) for name, _ in calls]
    else:
        outcomes = backends.tools.invoke_all(calls, cancel)
    for (name, _arguments), outcome in zip(calls, outcomes, strict=True):
        emit(end_event(name, outcome))
    failed = [name for (name, _), outcome in zip(calls, outcomes, strict=True) if not outcome.ok]
    notes = tuple(f"The tool {name} answered with an error (the skill gets it)." for name in failed)
    answers = [o.contents if o.error is None else o.error for o in outcomes]
    return _served(answers, *notes)


def _tool_requests(request: Any) -> list[Any]:
    if not isinstance(request, dict) or not isinstance(request.get("requests"), list):
        raise InvalidCsiRequest(
            'The invoke_tool request must be {"namespace": ..., "requests": [...]}; the kernel '
            "would refuse it."
        )
    return request["requests"]


def _tool_call(item: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise InvalidCsiRequest(
            "Each invoke_tool request needs a `name`; the kernel would refuse it."
        )
    arguments = {}
    for argument in item.get("arguments") or []:
        if not isinstance(argument, dict) or not isinstance(argument.get("name"), str):
            raise InvalidCsiRequest(
                f"An argument of the {item['name']} tool call has no `name`; the kernel would "
                "refuse it."
            )
        arguments[argument["name"]] = argument.get("value")
    return item["name"], arguments


#: The functions these backends serve, by their `/csi/v1` names.
SERVED: dict[str, Callable[[CsiBackends, Any, CancelToken], Served]] = {
    "search": search,
    "documents": documents,
    "document_metadata": document_metadata,
    "list_tools": list_tools,
    "invoke_tool": invoke_tool,
}
#: What the trace names as the provider of each.
SERVED_BY = {
    "search": "document index",
    "documents": "document index",
    "document_metadata": "document index",
    "list_tools": "MCP tools",
    "invoke_tool": "MCP tools",
}
