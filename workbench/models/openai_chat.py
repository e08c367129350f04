"""Chat in the OpenAI shape, `POST chat/completions`, which OpenAI-compatible servers and the
Aleph Alpha API both speak: the request mapped as the kernel maps it, the reply (tool calls
and reasoning included) mapped back, and the streamed reply turned into events as each chunk
arrives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from workbench.cancel import CancelToken
from workbench.models.http import HttpModelProvider
from workbench.models.inference import (
    FINISH_REASONS,
    ChatEvent,
    ChatMessage,
    ChatParams,
    ChatRequest,
    ChatResult,
    Distribution,
    EventStream,
    FinishReason,
    JsonSchemaFormat,
    Logprob,
    Logprobs,
    MessageAppend,
    MessageBegin,
    MessageEnd,
    NamedToolChoice,
    ReasoningAppend,
    StreamUsage,
    TokenUsage,
    ToolCall,
    ToolCallChunk,
    ToolCallDelta,
    top_logprobs,
)

CHAT_PATH = "chat/completions"


class OpenAIChatProvider(HttpModelProvider):
    """Base for providers whose chat is OpenAI's; subclasses add completion and explain."""

    def chat(self, request: ChatRequest, *, cancel: CancelToken | None = None) -> ChatResult:
        data = self.request_json(
            "POST", CHAT_PATH, model=request.model, body=chat_body(request), cancel=cancel
        )
        try:
            choice = data["choices"][0]
            message = choice["message"]
            finish_reason = finish_reason_of(choice.get("finish_reason"))
            if finish_reason is None:
                raise self.malformed(request.model, "a finish reason")
            usage = data["usage"]
            result = ChatResult(
                message=ChatMessage(
                    role="assistant",
                    content=_optional_str(message.get("content")),
                    reasoning_content=_reasoning(message),
                    tool_calls=_tool_calls(message.get("tool_calls")),
                ),
                finish_reason=finish_reason,
                logprobs=token_logprobs(choice.get("logprobs"), request.params.logprobs),
                usage=TokenUsage(int(usage["prompt_tokens"]), int(usage["completion_tokens"])),
                model=str(data.get("model") or request.model),
            )
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise self.malformed(
                request.model, "a message, a finish reason and usage in its reply"
            ) from None
        return result

    def chat_stream(
        self, request: ChatRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[ChatEvent]:
        stream = EventStream[ChatEvent](request.model)
        body = {**chat_body(request), "stream": True, "stream_options": {"include_usage": True}}
        return stream.feed(self._chat_events(stream, body, request.params.logprobs, cancel))

    def _chat_events(
        self,
        stream: EventStream[ChatEvent],
        body: dict[str, Any],
        logprobs: Logprobs,
        cancel: CancelToken | None,
    ) -> Iterator[ChatEvent]:
        began = False
        for chunk in self.stream_json(CHAT_PATH, model=stream.model, body=body, cancel=cancel):
            stream.model = str(chunk.get("model") or stream.model)
            try:
                events = _chunk_events(chunk, logprobs)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                raise self.malformed(stream.model, "chat chunks of the OpenAI shape") from None
            for event in events:
                if isinstance(event, MessageBegin):
                    if began:
                        continue  # some servers repeat the role in every chunk
                    began = True
                elif not began and not isinstance(event, StreamUsage):
                    # A server that names no role still starts a message, as the kernel's
                    # skills expect a begin first.
                    began = True
                    yield MessageBegin("assistant")
                yield event

    def stream_json(
        self, path: str, *, model: str, body: dict[str, Any], cancel: CancelToken | None
    ) -> Iterator[dict[str, Any]]:
        """The JSON object in each event of the stream `path` answers with, up to `[DONE]`."""
        for data in self.stream_events(path, model=model, body=body, cancel=cancel):
            if data.strip() == "[DONE]":
                return
            try:
                item = json.loads(data)
            except ValueError:
                item = None
            if not isinstance(item, dict):
                raise self.malformed(model, "a JSON object in each event of its stream")
            yield item


def chat_body(request: ChatRequest) -> dict[str, Any]:
    """The kernel's mapping of a chat request onto OpenAI's (None fields left out)."""
    params = request.params
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_message_json(message) for message in request.messages],
    }
    body.update(logprob_fields(params.logprobs))
    body.update(_present(_sampling(params)))
    if params.tools is not None:
        body["tools"] = [
            {
                "type": "function",
                "function": _present(
                    {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                        "strict": tool.strict,
                    }
                ),
            }
            for tool in params.tools
        ]
    if isinstance(params.tool_choice, NamedToolChoice):
        body["tool_choice"] = {"type": "function", "function": {"name": params.tool_choice.name}}
    elif params.tool_choice is not None:
        body["tool_choice"] = params.tool_choice
    if isinstance(params.response_format, JsonSchemaFormat):
        schema = params.response_format
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": _present(
                {
                    "name": schema.name,
                    "description": schema.description,
                    "schema": schema.schema,
                    "strict": schema.strict,
                }
            ),
        }
    elif params.response_format is not None:
        body["response_format"] = {"type": params.response_format}
    return body


