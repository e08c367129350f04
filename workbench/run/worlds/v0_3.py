"""`pharia:skill@0.3` (newest 0.3.11): the SDK's world today (pharia-skill 0.17-0.20).

Worlds `skill` (skill-handler: run + metadata) and, since 0.3.6, `message-stream-skill`.
Batch functions take and return lists. Chat messages are `{role, content}` records and a
chat can neither send tools nor receive tool calls; `explain` and `complete-v2` exist here
and nowhere later.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import ModelError
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
    HostFunction,
    HostStream,
    Interface,
    Plain,
    WorldLine,
    only_argument,
)

_WORLD = "pharia:skill@0.3"


def _completions(answers: list[dict[str, Any]]) -> list[Plain]:
    return [completion(answer, world=_WORLD, tool_calls=False) for answer in answers]


def chat_response(answer: dict[str, Any]) -> Plain:
    message = answer.get("message") or {}
    return {
        "message": {
            "role": message.get("role") or "assistant",
            "content": message.get("content") or "",
        },
        "finish_reason": finish_reason(answer["finish_reason"], tool_calls=False, world=_WORLD),
        "logprobs": distributions(answer.get("logprobs")),
        "usage": usage(answer),
    }


def chat_event(event: dict[str, Any]) -> Plain | None:
    data = event.get("data") or {}
    kind = event["event"]
    if kind == "message_append":
        return {
            "message_append": {
                "content": data.get("content", ""),
                "logprobs": distributions(data.get("logprobs")),
            }
        }
    if kind == "tool_call":
        raise ModelError(
            f"The model streamed tool calls, which a {_WORLD} skill cannot receive; "
            "send no tools or build the skill for pharia:skill@0.4."
        )
    # reasoning: 0.3 has no event for it (the kernel's /csi/v1 drops it too), so None
    return chat_event_common(kind, data, world=_WORLD, tool_calls=False)


INFERENCE = Interface(
    functions={
        "complete": HostFunction(
            "complete",
            request=lambda a: completion_requests(only_argument(a), echo=False),
            response=_completions,
        ),
        "complete-v2": HostFunction(
            "complete",
            request=lambda a: completion_requests(only_argument(a)),
            response=_completions,
        ),
        "chat": HostFunction("chat", response=lambda answers: [chat_response(a) for a in answers]),
        "explain": HostFunction("explain"),
    },
    streams={
        "completion-stream": HostStream(
            "completion_stream",
            request=lambda init: completion_requests([init], echo=False)[0],
            event=completion_event,
        ),
        "chat-stream": HostStream("chat_stream", request=lambda init: init, event=chat_event),
    },
)

V0_3 = WorldLine(
    version="0.3.11",
    interfaces={
        "inference": INFERENCE,
        "chunking": CHUNKING,
        "document-index": DOCUMENT_INDEX,
        "language": LANGUAGE,
        "tool": TOOL,
        # The host's resource; its `write` is linked by the runtime, not from a table.
        "streaming-output": Interface(),
    },
    message_item=message_item,
    kernels=(
        (11, "Pharia Kernel 0.13.10 and later"),
        (8, "Pharia Kernel 0.12.11 and later"),
        (6, "Pharia Kernel 0.11.8 and later"),
        (0, "Pharia Kernel 0.9 and later"),
    ),
)
