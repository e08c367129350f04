"""Any CSI call as a person reads it: one line for what the skill asked, one for what came
back, and a multi-line detail with prompts and messages as text (not escaped JSON).

Works on the record's previews (`CsiCall.request` and `.response`, the kernel's `/csi/v1`
JSON), by the CSI function that served the call; a function it does not know is shown as
compact JSON. Free of any front-end: the app and the command line can both use it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from workbench.csi.record import CsiCall

#: A list or object this short (as compact JSON) stays on its key's line in the detail.
_INLINE_CHARS = 72


def one_line(text: str, width: int | None = None) -> str:
    """`text` with every run of whitespace as one space, cut to `width` with an ellipsis."""
    flat = " ".join(str(text).split())
    if width is not None and len(flat) > width:
        return flat[: max(width - 1, 0)] + "…"
    return flat


def compact(value: Any) -> str:
    """`value` as one line of JSON (strings unescaped where JSON allows it)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


# One-line summaries ---------------------------------------------------------------------------
def _first(value: Any) -> Any:
    """The first request (or answer) of a batch, or the value itself if it is not one."""
    return (value[0] if value else None) if isinstance(value, list) else value


def _batch(value: Any, summary: str) -> str:
    """`summary` of the first item, saying how many more the batch holds."""
    more = len(value) - 1 if isinstance(value, list) else 0
    return f"{summary} (+{more} more)" if more > 0 and summary else summary


def _get(value: Any, key: str, default: Any = None) -> Any:
    return value.get(key, default) if isinstance(value, dict) else default


def _field(value: Any, key: str) -> str:
    """A field of the (first) request, as text."""
    return str(_get(_first(value), key, ""))


def last_user_message(messages: Any) -> str:
    """The text of the last message from the user (else of the last message at all)."""
    if not isinstance(messages, list) or not messages:
        return ""
    users = [m for m in messages if _get(m, "role") == "user"]
    chosen = (users or messages)[-1]
    return str(_get(chosen, "content") or "")


def tool_calls_text(calls: Any) -> str:
    """Tool calls as `name(arguments)`, comma separated."""
    if not isinstance(calls, list):
        return ""
    return ", ".join(f"{_get(c, 'name', '?')}({_get(c, 'arguments', '')})" for c in calls)


def _with_tool_calls(text: str, calls: str) -> str:
    if not calls:
        return text
    return f"{text} → tool calls: {calls}" if text else f"→ tool calls: {calls}"


def _assistant_text(message: Any) -> str:
    content = str(_get(message, "content") or "")
    return _with_tool_calls(content, tool_calls_text(_get(message, "tool_calls")))


def stream_parts(events: Any) -> dict[str, str]:
    """A stream's events joined into what they say: its "text" (completion `append` and
    chat `message_append` events), its "reasoning", its "tool_calls" and how it ended
    ("finish_reason"), and "cut" when the record kept only the first events."""
    parts = {"text": "", "reasoning": "", "tool_calls": "", "finish_reason": "", "cut": ""}
    calls: dict[int, dict[str, str]] = {}
    for event in events if isinstance(events, list) else []:
        if isinstance(event, str):  # the record's note that it kept only the first events
            parts["cut"] = event
            continue
        data = _get(event, "data") or {}
        kind = _get(event, "event")
        if kind == "append":
            parts["text"] += str(_get(data, "text") or "")
        elif kind == "message_append":
            parts["text"] += str(_get(data, "content") or "")
        elif kind == "reasoning":
            parts["reasoning"] += str(_get(data, "content") or "")
        elif kind in ("end", "message_end"):
            parts["finish_reason"] = str(_get(data, "finish_reason") or "")
        elif kind == "tool_call":
            for chunk in _get(data, "tool_calls") or []:
                call = calls.setdefault(int(_get(chunk, "index") or 0), {"name": "", "args": ""})
                call["name"] += str(_get(chunk, "name") or "")
                call["args"] += str(_get(chunk, "arguments") or "")
    parts["tool_calls"] = ", ".join(f"{c['name']}({c['args']})" for c in calls.values())
    return parts


