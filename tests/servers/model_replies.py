"""What the loopback model servers answer, made from the request alone, in the shapes of the
OpenAI and Aleph Alpha API references: whole replies, and the events of a streamed one.

The text is `reply_for(model, prompt)`, cut into word `tokens` where the token limit asks.
Logprobs, tool calls, reasoning and explanation scores follow `logprob_for`,
`tool_call_for`, `reasoning_for` and `score_for`, so a test can compute what to expect.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Completion token counts the servers report, whatever they generated.
OPENAI_COMPLETION_TOKENS = 7
ALEPH_ALPHA_COMPLETION_TOKENS = 9


def reply_for(model: str, prompt: str) -> str:
    return f"({model}) a reply to: {prompt}"


def tokens(text: str) -> list[str]:
    """`text` as word tokens that, joined, give it back."""
    return re.findall(r"\s*\S+\s*", text)


def logprob_for(token: str, rank: int = 0) -> float:
    return -round(len(token.strip()) / 10 + rank, 3)


def reasoning_for(effort: str, prompt: str) -> str:
    return f"Thinking ({effort}) about: {prompt}"


def tool_call_for(name: str, prompt: str) -> dict[str, str]:
    return {"id": f"call_{name}", "name": name, "arguments": json.dumps({"text": prompt})}


def score_for(word: str, target: str) -> float:
    return 1.0 if word.lower() in target.lower() else 0.25


def _alternative(token: str, rank: int) -> str:
    return token if rank == 0 else f"alt{rank}"


def _cut(model: str, prompt: str, limit: int | None) -> tuple[list[str], bool]:
    pieces = tokens(reply_for(model, prompt))
    return (pieces[:limit], True) if limit is not None and len(pieces) > limit else (pieces, False)


# --- OpenAI chat --------------------------------------------------------------------------


def _chat_logprob(token: str, rank: int) -> dict[str, Any]:
    return {"token": token, "logprob": logprob_for(token, rank), "bytes": list(token.encode())}


def _chat(body: dict[str, Any]) -> dict[str, Any]:
    """The reply's parts: text pieces, finish reason, and reasoning, a tool call and
    logprobs where asked for."""
    prompt = body["messages"][-1].get("content") or ""
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    pieces, cut = _cut(body["model"], prompt, limit)
    reply: dict[str, Any] = {"pieces": pieces, "finish_reason": "length" if cut else "stop"}
    if body.get("reasoning_effort"):
        reply["reasoning"] = reasoning_for(body["reasoning_effort"], prompt)
    choice = body.get("tool_choice", "auto")
    if body.get("tools") and choice != "none":
        name = choice["function"]["name"] if isinstance(choice, dict) else None
        call = tool_call_for(name or body["tools"][0]["function"]["name"], prompt)
        reply["tool_call"] = {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["name"], "arguments": call["arguments"]},
        }
        reply["pieces"], reply["finish_reason"] = [], "tool_calls"
    if body.get("logprobs"):
        top = body.get("top_logprobs") or 0
        reply["logprobs"] = [
            {
                **_chat_logprob(p, 0),
                "top_logprobs": [_chat_logprob(_alternative(p, r), r) for r in range(top)],
            }
            for p in reply["pieces"]
        ]
    reply["usage"] = {
        "prompt_tokens": len(prompt.split()),
        "completion_tokens": OPENAI_COMPLETION_TOKENS,
        "total_tokens": 0,
    }
    return reply


def chat_completion(body: dict[str, Any], served_model: str) -> dict[str, Any]:
    reply = _chat(body)
    message: dict[str, Any] = {"role": "assistant", "content": "".join(reply["pieces"])}
    if "reasoning" in reply:
        message["reasoning_content"] = reply["reasoning"]
    if "tool_call" in reply:
        message["content"] = None
        message["tool_calls"] = [reply["tool_call"]]
    choice = {"index": 0, "finish_reason": reply["finish_reason"], "message": message}
    if "logprobs" in reply:
        choice["logprobs"] = {"content": reply["logprobs"]}
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": served_model,
        "choices": [choice],
        "usage": reply["usage"],
    }


def chat_chunks(body: dict[str, Any], served_model: str) -> list[dict[str, Any]]:
    """The streamed reply: role, reasoning, content (each piece with its logprobs), the tool
    call's arguments in two halves, the finish reason, and usage when asked for."""
    reply = _chat(body)
    frame = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": served_model}

    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> Any:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, **extra}
        return {**frame, "choices": [choice]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"reasoning": piece}) for piece in tokens(reply.get("reasoning", ""))]
    for n, piece in enumerate(reply["pieces"]):
        logprobs = {"content": reply["logprobs"][n : n + 1]} if "logprobs" in reply else None
        chunks.append(chunk({"content": piece}, logprobs=logprobs))
    if "tool_call" in reply:
        call = reply["tool_call"]
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        first = {
            **call,
            "index": 0,
            "function": {**call["function"], "arguments": arguments[:half]},
        }
        rest = {"index": 0, "function": {"arguments": arguments[half:]}}
        chunks += [chunk({"tool_calls": [first]}), chunk({"tool_calls": [rest]})]
    chunks.append(chunk({}, reply["finish_reason"]))
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**frame, "choices": [], "usage": reply["usage"]})
    return chunks


