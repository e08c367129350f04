"""The kernel's `/csi/v1` JSON for inference, read into `workbench.models.inference` types and
written back from them; chat as `/csi/v2` has it (with `reasoning_content`, `reasoning`
events, and logprobs on `message_append`).

Reading is as lenient as the kernel's serde: an optional field may be missing or null, and
unknown fields are ignored; beyond the kernel, `tool_choice` {"name": x} and
`reasoning_effort` "minimal" are taken, as the SDK's main branch sends them, and a JSON
Schema may come as JSON text (a WIT `list<u8>` decoded). Anything else the kernel would
refuse raises `InvalidCsiRequest`, naming the request and the field.
"""

from __future__ import annotations

import json
import math
from typing import Any

from workbench.errors import InvalidCsiRequest
from workbench.models.inference import (
    GRANULARITIES,
    REASONING_EFFORTS,
    ChatEvent,
    ChatMessage,
    ChatParams,
    ChatRequest,
    ChatResult,
    CompletionAppend,
    CompletionEnd,
    CompletionEvent,
    CompletionParams,
    CompletionRequest,
    CompletionResult,
    Distribution,
    ExplanationRequest,
    Function,
    JsonSchemaFormat,
    Logprob,
    Logprobs,
    MessageAppend,
    MessageBegin,
    MessageEnd,
    NamedToolChoice,
    ReasoningAppend,
    ResponseFormat,
    StreamUsage,
    TextScore,
    TokenUsage,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
)

#: The roles the kernel passes on besides "assistant" and "tool" (lower-cased first).
OTHER_ROLES = ("system", "developer", "user")

# --- reading ------------------------------------------------------------------------------


class _Fields:
    """One JSON object of a request, read field by field; `where` names it in errors."""

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise InvalidCsiRequest(f"{where} must be a JSON object, not {_shown(value)}.")
        self.value = value
        self.where = where

    def fail(self, name: str, what: str) -> InvalidCsiRequest:
        return InvalidCsiRequest(
            f"In {self.where}, `{name}` must be {what}, not {_shown(self.value.get(name))}; "
            "the kernel would refuse it."
        )

    def get(self, name: str, *, required: bool = False) -> Any:
        value = self.value.get(name)
        if value is None and required:
            raise InvalidCsiRequest(f"In {self.where}, `{name}` is missing; the kernel needs it.")
        return value

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.get(name, required=required)
        if value is not None and not isinstance(value, str):
            raise self.fail(name, "a string")
        return value

    def count(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(name, "a whole number, 0 or more")
        return value

    def number(self, name: str) -> float | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, "a number")
        return float(value)

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(name, "true or false")
        return value

    def items(self, name: str) -> list[Any] | None:
        value = self.get(name)
        if value is not None and not isinstance(value, list):
            raise self.fail(name, "a list")
        return value

    def json_value(self, name: str) -> Any:
        value = self.get(name)
        if isinstance(value, str):  # JSON text, as a WIT `list<u8>` holds it
            try:
                return json.loads(value)
            except ValueError:
                raise self.fail(name, "a JSON Schema") from None
        return value


def completion_request(value: Any, where: str) -> CompletionRequest:
    fields = _Fields(value, where)
    params = _Fields(fields.get("params") or {}, f"{where}, `params`")
    stop = params.items("stop") or []
    if not all(isinstance(sequence, str) for sequence in stop):
        raise params.fail("stop", "a list of strings")
    return CompletionRequest(
        model=str(fields.text("model", required=True)),
        prompt=str(fields.text("prompt", required=True)),
        params=CompletionParams(
            max_tokens=params.count("max_tokens"),
            temperature=params.number("temperature"),
            top_k=params.count("top_k"),
            top_p=params.number("top_p"),
            stop=tuple(stop),
            return_special_tokens=bool(params.flag("return_special_tokens", False)),
            frequency_penalty=params.number("frequency_penalty"),
            presence_penalty=params.number("presence_penalty"),
            logprobs=_logprobs(params),
            echo=bool(params.flag("echo", False)),
        ),
    )


