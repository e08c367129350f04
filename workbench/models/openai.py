"""Any server speaking the OpenAI HTTP API: OpenAI, vLLM, Ollama, llama.cpp, LM Studio.

For the seed's `complete_text`, the prompt goes out as one user message to
`POST /chat/completions`, or as is to `POST /completions` (mode "completions"). The kernel's
`complete` and `completion-stream` use `POST /completions`, chat uses `POST /chat/completions`
(see `openai_chat`); models come from `GET /models`. The API has no explain.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from workbench.cancel import CancelToken
from workbench.errors import ModelError
from workbench.models.base import Completion, InferenceRequest
from workbench.models.http import HttpSettings
from workbench.models.inference import (
    CompletionAppend,
    CompletionEnd,
    CompletionEvent,
    CompletionRequest,
    CompletionResult,
    Distribution,
    EventStream,
    ExplanationRequest,
    Logprob,
    Logprobs,
    StreamUsage,
    TextScore,
    TokenUsage,
    top_logprobs,
)
from workbench.models.openai_chat import OpenAIChatProvider, finish_reason_of

Mode = Literal["chat", "completions"]
COMPLETIONS_PATH = "completions"


class OpenAIProvider(OpenAIChatProvider):
    kind: ClassVar[str] = "openai"
    LABEL = "OpenAI-compatible server"
    DEFAULT_BASE_URL = "https://api.openai.com/v1"

    def __init__(self, name: str, settings: HttpSettings, mode: Mode = "chat") -> None:
        super().__init__(name, settings)
        self.mode = mode

    def complete_text(
        self, prompt: str, model: str, *, cancel: CancelToken | None = None
    ) -> Completion:
        sampling = self.settings.sampling
        body: dict[str, Any] = {"model": model, "max_tokens": sampling.max_tokens}
        if sampling.temperature is not None:
            body["temperature"] = sampling.temperature
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if self.mode == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
            path = "chat/completions"
        else:
            body["prompt"] = prompt
            path = COMPLETIONS_PATH
        data = self.request_json("POST", path, model=model, body=body, cancel=cancel)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.mode == "chat" else choice["text"]
            if not isinstance(text, str):
                raise TypeError
        except (KeyError, IndexError, TypeError):
            raise self.malformed(model, "a completion in `choices`") from None
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            model=str(data.get("model") or model),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
        )

    def complete(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> CompletionResult:
        data = self.request_json(
            "POST",
            COMPLETIONS_PATH,
            model=request.model,
            body=completions_body(request),
            cancel=cancel,
        )
        try:
            choice = data["choices"][0]
            text = choice["text"]
            finish_reason = finish_reason_of(choice.get("finish_reason"))
            usage = data["usage"]
            if not isinstance(text, str) or finish_reason is None:
                raise TypeError
            return CompletionResult(
                text=text,
                finish_reason=finish_reason,
                logprobs=_logprobs(choice.get("logprobs"), request.params.logprobs),
                usage=TokenUsage(int(usage["prompt_tokens"]), int(usage["completion_tokens"])),
                model=str(data.get("model") or request.model),
            )
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise self.malformed(
                request.model, "a text, a finish reason and usage in its reply"
            ) from None

    def completion_stream(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[CompletionEvent]:
        stream = EventStream[CompletionEvent](request.model)
        body = {
            **completions_body(request),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        return stream.feed(self._completion_events(stream, body, request.params.logprobs, cancel))

    def _completion_events(
        self,
        stream: EventStream[CompletionEvent],
        body: dict[str, Any],
        logprobs: Logprobs,
        cancel: CancelToken | None,
    ) -> Iterator[CompletionEvent]:
        chunks = self.stream_json(COMPLETIONS_PATH, model=stream.model, body=body, cancel=cancel)
        for chunk in chunks:
            stream.model = str(chunk.get("model") or stream.model)
            try:
                events = _chunk_events(chunk, logprobs)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                raise self.malformed(
                    stream.model, "completion chunks of the OpenAI shape"
                ) from None
            yield from events

    def explain(
        self, request: ExplanationRequest, *, cancel: CancelToken | None = None
    ) -> list[TextScore]:
        raise ModelError(
            f"Explain needs an Aleph Alpha provider: {self._where()} cannot explain a "
            f"completion of {request.model!r}, as the OpenAI API has no explain."
        )

    def unhonoured(self, request: InferenceRequest) -> list[str]:
        if not isinstance(request, CompletionRequest):
            return []  # chat maps every parameter; explain fails with its own sentence
        notes = []
        if request.params.top_k is not None:
            notes.append("top_k is not sent: the OpenAI completions API has no top-k.")
        if request.params.return_special_tokens:
            notes.append(
                "return_special_tokens is not sent: the OpenAI completions API has no "
                "switch for special tokens."
            )
        return notes

    def list_models(self) -> list[str]:
        data = self.request_json("GET", "models")
        try:
            return sorted(str(entry["id"]) for entry in data["data"])
        except (KeyError, TypeError):
            raise self.malformed(None, "a model list in `data`") from None


def completions_body(request: CompletionRequest) -> dict[str, Any]:
    """A completion request for OpenAI's (legacy) completions API; top-k and special tokens
    have no place in it (see `unhonoured`)."""
    params = request.params
    body: dict[str, Any] = {"model": request.model, "prompt": request.prompt}
    optional = {
        "max_tokens": params.max_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "frequency_penalty": params.frequency_penalty,
        "presence_penalty": params.presence_penalty,
    }
    body.update({name: value for name, value in optional.items() if value is not None})
    if params.stop:
        body["stop"] = list(params.stop)
    if params.logprobs != "no":
        body["logprobs"] = top_logprobs(params.logprobs)  # 0: the sampled token's only
    if params.echo:
        body["echo"] = True
    return body


def _logprobs(logprobs: Any, wanted: Logprobs) -> tuple[Distribution, ...]:
    """The completions API's logprobs: parallel lists of tokens, their logprobs and, per
    token, a map of the top alternatives."""
    if wanted == "no" or not logprobs or not logprobs.get("tokens"):
        return ()
    keep = top_logprobs(wanted)
    tops = logprobs.get("top_logprobs") or [None] * len(logprobs["tokens"])
    distributions = []
    for token, logprob, top in zip(
        logprobs["tokens"], logprobs["token_logprobs"], tops, strict=False
    ):
        ranked = sorted((top or {}).items(), key=lambda item: -item[1])[:keep]
        distributions.append(
            Distribution(
                sampled=Logprob(str(token).encode(), _number(logprob)),
                top=tuple(Logprob(str(alt).encode(), _number(lp)) for alt, lp in ranked),
            )
        )
    return tuple(distributions)


def _number(value: Any) -> float:
    # The first token of an echoed prompt has no logprob: null.
    return float("nan") if value is None else float(value)


def _chunk_events(chunk: dict[str, Any], logprobs: Logprobs) -> list[CompletionEvent]:
    events: list[CompletionEvent] = []
    for choice in (chunk.get("choices") or [])[:1]:
        if choice.get("text"):
            events.append(
                CompletionAppend(choice["text"], _logprobs(choice.get("logprobs"), logprobs))
            )
        finish_reason = finish_reason_of(choice.get("finish_reason"))
        if finish_reason is not None:
            events.append(CompletionEnd(finish_reason))
    usage = chunk.get("usage")
    if usage:
        events.append(
            StreamUsage(TokenUsage(int(usage["prompt_tokens"]), int(usage["completion_tokens"])))
        )
    return events