# --- OpenAI completions -------------------------------------------------------------------


def _completion_logprobs(pieces: list[str], top: int) -> dict[str, Any]:
    """Parallel lists, the top alternatives of each token as a map."""
    return {
        "tokens": pieces,
        "token_logprobs": [logprob_for(p) for p in pieces],
        "top_logprobs": [
            {_alternative(p, r): logprob_for(p, r) for r in range(top)} for p in pieces
        ],
        "text_offset": [0] * len(pieces),
    }


def text_completion(body: dict[str, Any], served_model: str) -> list[dict[str, Any]]:
    """The reply, whole (one item) or, for `"stream": true`, as its chunks."""
    prompt = body["prompt"]
    pieces, cut = _cut(body["model"], prompt, body.get("max_tokens"))
    finish_reason = "length" if cut else "stop"
    wanted = body.get("logprobs")
    logprobs = None if wanted is None else _completion_logprobs(pieces, wanted)
    usage = {
        "prompt_tokens": len(prompt.split()),
        "completion_tokens": OPENAI_COMPLETION_TOKENS,
        "total_tokens": 0,
    }
    frame = {"id": "cmpl-test", "object": "text_completion", "model": served_model}
    if not body.get("stream"):
        text = "".join(pieces)
        choice = {
            "index": 0,
            "finish_reason": finish_reason,
            "text": prompt + text if body.get("echo") else text,
            "logprobs": logprobs,
        }
        return [{**frame, "choices": [choice], "usage": usage}]
    chunks = []
    for n, piece in enumerate(pieces):
        piece_logprobs = None
        if logprobs is not None:
            piece_logprobs = {key: value[n : n + 1] for key, value in logprobs.items()}
        choice = {"index": 0, "text": piece, "logprobs": piece_logprobs, "finish_reason": None}
        chunks.append({**frame, "choices": [choice]})
    chunks.append({**frame, "choices": [{"index": 0, "text": "", "finish_reason": finish_reason}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**frame, "choices": [], "usage": usage})
    return chunks


# --- Aleph Alpha --------------------------------------------------------------------------


def prompt_text(prompt: Any) -> str:
    """The prompt as text: a plain string, or the API's list of multimodal items."""
    if isinstance(prompt, str):
        return prompt
    return "".join(item["data"] for item in prompt if item["type"] == "text")


def aleph_alpha_completion(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The reply, whole (one item) or, for `"stream": true`, as its events."""
    prompt = prompt_text(body["prompt"])
    pieces, cut = _cut(body["model"], prompt, body.get("maximum_tokens"))
    finish_reason = "maximum_tokens" if cut else "end_of_text"

    def completion(pieces: list[str], echo: bool) -> dict[str, Any]:
        text = "".join(pieces)
        out: dict[str, Any] = {"completion": prompt + text if echo else text}
        if body.get("raw_completion"):
            out["raw_completion"] = out["completion"] + "<|endoftext|>"
        if body.get("tokens"):
            out["completion_tokens"] = pieces
        if body.get("log_probs") is not None:
            # The sampled token is always among them, besides the top n.
            top = range(1, body["log_probs"])
            out["log_probs"] = [
                {p: logprob_for(p), **{_alternative(p, r): logprob_for(p, r) for r in top}}
                for p in pieces
            ]
        return out

    usage = {
        "num_tokens_prompt_total": len(prompt.split()),
        "num_tokens_generated": ALEPH_ALPHA_COMPLETION_TOKENS,
    }
    if not body.get("stream"):
        whole = {**completion(pieces, bool(body.get("echo"))), "finish_reason": finish_reason}
        return [{"model_version": "2022-04", "completions": [whole], **usage}]
    events: list[dict[str, Any]] = [
        {"type": "stream_chunk", "index": 0, **completion([p], False)} for p in pieces
    ]
    summary = {"type": "stream_summary", "index": 0, "model_version": "2022-04"}
    events.append({**summary, "finish_reason": finish_reason})
    events.append({"type": "completion_summary", **usage})
    return events


def explanation(body: dict[str, Any]) -> dict[str, Any]:
    """Scores per word, or per sentence for any other granularity."""
    prompt, target = prompt_text(body["prompt"]), body["target"]
    granularity = (body.get("prompt_granularity") or {}).get("type", "word")
    pattern = r"\S+" if granularity == "word" else r"[^.]+\.?"
    scores = [
        {"start": m.start(), "length": len(m.group()), "score": score_for(m.group(), target)}
        for m in re.finditer(pattern, prompt)
    ]
    items = [{"type": "text", "scores": scores}, {"type": "target", "scores": []}]
    return {"model_version": "2022-04", "explanations": [{"target": target, "items": items}]}
