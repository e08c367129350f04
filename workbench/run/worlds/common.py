"""Conversions several world lines share: between the plain WIT values of the 0.3-0.5
interfaces and the kernel's `/csi/v1` JSON, which the CSI host speaks."""

from __future__ import annotations

import json
from typing import Any

from workbench.errors import InvalidOutput, ModelError
from workbench.run.worlds.table import CsiJson, HostFunction, Interface, Plain, only_argument

# Inference ------------------------------------------------------------------------------------


def distributions(logprobs: list[dict[str, Any]] | None) -> list[Plain]:
    """`/csi/v1` logprobs (tokens as lists of byte values) as `list<distribution>`."""

    def logprob(entry: dict[str, Any]) -> Plain:
        return {"token": bytes(entry.get("token") or []), "logprob": entry.get("logprob", 0.0)}

    return [
        {"sampled": logprob(d["sampled"]), "top": [logprob(t) for t in d.get("top", [])]}
        for d in logprobs or []
    ]


def usage(answer: dict[str, Any]) -> Plain:
    found = answer.get("usage") or {}
    return {"prompt": found.get("prompt", 0), "completion": found.get("completion", 0)}


def finish_reason(reason: str, *, tool_calls: bool, world: str) -> str:
    if reason == "tool_calls" and not tool_calls:
        raise ModelError(
            f"The model answered with tool calls, which a {world} skill cannot receive; "
            "send no tools or build the skill for pharia:skill@0.4."
        )
    return reason


def completion(answer: dict[str, Any], *, world: str, tool_calls: bool) -> Plain:
    return {
        "text": answer.get("text", ""),
        "finish_reason": finish_reason(answer["finish_reason"], tool_calls=tool_calls, world=world),
        "logprobs": distributions(answer.get("logprobs")),
        "usage": usage(answer),
    }


def chat_event_common(kind: str, data: dict[str, Any], *, world: str, tool_calls: bool) -> Plain:
    """The chat-stream events every world has alike: begin, end and usage (else None)."""
    if kind == "message_begin":
        return {"message_begin": data.get("role") or "assistant"}
    if kind == "message_end":
        return {
            "message_end": finish_reason(data["finish_reason"], tool_calls=tool_calls, world=world)
        }
    if kind == "usage":
        return {"usage": usage(data)}
    return None


def completion_requests(requests: list[Plain], *, echo: bool | None = None) -> CsiJson:
    """0.3 `complete` has no echo (false); complete-v2 and 0.4 carry their own."""
    out = []
    for request in requests:
        params = dict(request["params"])
        if echo is not None:
            params["echo"] = echo
        out.append({"model": request["model"], "prompt": request["prompt"], "params": params})
    return out


def completion_event(event: dict[str, Any]) -> Plain | None:
    data = event.get("data") or {}
    if event["event"] == "append":
        return {
            "append": {
                "text": data.get("text", ""),
                "logprobs": distributions(data.get("logprobs")),
            }
        }
    if event["event"] == "end":
        return {"end": finish_reason(data["finish_reason"], tool_calls=False, world="completion")}
    if event["event"] == "usage":
        return {"usage": usage(data)}
    return None


# Messages a message-stream skill writes ------------------------------------------------------


def message_item(item: Plain) -> dict[str, Any]:
    """A `message-item` as the kernel's stream event (its `/message-stream` SSE payloads)."""
    (case, value), *_ = item.items()
    if case == "message_begin":
        return {"type": "begin", "role": (value or {}).get("role")}
    if case == "message_append":
        return {"type": "append", "text": value}
    if case == "reasoning":
        return {"type": "reasoning", "text": value}
    if case == "message_end":
        return {"type": "end", "payload": _json_payload(value)}
    raise InvalidOutput(f"The skill wrote a message item of an unknown kind ({case}).")


def _json_payload(value: bytes | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError as error:
        raise InvalidOutput(
            f"The skill ended its message with a payload that is not JSON ({error}); "
            "end it with JSON bytes, or with none."
        ) from None


# Documents, language, chunking, tools ---------------------------------------------------------

_CONDITIONS_WITH_VALUE = {"equal_to"}


def _metadata_filter(plain: Plain) -> CsiJson:
    condition = plain["condition"]
    if isinstance(condition, str):  # `is-null` has no payload
        return {"metadata": {"field": plain["field"], condition: True}}
    ((name, value),) = condition.items()
    if name in _CONDITIONS_WITH_VALUE:  # metadata-field-value: one typed case
        ((_, value),) = value.items()
    return {"metadata": {"field": plain["field"], name: value}}


def search_requests(requests: list[Plain]) -> CsiJson:
    """`search-filter` as the Document Index writes it: `with-all` is `with` there."""
    names = {"without": "without", "with_one_of": "with_one_of", "with_all": "with"}
    out = []
    for request in requests:
        filters = []
        for search_filter in request.get("filters", []):
            ((case, conditions),) = search_filter.items()
            filters.append({names[case]: [_metadata_filter(c) for c in conditions]})
        out.append({**request, "filters": filters})
    return out


def metadata_bytes(answers: list[Any]) -> list[Plain]:
    return [None if value is None else json.dumps(value).encode() for value in answers]


def documents(answers: list[dict[str, Any]]) -> list[Plain]:
    def modality(content: dict[str, Any]) -> Plain:
        return {"text": content["text"]} if content.get("modality") == "text" else "image"

    return [
        {
            "path": doc["path"],
            "contents": [modality(c) for c in doc.get("contents", [])],
            "metadata": metadata_bytes([doc.get("metadata")])[0],
        }
        for doc in answers
    ]


def invoke_requests(requests: list[Plain]) -> CsiJson:
    return {
        "namespace": None,
        "requests": [
            {
                "name": request["tool_name"],
                "arguments": [
                    {"name": arg["name"], "value": json.loads(arg["value"] or b"null")}
                    for arg in request["arguments"]
                ],
            }
            for request in requests
        ],
    }


def tool_results(answers: list[Any]) -> list[Plain]:
    return [
        {"err": answer}
        if isinstance(answer, str)
        else {"ok": [{"text": part.get("text", "")} for part in answer]}
        for answer in answers
    ]


def tools(answers: list[dict[str, Any]]) -> list[Plain]:
    return [
        {
            "name": tool["name"],
            "description": tool.get("description", ""),
            "input_schema": json.dumps(tool.get("input_schema", {})).encode(),
        }
        for tool in answers
    ]


#: The interfaces 0.3, 0.4 and 0.5 share unchanged.
CHUNKING = Interface(
    functions={
        "chunk": HostFunction("chunk"),
        "chunk-with-offsets": HostFunction("chunk_with_offsets"),
    }
)
DOCUMENT_INDEX = Interface(
    functions={
        "search": HostFunction("search", request=lambda a: search_requests(only_argument(a))),
        "document-metadata": HostFunction("document_metadata", response=metadata_bytes),
        "documents": HostFunction("documents", response=documents),
    }
)
LANGUAGE = Interface(functions={"select-language": HostFunction("select_language")})
TOOL = Interface(
    functions={
        "invoke-tool": HostFunction(
            "invoke_tool",
            request=lambda a: invoke_requests(only_argument(a)),
            response=tool_results,
        ),
        "list-tools": HostFunction(
            "list_tools", request=lambda _a: {"namespace": None}, response=tools
        ),
    }
)
