"""The Aleph Alpha API: `POST /complete` (streamed with `"stream": true`), `POST /explain`,
and chat through `POST /chat/completions` in the OpenAI shape (see `openai_chat`), each with a
bearer token; models from `GET /models_available`, and each model's Hugging Face tokenizer
from `GET /models/{model}/tokenizer` (what the kernel sizes chunks with).
`luminous-extended-control`, the seed's model, is one of its."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

from workbench.cancel import CancelToken
from workbench.models.base import Completion, InferenceRequest
from workbench.models.inference import (
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
    StreamUsage,
    TextScore,
    TokenUsage,
    top_logprobs,
)
from workbench.models.openai_chat import OpenAIChatProvider

#: The API's finish reasons, as the kernel reads them.
FINISH_REASONS: dict[str, FinishReason] = {
    "maximum_tokens": "length",
    "length": "length",
    "end_of_text": "stop",
    "stop_sequence_reached": "stop",
    "stop": "stop",
    "content_filter": "content_filter",
}


class AlephAlphaProvider(OpenAIChatProvider):
    kind: ClassVar[str] = "aleph-alpha"
    LABEL = "Aleph Alpha API"
    DEFAULT_BASE_URL = "https://api.aleph-alpha.com"

    def complete_text(
        self, prompt: str, model: str, *, cancel: CancelToken | None = None
    ) -> Completion:
        sampling = self.settings.sampling
        body: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "maximum_tokens": sampling.max_tokens,
        }
        if sampling.temperature is not None:
            body["temperature"] = sampling.temperature
        if sampling.stop:
            body["stop_sequences"] = list(sampling.stop)
        data = self.request_json("POST", "complete", model=model, body=body, cancel=cancel)
        try:
            text = data["completions"][0]["completion"]
            if not isinstance(text, str):
                raise TypeError
        except (KeyError, IndexError, TypeError):
            raise self.malformed(model, "a completion in `completions`") from None
        return Completion(
            text=text,
            model=str(data.get("model_version") or model),
            prompt_tokens=data.get("num_tokens_prompt_total"),
            completion_tokens=data.get("num_tokens_generated"),
        )

    def complete(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> CompletionResult:
        data = self.request_json(
            "POST", "complete", model=request.model, body=complete_body(request), cancel=cancel
        )
        try:
            completion = data["completions"][0]
            text = _text(completion, request)
            return CompletionResult(
                text=text,
                finish_reason=FINISH_REASONS[completion["finish_reason"]],
                logprobs=_logprobs(completion, request.params.logprobs),
                usage=TokenUsage(
                    int(data["num_tokens_prompt_total"]), int(data["num_tokens_generated"])
                ),
                model=str(data.get("model_version") or request.model),
            )
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise self.malformed(
                request.model, "a completion, a finish reason and token counts"
            ) from None

    def completion_stream(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[CompletionEvent]:
        stream = EventStream[CompletionEvent](request.model)
        return stream.feed(self._completion_events(stream, request, cancel))

    def _completion_events(
        self,
        stream: EventStream[CompletionEvent],
        request: CompletionRequest,
        cancel: CancelToken | None,
    ) -> Iterator[CompletionEvent]:
        body = {**complete_body(request), "stream": True}
        for item in self.stream_json("complete", model=request.model, body=body, cancel=cancel):
            try:
                kind = item.get("type")
                if kind == "stream_chunk":
                    yield CompletionAppend(
                        _text(item, request), _logprobs(item, request.params.logprobs)
                    )
                elif kind == "stream_summary":
                    stream.model = str(item.get("model_version") or stream.model)
                    yield CompletionEnd(FINISH_REASONS[item["finish_reason"]])
                elif kind == "completion_summary":
                    yield StreamUsage(
                        TokenUsage(
                            int(item["num_tokens_prompt_total"]), int(item["num_tokens_generated"])
                        )
                    )
            except (KeyError, TypeError, ValueError, AttributeError):
                raise self.malformed(request.model, f"a well-formed {kind} event") from None

    def explain(
        self, request: ExplanationRequest, *, cancel: CancelToken | None = None
    ) -> list[TextScore]:
        body: dict[str, Any] = {
            "prompt": [{"type": "text", "data": request.prompt}],
            "target": request.target,
            "model": request.model,
        }
        if request.granularity != "auto":  # the API's own default
            body["prompt_granularity"] = {"type": request.granularity}
        data = self.request_json("POST", "explain", model=request.model, body=body, cancel=cancel)
        try:
            items = data["explanations"][0]["items"]
            text = next(item for item in items if item.get("type") == "text")
            return [
                TextScore(int(score["start"]), int(score["length"]), float(score["score"]))
                for score in text["scores"]
            ]
        except (KeyError, IndexError, TypeError, ValueError, StopIteration, AttributeError):
            raise self.malformed(request.model, "scores for the prompt's text") from None

    def unhonoured(self, request: InferenceRequest) -> list[str]:
        return []  # the API takes every parameter of the kernel's requests

    def tokenizer(self, model: str, *, cancel: CancelToken | None = None) -> str | None:
        """The model's Hugging Face tokenizer as JSON text, fetched as the kernel's client
        fetches it (`GET {base}/models/{model}/tokenizer`, the bearer token, the model name
        put in the path as it is); raise ModelError if it cannot be had."""
        # No model named to the error messages: a 404 here may be a model without a
        # tokenizer, and the server's own words say which better than "has no model".
        data = self.request_json("GET", f"models/{model}/tokenizer", cancel=cancel)
        if not isinstance(data, dict):
            raise self.malformed(model, "a tokenizer (a JSON object)")
        # Read back as text for tokenizers' `Tokenizer.from_str`.
        return json.dumps(data, ensure_ascii=False)

    def list_models(self) -> list[str]:
        data = self.request_json("GET", "models_available")
        try:
            return sorted(str(entry["name"]) for entry in data)
        except (KeyError, TypeError):
            raise self.malformed(None, "a list of models") from None


def complete_body(request: CompletionRequest) -> dict[str, Any]:
    """The body the kernel sends to `/complete` (None, false and empty fields left out)."""
    params = request.params
    body: dict[str, Any] = {
        "model": request.model,
        "prompt": [{"type": "text", "data": request.prompt}],
    }
    optional = {
        "maximum_tokens": params.max_tokens,
        "temperature": params.temperature,
        "top_k": params.top_k,
        "top_p": params.top_p,
        "frequency_penalty": params.frequency_penalty,
        "presence_penalty": params.presence_penalty,
    }
    body.update({name: value for name, value in optional.items() if value is not None})
    if params.stop:
        body["stop_sequences"] = list(params.stop)
    if params.return_special_tokens:
        body["raw_completion"] = True
    if params.logprobs != "no":
        body["log_probs"] = top_logprobs(params.logprobs)  # 0: the sampled token's only
        body["tokens"] = True
    if params.echo:
        body["echo"] = True
    return body


def _text(completion: dict[str, Any], request: CompletionRequest) -> str:
    # With special tokens asked for, the raw completion is the one that keeps them.
    key = "raw_completion" if request.params.return_special_tokens else "completion"
    text = completion.get(key)
    if text is None and key == "raw_completion":
        text = completion.get("completion")
    if not isinstance(text, str):
        raise TypeError("no completion text")
    return text


def _logprobs(completion: dict[str, Any], wanted: Logprobs) -> tuple[Distribution, ...]:
    """The API's logprobs, one map of token to logprob per generated token (the sampled one
    always among them), paired with `completion_tokens`: most likely first, at most the
    number asked for, the sampled token apart."""
    if wanted == "no":
        return ()
    keep = top_logprobs(wanted)
    distributions = []
    for token, candidates in zip(
        completion.get("completion_tokens") or [],
        completion.get("log_probs") or [],
        strict=False,
    ):
        ranked = sorted(candidates.items(), key=lambda item: -item[1])[:keep]
        logprob = candidates.get(token)
        distributions.append(
            Distribution(
                sampled=Logprob(token.encode(), float("nan") if logprob is None else logprob),
                top=tuple(Logprob(alt.encode(), float(lp)) for alt, lp in ranked),
            )
        )
    return tuple(distributions)