def _sampling(params: ChatParams) -> dict[str, Any]:
    return {
        "temperature": params.temperature,
        "top_p": params.top_p,
        "frequency_penalty": params.frequency_penalty,
        "presence_penalty": params.presence_penalty,
        "max_tokens": params.max_tokens,
        "max_completion_tokens": params.max_completion_tokens,
        "parallel_tool_calls": params.parallel_tool_calls,
        "reasoning_effort": params.reasoning_effort,
    }


def logprob_fields(logprobs: Logprobs) -> dict[str, Any]:
    """`logprobs` as OpenAI's chat takes it: a flag, and how many alternatives (at least one,
    as the kernel asks, even when only the sampled token's logprob is wanted)."""
    if logprobs == "no":
        return {}
    return {"logprobs": True, "top_logprobs": max(top_logprobs(logprobs), 1)}


def _message_json(message: ChatMessage) -> dict[str, Any]:
    role = message.role.lower()
    if role == "assistant":
        out: dict[str, Any] = {"role": "assistant"}
        if message.content is not None:
            out["content"] = message.content
        if message.tool_calls:
            out["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in message.tool_calls
            ]
        return out
    if role == "tool":
        return {
            "role": "tool",
            "content": message.content or "",
            "tool_call_id": message.tool_call_id or "",
        }
    return {"role": role, "content": message.content or ""}


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def finish_reason_of(value: Any) -> FinishReason | None:
    """OpenAI's finish reason as the kernel's; None while a stream is unfinished."""
    if value is None:
        return None
    if value == "function_call":  # the deprecated name of a tool call
        return "tool_calls"
    if value in FINISH_REASONS:
        return value  # type: ignore[no-any-return]
    raise ValueError(f"unknown finish reason {value!r}")


def token_logprobs(logprobs: Any, wanted: Logprobs) -> tuple[Distribution, ...]:
    """OpenAI's per-token logprobs (`logprobs.content`) with at most the alternatives asked
    for: none for "sampled", though OpenAI is asked for one."""
    if wanted == "no" or not logprobs or not logprobs.get("content"):
        return ()
    keep = top_logprobs(wanted)
    return tuple(
        Distribution(
            sampled=_logprob(entry),
            top=tuple(_logprob(top) for top in (entry.get("top_logprobs") or [])[:keep]),
        )
        for entry in logprobs["content"]
    )


def _logprob(entry: dict[str, Any]) -> Logprob:
    # `bytes` is exact where a token is part of a character; `token` is text.
    raw = entry.get("bytes")
    token = bytes(raw) if isinstance(raw, list) else str(entry["token"]).encode()
    logprob = entry.get("logprob")
    return Logprob(token, float("nan") if logprob is None else float(logprob))


def _optional_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("not a string")


def _reasoning(message: dict[str, Any]) -> str | None:
    # vLLM and DeepSeek say `reasoning_content`; Ollama, OpenRouter and others `reasoning`.
    value = message.get("reasoning_content")
    return _optional_str(message.get("reasoning") if value is None else value)


def _arguments(value: Any) -> str:
    # Some servers (Ollama) give the arguments as an object, not as JSON text.
    return value if isinstance(value, str) else json.dumps(value)


def _tool_calls(calls: Any) -> tuple[ToolCall, ...] | None:
    if not calls:
        return None
    return tuple(
        ToolCall(
            id=str(call.get("id") or ""),
            name=str(call["function"]["name"]),
            arguments=_arguments(call["function"].get("arguments", "")),
        )
        for call in calls
    )


def _chunk_events(chunk: dict[str, Any], logprobs: Logprobs) -> list[ChatEvent]:
    """The events one streamed chunk holds, in the order the kernel gives them."""
    events: list[ChatEvent] = []
    choices = chunk.get("choices") or []
    if choices:
        choice = choices[0]
        delta = choice.get("delta") or {}
        if delta.get("role"):
            events.append(MessageBegin(str(delta["role"])))
        reasoning = _reasoning(delta)
        if reasoning:
            events.append(ReasoningAppend(reasoning))
        content = _optional_str(delta.get("content"))
        if content:
            events.append(MessageAppend(content, token_logprobs(choice.get("logprobs"), logprobs)))
        if delta.get("tool_calls"):
            events.append(
                ToolCallDelta(
                    tuple(
                        ToolCallChunk(
                            index=int(call.get("index", 0)),
                            id=call.get("id"),
                            name=(call.get("function") or {}).get("name"),
                            arguments=_piece((call.get("function") or {}).get("arguments")),
                        )
                        for call in delta["tool_calls"]
                    )
                )
            )
        finish_reason = finish_reason_of(choice.get("finish_reason"))
        if finish_reason is not None:
            events.append(MessageEnd(finish_reason))
    usage = chunk.get("usage")
    if usage:
        events.append(
            StreamUsage(TokenUsage(int(usage["prompt_tokens"]), int(usage["completion_tokens"])))
        )
    return events


def _piece(arguments: Any) -> str | None:
    return None if arguments is None else _arguments(arguments)