def _stream_summary(events: Any) -> str:
    parts = stream_parts(events)
    return _with_tool_calls(parts["text"], parts["tool_calls"])


def _scores(scores: Any) -> str:
    if not isinstance(scores, list):
        return compact(scores)
    shown = [
        f"{_get(s, 'start')}+{_get(s, 'length')}: {_number(_get(s, 'score'))}" for s in scores[:4]
    ]
    more = f", … ({len(scores)} scores)" if len(scores) > 4 else ""
    return "scores " + ", ".join(shown) + more if shown else "no scores"


def _number(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _chunks(chunks: Any) -> str:
    if not isinstance(chunks, list):
        return compact(chunks)
    texts = [str(_get(c, "text", c)) for c in chunks]
    return f"{_count(texts, 'chunk')}: " + " | ".join(texts)


def _search_results(results: Any) -> str:
    if not isinstance(results, list):
        return compact(results)
    named = [
        f"{_get(_get(r, 'document_path'), 'name', '?')} ({_number(_get(r, 'score'))})"
        for r in results
    ]
    return _count(named, "result") + (": " + ", ".join(named) if named else "")


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _path(path: Any) -> str:
    return "/".join(str(_get(path, k, "?")) for k in ("namespace", "collection", "name"))


def _paths(paths: Any) -> str:
    return ", ".join(_path(p) for p in paths) if isinstance(paths, list) else compact(paths)


def _names(items: Any) -> str:
    """The names of tools (or tool requests), comma separated."""
    return ", ".join(str(_get(t, "name", "?")) for t in items) if isinstance(items, list) else ""


def _tool_output(answer: Any) -> str:
    if isinstance(answer, str):
        return f"error: {answer}"
    if isinstance(answer, list):
        return " ".join(str(_get(item, "text", compact(item))) for item in answer)
    return compact(answer)


def _document(document: Any) -> str:
    texts = [str(_get(c, "text")) for c in _get(document, "contents") or [] if _get(c, "text")]
    return f"{_path(_get(document, 'path'))}: {' '.join(texts)}"


Summary = Callable[[Any], str]

#: What the request of each CSI function is about, in one line.
_REQUESTS: dict[str, Summary] = {
    "complete_text": lambda r: _field(r, "prompt"),
    "complete": lambda r: _batch(r, _field(r, "prompt")),
    "completion_stream": lambda r: _field(r, "prompt"),
    "chat": lambda r: _batch(r, last_user_message(_get(_first(r), "messages"))),
    "chat_stream": lambda r: last_user_message(_get(r, "messages")),
    "explain": lambda r: _batch(r, f"{_field(r, 'prompt')} ⇒ {_field(r, 'target')}"),
    "chunk": lambda r: _batch(r, _field(r, "text")),
    "chunk_with_offsets": lambda r: _batch(r, _field(r, "text")),
    "select_language": lambda r: _batch(r, _field(r, "text")),
    "search": lambda r: _batch(r, _field(r, "query")),
    "documents": _paths,
    "document_metadata": _paths,
    "invoke_tool": lambda r: _names(_get(r, "requests")),
    "list_tools": lambda r: _field(r, "namespace"),
}

#: What came back from each CSI function, in one line.
_RESPONSES: dict[str, Summary] = {
    "complete_text": str,
    "complete": lambda r: _batch(r, _field(r, "text")),
    "completion_stream": _stream_summary,
    "chat": lambda r: _batch(r, _assistant_text(_get(_first(r), "message"))),
    "chat_stream": _stream_summary,
    "explain": lambda r: _batch(r, _scores(_first(r))),
    "chunk": lambda r: _batch(r, _chunks(_first(r))),
    "chunk_with_offsets": lambda r: _batch(r, _chunks(_first(r))),
    "select_language": lambda r: _batch(r, str(_first(r) or "none")),
    "search": lambda r: _batch(r, _search_results(_first(r))),
    "documents": lambda r: _batch(r, _document(_first(r))),
    "invoke_tool": lambda r: _batch(r, _tool_output(_first(r))),
    "list_tools": _names,
}


def _summarise(table: dict[str, Summary], csi: str, value: Any) -> str:
    summary = table.get(csi, compact)
    try:
        said = one_line(summary(value))
    except (TypeError, ValueError, AttributeError):  # a shape we did not expect: as JSON
        said = ""
    return said or ("" if value in (None, "", [], {}) else one_line(compact(value)))


def request_summary(call: CsiCall) -> str:
    """What the skill asked, in one line: the prompt, the user's last message, the text…"""
    return _summarise(_REQUESTS, call.csi, call.request)


def response_summary(call: CsiCall) -> str:
    """What came back, in one line (the error, for a failed call)."""
    if call.error:
        return one_line(f"failed: {call.error}")
    if call.response is None:
        return ""
    return _summarise(_RESPONSES, call.csi, call.response)


# The multi-line detail ------------------------------------------------------------------------
def readable_lines(value: Any, indent: int = 0) -> list[str]:
    """Any JSON value as indented lines: objects as `key: value`, lists as `- item`, strings
    as themselves (a string of several lines as an indented block)."""
    pad = "  " * indent
    if isinstance(value, dict | list) and value:
        is_list = isinstance(value, list)
        lines: list[str] = []
        for key, item in enumerate(value) if is_list else value.items():  # type: ignore[union-attr]
            label = f"{pad}- " if is_list else f"{pad}{key}: "
            inline = _inline(item)
            nested = [] if inline is not None else readable_lines(item, indent + 1)
            if inline is not None:
                lines.append(label + inline)
            elif is_list:  # the item's first line beside its dash
                lines.extend([label + nested[0].lstrip(), *nested[1:]])
            else:
                lines.extend([label.rstrip(), *nested])
        return lines
    if isinstance(value, str) and "\n" in value:
        return [pad + line for line in text_lines(value)]
    return [pad + (compact(value) if isinstance(value, dict | list) else _scalar(value))]


def text_lines(text: str) -> list[str]:
    """A text's lines, split at line breaks only (a control character is not one)."""
    return text.replace("\r\n", "\n").split("\n")


def _scalar(value: Any) -> str:
    return (value or '""') if isinstance(value, str) else compact(value)


def _inline(value: Any) -> str | None:
    """The value on one line, if it fits on its key's line; else None."""
    if isinstance(value, str):
        return None if "\n" in value else _scalar(value)
    if isinstance(value, dict | list):
        items = list(value.values()) if isinstance(value, dict) else value
        simple = not any((isinstance(v, dict | list) and v) or len(str(v)) > 40 for v in items)
        text = compact(value)
        return text if not value or (len(text) <= _INLINE_CHARS and simple) else None
    return _scalar(value)


def labelled(label: str, text: str, pad: str = "") -> list[str]:
    """`label: text`, or for a text of several lines `label:` with the text indented below."""
    if "\n" in text:
        return [f"{pad}{label}:", *(f"{pad}  {line}" for line in text_lines(text))]
    return [f"{pad}{label}: {text}"]


def _messages_lines(messages: Any, indent: int) -> list[str]:
    """Chat messages as `role: content` (content of several lines as a block)."""
    pad = "  " * indent
    if not isinstance(messages, list):
        return readable_lines(messages, indent)
    lines = []
    for message in messages:
        if not isinstance(message, dict):
            lines.extend(readable_lines(message, indent))
            continue
        content = str(message.get("content") or "")
        lines.extend(labelled(str(message.get("role", "?")), content, pad))
        extra = {k: v for k, v in message.items() if k not in ("role", "content") and v}
        if extra:
            lines.extend(readable_lines(extra, indent + 1))
    return lines


def _chat_request_lines(request: Any, indent: int = 0) -> list[str]:
    if not isinstance(request, dict):
        return readable_lines(request, indent)
    pad = "  " * indent
    lines = [f"{pad}model: {_scalar(request.get('model'))}", f"{pad}messages:"]
    lines.extend(_messages_lines(request.get("messages"), indent + 1))
    rest = {k: v for k, v in request.items() if k not in ("model", "messages")}
    return lines + (readable_lines(rest, indent) if rest else [])


def _without_unset(request: Any) -> Any:
    """The request with its parameters left unset (null) left out."""
    if isinstance(request, list):
        return [_without_unset(item) for item in request]
    params = _get(request, "params")
    if not isinstance(params, dict):
        return request
    return {**request, "params": {k: v for k, v in params.items() if v is not None}}


def _request_lines(call: CsiCall) -> list[str]:
    request = _without_unset(call.request)
    if call.csi in ("chat", "chat_stream"):
        items = request if isinstance(request, list) else [request]
        if len(items) == 1:
            return _chat_request_lines(items[0])
        numbered = ([f"request {n}:", *_chat_request_lines(r, 1)] for n, r in enumerate(items, 1))
        return [line for lines in numbered for line in lines]
    return readable_lines(
        request[0] if isinstance(request, list) and len(request) == 1 else request
    )


def _response_lines(call: CsiCall) -> list[str]:
    response = call.response
    if call.csi in ("completion_stream", "chat_stream") and isinstance(response, list):
        return _stream_lines(response)
    if isinstance(response, list) and len(response) == 1 and call.csi != "list_tools":
        return readable_lines(response[0])
    return readable_lines(response)


def _stream_lines(events: list[Any]) -> list[str]:
    parts = stream_parts(events)
    lines = labelled("reasoning", parts["reasoning"]) if parts["reasoning"] else []
    lines.extend(labelled("text", parts["text"]))
    if parts["tool_calls"]:
        lines.append(f"tool calls: {parts['tool_calls']}")
    if parts["finish_reason"]:
        lines.append(f"finish reason: {parts['finish_reason']}")
    counts = Counter(str(e.get("event")) for e in events if isinstance(e, dict))
    said = ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in counts.items())
    lines.append(f"events: {said}" + (f" {parts['cut']}" if parts["cut"] else ""))
    return lines