def _logprobs(params: _Fields) -> Logprobs:
    value = params.get("logprobs")
    if value is None or value == "no":
        return "no"
    if value == "sampled":
        return "sampled"
    top = value.get("top") if isinstance(value, dict) else value
    if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= 255:
        raise params.fail("logprobs", '"no", "sampled" or {"top": n} with n from 0 to 255')
    return top


def chat_request(value: Any, where: str) -> ChatRequest:
    fields = _Fields(value, where)
    messages = fields.items("messages")
    if messages is None:
        fields.get("messages", required=True)
    params = _Fields(fields.get("params") or {}, f"{where}, `params`")
    return ChatRequest(
        model=str(fields.text("model", required=True)),
        messages=tuple(
            _message(message, f"{where}, message {n}")
            for n, message in enumerate(messages or [], 1)
        ),
        params=ChatParams(
            max_tokens=params.count("max_tokens"),
            max_completion_tokens=params.count("max_completion_tokens"),
            temperature=params.number("temperature"),
            top_p=params.number("top_p"),
            frequency_penalty=params.number("frequency_penalty"),
            presence_penalty=params.number("presence_penalty"),
            logprobs=_logprobs(params),
            tools=_tools(params),
            tool_choice=_tool_choice(params),
            parallel_tool_calls=params.flag("parallel_tool_calls"),
            response_format=_response_format(params),
            reasoning_effort=_reasoning_effort(params),
        ),
    )


def _message(value: Any, where: str) -> ChatMessage:
    fields = _Fields(value, where)
    role = str(fields.text("role", required=True)).lower()
    if role not in ("assistant", "tool", *OTHER_ROLES):
        raise fields.fail("role", "one of system, developer, user, assistant or tool")
    calls = fields.items("tool_calls")
    tool_calls = None
    if calls is not None:
        tool_calls = tuple(
            _tool_call(call, f"{where}, tool call {n}") for n, call in enumerate(calls, 1)
        )
    return ChatMessage(
        role=role,
        # Only an assistant's message may go without content (when it calls tools).
        content=fields.text("content", required=role != "assistant"),
        reasoning_content=fields.text("reasoning_content"),
        tool_calls=tool_calls,
        tool_call_id=(fields.text("tool_call_id") or "") if role == "tool" else None,
    )


def _tool_call(value: Any, where: str) -> ToolCall:
    fields = _Fields(value, where)
    arguments = fields.get("arguments")
    return ToolCall(
        id=str(fields.text("id", required=True)),
        name=str(fields.text("name", required=True)),
        arguments=arguments if isinstance(arguments, str) else json.dumps(arguments or {}),
    )


def _tools(params: _Fields) -> tuple[Function, ...] | None:
    tools = params.items("tools")
    if tools is None:
        return None
    functions = []
    for n, tool in enumerate(tools, 1):
        fields = _Fields(tool, f"{params.where}, tool {n}")
        functions.append(
            Function(
                name=str(fields.text("name", required=True)),
                description=fields.text("description"),
                parameters=fields.json_value("parameters"),
                strict=fields.flag("strict"),
            )
        )
    return tuple(functions)


def _tool_choice(params: _Fields) -> ToolChoice | None:
    value = params.get("tool_choice")
    if value is None or value in ("none", "auto", "required"):
        return value  # type: ignore[no-any-return]
    # The kernel's {"named": x}, and {"name": x} as the SDK's main branch writes it.
    name = value.get("named", value.get("name")) if isinstance(value, dict) else None
    if not isinstance(name, str):
        raise params.fail("tool_choice", '"none", "auto", "required" or {"named": tool}')
    return NamedToolChoice(name)


def _response_format(params: _Fields) -> ResponseFormat | None:
    value = params.get("response_format")
    if value is None or value in ("text", "json_object"):
        return value  # type: ignore[no-any-return]
    if isinstance(value, dict) and isinstance(value.get("json_schema"), dict):
        fields = _Fields(value["json_schema"], f"{params.where}, `response_format.json_schema`")
        return JsonSchemaFormat(
            name=str(fields.text("name", required=True)),
            description=fields.text("description"),
            schema=fields.json_value("schema"),
            strict=fields.flag("strict"),
        )
    raise params.fail("response_format", '"text", "json_object" or {"json_schema": {...}}')


