"""`pharia:skill@0.4` (0.4.0, stable since PhariaEngine 0.15) and `@0.5` (0.5.0, the same
interfaces behind `@unstable(feature = alpha)`).

Against 0.3: no `explain` and no `complete-v2` (`complete` carries `echo`); chat messages are
a variant (assistant with reasoning and tool calls, tool, other); chat sends tools, tool
choice, response format and reasoning effort and receives tool calls (`finish-reason` gains
`tool-calls`); chat-stream events gain `reasoning` and `tool-call` and lose logprobs; and
`message-item` gains `reasoning` (at index 1, so the later cases moved).
"""

from __future__ import annotations

import json
from typing import Any

from workbench.run.worlds.common import (
    CHUNKING,
    DOCUMENT_INDEX,
    LANGUAGE,
    TOOL,
    chat_event_common,
    completion,
    completion_event,
    completion_requests,
    distributions,
    finish_reason,
    message_item,
    usage,
)
from workbench.run.worlds.table import (
    CsiJson,
    HostFunction,
    HostStream,
    Interface,
    Plain,
    WorldLine,
    only_argument,
)

_WORLD = "pharia:skill@0.4"


def _json(value: bytes | None) -> Any:
    return None if value is None else json.loads(value)


def chat_message(message: Plain) -> CsiJson:
    ((case, value),) = message.items()
    if case == "assistant":
        return {"role": "assistant", **value}
    if case == "tool":
        return {"role": "tool", **value}
    return {"role": value["role"], "content": value["content"]}


def chat_params(params: Plain) -> CsiJson:
    out = dict(params)
    if params.get("tools") is not None:
        out["tools"] = [
            {**tool, "parameters": _json(tool["parameters"])} for tool in params["tools"]
        ]
    response_format = params.get("response_format")
    if isinstance(response_format, dict):
        schema = response_format["json_schema"]
        out["response_format"] = {"json_schema": {**schema, "schema": _json(schema["schema"])}}
    return out


def chat_request(request: Plain) -> CsiJson:
    return {
        "model": request["model"],
        "messages": [chat_message(m) for m in request["messages"]],
        "params": chat_params(request["params"]),
    }


def assistant_message(message: dict[str, Any]) -> Plain:
    calls = message.get("tool_calls")
    return {
        "content": message.get("content"),
        "reasoning_content": message.get("reasoning_content"),
        "tool_calls": None
        if calls is None
        else [{"id": c["id"], "name": c["name"], "arguments": c["arguments"]} for c in calls],
    }


def chat_response(answer: dict[str, Any]) -> Plain:
    return {
        "message": assistant_message(answer.get("message") or {}),
        "finish_reason": finish_reason(answer["finish_reason"], tool_calls=True, world=_WORLD),
        "logprobs": distributions(answer.get("logprobs")),
        "usage": usage(answer),
    }


def chat_event(event: dict[str, Any]) -> Plain | None:
    data = event.get("data") or {}
    kind = event["event"]
    if kind == "reasoning":
        return {"reasoning": data.get("content", "")}
    if kind == "message_append":
        return {"message_append": {"content": data.get("content", "")}}
    if kind == "tool_call":
        return {
            "tool_call": [
                {k: chunk.get(k) for k in ("index", "id", "name", "arguments")}
                for chunk in data.get("tool_calls", [])
            ]
        }
    return chat_event_common(kind, data, world=_WORLD, tool_calls=True)


INFERENCE = Interface(
    functions={
        "complete": HostFunction(
            "complete",
            request=lambda a: completion_requests(only_argument(a)),
            response=lambda answers: [
                completion(answer, world=_WORLD, tool_calls=True) for answer in answers
            ],
        ),
        "chat": HostFunction(
            "chat",
            request=lambda a: [chat_request(r) for r in only_argument(a)],
            response=lambda answers: [chat_response(a) for a in answers],
        ),
    },
    streams={
        "completion-stream": HostStream(
            "completion_stream",
            request=lambda init: completion_requests([init])[0],
            event=completion_event,
        ),
        "chat-stream": HostStream("chat_stream", request=chat_request, event=chat_event),
    },
)

_INTERFACES = {
    "inference": INFERENCE,
    "chunking": CHUNKING,
    "document-index": DOCUMENT_INDEX,
    "language": LANGUAGE,
    "tool": TOOL,
    "streaming-output": Interface(),
}

V0_4 = WorldLine(
    version="0.4.0",
    interfaces=_INTERFACES,
    message_item=message_item,
    kernels=(
        (
            0,
            "PhariaEngine 0.15 and later (Pharia Kernel 0.13.20 to 0.14 only with unstable "
            "features on)",
        ),
    ),
)

V0_5 = WorldLine(
    version="0.5.0",
    interfaces=_INTERFACES,
    message_item=message_item,
    kernels=((0, "PhariaEngine 0.15 and later, as an alpha world that may still change"),),
)
