"""The offline default: answers at once, without a network, by echoing what it was asked.

Its reply names the model the skill asked for and quotes the prompt (or, in a chat, the last
user message), so a user can see the CSI round trip working before pointing the skill at a
real model. Everything it says is a function of the request alone:

* A "token" is a word with the white space around it, so the reply's tokens joined give the
  reply back; usage counts the prompt's words and the reply's tokens.
* `stop` cuts the reply before the first stop sequence in it (finish reason "stop");
  `max_tokens` (in a chat, `max_completion_tokens` before `max_tokens`) keeps that many tokens
  (finish reason "length" when it cut).
* `echo` puts the prompt in front of the reply.
* Logprobs, when asked for, are made up: a token's logprob is minus a tenth of its length in
  characters; its top n are the token itself, then "<alt k>" with k less.
* Streams give the same reply a token per event, in the kernel's order.
* Explain scores each word (sentence, paragraph) of the prompt by the share of its words that
  also appear in the target.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from workbench.cancel import CancelToken
from workbench.errors import RunCancelled
from workbench.models.base import Completion, InferenceRequest
from workbench.models.inference import (
    ChatEvent,
    ChatMessage,
    ChatRequest,
    ChatResult,
    CompletionAppend,
    CompletionEnd,
    CompletionEvent,
    CompletionRequest,
    CompletionResult,
    Distribution,
    EventStream,
    ExplanationRequest,
    FinishReason,
    Logprob,
    Logprobs,
    MessageAppend,
    MessageBegin,
    MessageEnd,
    StreamUsage,
    TextScore,
    TokenUsage,
    top_logprobs,
)

#: What each granularity of `explain` calls one span of the prompt.
_SPANS = {
    "auto": re.compile(r"\S+"),
    "word": re.compile(r"\S+"),
    "sentence": re.compile(r"[^\s.!?][^.!?]*[.!?]*"),
    "paragraph": re.compile(r"\S(?:[^\n]|\n(?![ \t]*\n))*"),
}
_WORD = re.compile(r"\w+")


class EchoProvider:
    kind: ClassVar[str] = "echo"
    OFFLINE: ClassVar[bool] = True

    def __init__(self, name: str = "echo") -> None:
        self.name = name

    def complete_text(
        self, prompt: str, model: str, *, cancel: CancelToken | None = None
    ) -> Completion:
        # Answers at once: there is nothing a cancel could cut short.
        text = _prompt_reply(model, prompt)
        return Completion(
            text=text,
            model=model,
            prompt_tokens=len(prompt.split()),
            completion_tokens=len(text.split()),
        )

    def complete(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> CompletionResult:
        _stop_if_cancelled(cancel)
        tokens, finish_reason = _completion_tokens(request)
        text = "".join(tokens)
        return CompletionResult(
            text=request.prompt + text if request.params.echo else text,
            finish_reason=finish_reason,
            logprobs=_logprobs(tokens, request.params.logprobs),
            usage=TokenUsage(len(request.prompt.split()), len(tokens)),
            model=request.model,
        )

    def completion_stream(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[CompletionEvent]:
        def events() -> Iterator[CompletionEvent]:
            tokens, finish_reason = _completion_tokens(request)
            if request.params.echo:
                _stop_if_cancelled(cancel)
                yield CompletionAppend(request.prompt)
            for token, distributions in _with_logprobs(tokens, request.params.logprobs):
                _stop_if_cancelled(cancel)
                yield CompletionAppend(token, distributions)
            _stop_if_cancelled(cancel)
            yield CompletionEnd(finish_reason)
            yield StreamUsage(TokenUsage(len(request.prompt.split()), len(tokens)))

        return EventStream[CompletionEvent](request.model).feed(events())

    def chat(self, request: ChatRequest, *, cancel: CancelToken | None = None) -> ChatResult:
        _stop_if_cancelled(cancel)
        tokens, finish_reason = _chat_tokens(request)
        return ChatResult(
            message=ChatMessage("assistant", "".join(tokens)),
            finish_reason=finish_reason,
            logprobs=_logprobs(tokens, request.params.logprobs),
            usage=TokenUsage(_chat_prompt_words(request), len(tokens)),
            model=request.model,
        )

    def chat_stream(
        self, request: ChatRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[ChatEvent]:
        def events() -> Iterator[ChatEvent]:
            tokens, finish_reason = _chat_tokens(request)
            _stop_if_cancelled(cancel)
            yield MessageBegin("assistant")
            for token, distributions in _with_logprobs(tokens, request.params.logprobs):
                _stop_if_cancelled(cancel)
                yield MessageAppend(token, distributions)
            _stop_if_cancelled(cancel)
            yield MessageEnd(finish_reason)
            yield StreamUsage(TokenUsage(_chat_prompt_words(request), len(tokens)))

        return EventStream[ChatEvent](request.model).feed(events())

    def explain(
        self, request: ExplanationRequest, *, cancel: CancelToken | None = None
    ) -> list[TextScore]:
        _stop_if_cancelled(cancel)
        target = {word.lower() for word in _WORD.findall(request.target)}
        scores = []
        for span in _SPANS[request.granularity].finditer(request.prompt):
            text = span.group().rstrip()
            words = [word.lower() for word in _WORD.findall(text)]
            shared = sum(word in target for word in words)
            scores.append(TextScore(span.start(), len(text), shared / len(words) if words else 0.0))
        return scores

    def unhonoured(self, request: InferenceRequest) -> list[str]:
        if isinstance(request, ExplanationRequest):
            return []
        params = request.params
        ignored = {
            "temperature": params.temperature,
            "top_k": getattr(params, "top_k", None),
            "top_p": params.top_p,
            "frequency_penalty": params.frequency_penalty,
            "presence_penalty": params.presence_penalty,
        }
        notes = [
            f"{name} has no effect: the echo provider always gives the same answer."
            for name, value in ignored.items()
            if value is not None
        ]
        if isinstance(request, ChatRequest):
            chat = request.params
            if chat.tools:
                notes.append("tools are never called: the echo provider only echoes.")
            if chat.tool_choice not in (None, "none", "auto"):
                notes.append("tool_choice cannot be followed: the echo provider calls no tool.")
            if chat.parallel_tool_calls is not None:
                notes.append("parallel_tool_calls has no effect: the echo provider calls no tool.")
            if chat.response_format not in (None, "text"):
                notes.append("response_format is not followed: the echo provider answers text.")
            if chat.reasoning_effort is not None:
                notes.append("reasoning_effort has no effect: the echo provider does not reason.")
        return notes

    def list_models(self) -> list[str]:
        # Echo serves whatever model is asked for; this is the one the seed's haiku uses.
        return ["luminous-extended-control"]

    def close(self) -> None:
        pass  # nothing held open


def _stop_if_cancelled(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.is_cancelled:
        raise RunCancelled("The call to the echo provider was cancelled.")


def _prompt_reply(model: str, prompt: str) -> str:
    return f"[echo: model {model!r} received this prompt]\n{prompt}"


def _tokens(text: str) -> list[str]:
    """`text` as words with their white space, so that joined they give `text` back."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