def call_detail(call: CsiCall) -> str:
    """The whole call as text: what was asked and answered, by which model, how long it
    took, its tokens and sizes, what the provider could not honour, and any error."""
    served = call.model_served or "?"
    if call.model_served == call.model_requested:
        served = f"{served} (as asked)"
    head = [
        f"{call.function} (CSI {call.csi}) · {call.duration * 1000:.0f} ms · {call.provider}",
        f"model asked: {call.model_requested or '(none)'} · served: {served}",
    ]
    if call.prompt_tokens is not None or call.completion_tokens is not None:
        head.append(
            f"tokens: {call.prompt_tokens or 0} prompt → {call.completion_tokens or 0} completion"
        )
    sizes = [
        f"{chars:,} chars" if chars is not None else "?"
        for chars in (call.request_chars, call.response_chars)
    ]
    head.append(f"size: request {sizes[0]} · response {sizes[1]}")
    head.extend(f"! {note}" for note in call.notes)
    if call.error:
        head.append(f"error: {call.error}")
    lines = [*head, "", "request:"]
    lines.extend("  " + line for line in _safe(_request_lines, call))
    if call.response is not None:
        lines.extend(["", "response:"])
        lines.extend("  " + line for line in _safe(_response_lines, call))
    return "\n".join(line.replace("\r\n", "\n") for line in lines)


def _safe(render: Callable[[CsiCall], list[str]], call: CsiCall) -> list[str]:
    try:
        return render(call)
    except (TypeError, ValueError, AttributeError):  # an unexpected shape: plain JSON
        value = call.request if render is _request_lines else call.response
        return json.dumps(value, indent=2, ensure_ascii=False, default=str).splitlines()