def _reasoning_effort(params: _Fields) -> Any:
    value = params.get("reasoning_effort")
    if value is not None and value not in REASONING_EFFORTS:
        raise params.fail("reasoning_effort", '"minimal", "low", "medium" or "high"')
    return value


def explanation_request(value: Any, where: str) -> ExplanationRequest:
    fields = _Fields(value, where)
    granularity = fields.get("granularity") or "auto"
    if granularity not in GRANULARITIES:
        raise fields.fail("granularity", '"auto", "word", "sentence" or "paragraph"')
    return ExplanationRequest(
        prompt=str(fields.text("prompt", required=True)),
        target=str(fields.text("target", required=True)),
        model=str(fields.text("model", required=True)),
        granularity=granularity,
    )


def batch(value: Any, function: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidCsiRequest(
            f"The {function} request must be a list of requests, not {_shown(value)}."
        )
    return value


def _shown(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:59] + "…"


# --- writing ------------------------------------------------------------------------------


def _logprob_json(logprob: Logprob) -> dict[str, Any]:
    # serde writes a NaN as null, which the SDK reads back as NaN.
    value = None if math.isnan(logprob.logprob) else logprob.logprob
    return {"token": list(logprob.token), "logprob": value}


def logprobs_json(distributions: tuple[Distribution, ...]) -> list[dict[str, Any]]:
    return [
        {"sampled": _logprob_json(d.sampled), "top": [_logprob_json(t) for t in d.top]}
        for d in distributions
    ]


def usage_json(usage: TokenUsage) -> dict[str, int]:
    return {"prompt": usage.prompt, "completion": usage.completion}


def completion_json(result: CompletionResult) -> dict[str, Any]:
    return {
        "text": result.text,
        "finish_reason": result.finish_reason,
        "logprobs": logprobs_json(result.logprobs),
        "usage": usage_json(result.usage),
    }


def chat_json(result: ChatResult) -> dict[str, Any]:
    message = result.message
    calls = message.tool_calls
    return {
        "message": {
            "role": message.role,
            "content": message.content,
            "reasoning_content": message.reasoning_content,
            "tool_call_id": None,
            "tool_calls": None
            if calls is None
            else [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls],
        },
        "finish_reason": result.finish_reason,
        "logprobs": logprobs_json(result.logprobs),
        "usage": usage_json(result.usage),
    }


def scores_json(scores: list[TextScore]) -> list[dict[str, Any]]:
    return [{"start": s.start, "length": s.length, "score": s.score} for s in scores]


def completion_event_json(event: CompletionEvent) -> dict[str, Any]:
    if isinstance(event, CompletionAppend):
        data: dict[str, Any] = {"text": event.text, "logprobs": logprobs_json(event.logprobs)}
        return {"event": "append", "data": data}
    if isinstance(event, CompletionEnd):
        return {"event": "end", "data": {"finish_reason": event.finish_reason}}
    return {"event": "usage", "data": {"usage": usage_json(event.usage)}}


def chat_event_json(event: ChatEvent) -> dict[str, Any]:
    if isinstance(event, MessageBegin):
        return {"event": "message_begin", "data": {"role": event.role}}
    if isinstance(event, ReasoningAppend):
        return {"event": "reasoning", "data": {"content": event.content}}
    if isinstance(event, MessageAppend):
        data = {"content": event.content, "logprobs": logprobs_json(event.logprobs)}
        return {"event": "message_append", "data": data}
    if isinstance(event, ToolCallDelta):
        chunks = [
            {"index": c.index, "id": c.id, "name": c.name, "arguments": c.arguments}
            for c in event.chunks
        ]
        return {"event": "tool_call", "data": {"tool_calls": chunks}}
    if isinstance(event, MessageEnd):
        return {"event": "message_end", "data": {"finish_reason": event.finish_reason}}
    usage: StreamUsage = event  # the one kind left
    return {"event": "usage", "data": {"usage": usage_json(usage.usage)}}