def _cut(
    text: str, stop: tuple[str, ...], max_tokens: int | None
) -> tuple[list[str], FinishReason]:
    finish_reason: FinishReason = "stop"
    ends = [at for at in (text.find(sequence) for sequence in stop if sequence) if at >= 0]
    if ends:
        text = text[: min(ends)]
    tokens = _tokens(text)
    if max_tokens is not None and len(tokens) > max_tokens:
        tokens, finish_reason = tokens[:max_tokens], "length"
    return tokens, finish_reason


def _completion_tokens(request: CompletionRequest) -> tuple[list[str], FinishReason]:
    params = request.params
    return _cut(_prompt_reply(request.model, request.prompt), params.stop, params.max_tokens)


def _chat_tokens(request: ChatRequest) -> tuple[list[str], FinishReason]:
    users = [m for m in request.messages if m.role.lower() == "user"]
    last = (users or list(request.messages) or [ChatMessage("user", "")])[-1]
    reply = f"[echo: model {request.model!r} received this message]\n{last.content or ''}"
    params = request.params
    limit = params.max_completion_tokens
    return _cut(reply, (), limit if limit is not None else params.max_tokens)


def _chat_prompt_words(request: ChatRequest) -> int:
    return sum(len((message.content or "").split()) for message in request.messages)


def _distribution(token: str, logprobs: Logprobs) -> Distribution:
    sampled = Logprob(token.encode(), -len(token.strip()) / 10)
    alternatives = (
        Logprob(f"<alt {k}>".encode(), sampled.logprob - k)
        for k in range(1, top_logprobs(logprobs))
    )
    top = (sampled, *alternatives) if top_logprobs(logprobs) else ()
    return Distribution(sampled, top)


def _logprobs(tokens: list[str], logprobs: Logprobs) -> tuple[Distribution, ...]:
    if logprobs == "no":
        return ()
    return tuple(_distribution(token, logprobs) for token in tokens)


def _with_logprobs(
    tokens: list[str], logprobs: Logprobs
) -> Iterator[tuple[str, tuple[Distribution, ...]]]:
    for token in tokens:
        yield token, _logprobs([token], logprobs)
