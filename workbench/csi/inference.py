"""The inference functions of the CSI, served by a model provider: what a world's host (or an
HTTP CSI) calls, with the kernel's `/csi/v1` JSON in and out (chat as `/csi/v2`, see `wire`).

Each function reads its request (raising `InvalidCsiRequest` for one the kernel would refuse),
asks the provider which parameters it cannot honour, calls it, and returns the kernel's JSON
with what the trace needs: the model that answered, token counts, and one note per parameter
the provider could not honour. Batches are answered one request after another, in order; a
failure fails the batch, as in the kernel. Streams are pulled one event at a time; an error
(ModelError, RunCancelled) is raised by the pull that meets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from workbench.cancel import CancelToken
from workbench.csi import wire
from workbench.errors import InvalidCsiRequest
from workbench.models.base import InferenceRequest, ModelProvider
from workbench.models.inference import (
    ChatResult,
    CompletionResult,
    EventStream,
    StreamUsage,
    TokenUsage,
)

Event = TypeVar("Event")


@dataclass(frozen=True)
class Served:
    #: The kernel's JSON answer (a list, in request order, for the batch functions).
    response: Any
    #: The model that answered (the first request's), for the trace.
    model: str | None
    #: Summed over a batch; None when the provider does not say.
    prompt_tokens: int | None
    completion_tokens: int | None
    #: One sentence per parameter the provider could not honour.
    notes: tuple[str, ...]


@dataclass
class ServedStream:
    #: `{"event": name, "data": {...}}` exactly as the kernel's `/csi/v1` SSE events, pulled
    #: one at a time (each pull may wait on the network); close it to drop the stream early.
    events: Iterator[dict[str, Any]]
    #: The model that answers: the requested one until the provider names another.
    model: str | None
    notes: tuple[str, ...]
    #: Set once the stream's usage event has been pulled.
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def close(self) -> None:
        close = getattr(self.events, "close", None)
        if close is not None:
            close()


def complete_text(provider: ModelProvider, request: dict[str, Any], cancel: CancelToken) -> Served:
    """The seed world's function: `{"prompt", "model"}` in, the completion's text out."""
    if not isinstance(request, dict):
        raise InvalidCsiRequest("The complete_text request must be a JSON object.")
    prompt = request.get("prompt")
    model = request.get("model")
    if not isinstance(prompt, str) or not isinstance(model, str):
        raise InvalidCsiRequest(
            "The complete_text request needs a `prompt` and a `model`, both strings."
        )
    completion = provider.complete_text(prompt, model, cancel=cancel)
    return Served(
        response=completion.text,
        model=completion.model,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        notes=(),
    )


def complete(
    provider: ModelProvider, requests: list[dict[str, Any]], cancel: CancelToken
) -> Served:
    return _batch(
        provider,
        requests,
        "complete",
        wire.completion_request,
        lambda request: provider.complete(request, cancel=cancel),
        wire.completion_json,
    )


def chat(provider: ModelProvider, requests: list[dict[str, Any]], cancel: CancelToken) -> Served:
    return _batch(
        provider,
        requests,
        "chat",
        wire.chat_request,
        lambda request: provider.chat(request, cancel=cancel),
        wire.chat_json,
    )


Request = TypeVar("Request", bound=InferenceRequest)
Result = TypeVar("Result", CompletionResult, ChatResult)


def _batch(
    provider: ModelProvider,
    requests: list[dict[str, Any]],
    function: str,
    parse: Callable[[Any, str], Request],
    ask: Callable[[Request], Result],
    render: Callable[[Result], dict[str, Any]],
) -> Served:
    """A batch function: each request read, then answered in order (one failure fails all)."""
    parsed = [
        parse(request, f"{function} request {n}")
        for n, request in enumerate(wire.batch(requests, function), 1)
    ]
    notes = _notes(provider, parsed)
    results = [ask(request) for request in parsed]
    return _served(
        [render(result) for result in results],
        [result.model for result in results],
        [result.usage for result in results],
        notes,
    )


def explain(provider: ModelProvider, requests: list[dict[str, Any]], cancel: CancelToken) -> Served:
    parsed = [
        wire.explanation_request(request, f"explain request {n}")
        for n, request in enumerate(wire.batch(requests, "explain"), 1)
    ]
    notes = _notes(provider, parsed)
    scores = [wire.scores_json(provider.explain(request, cancel=cancel)) for request in parsed]
    # Explaining generates nothing, and the API reports no tokens.
    return _served(scores, [request.model for request in parsed], [], notes)


def completion_stream(
    provider: ModelProvider, request: dict[str, Any], cancel: CancelToken
) -> ServedStream:
    parsed = wire.completion_request(request, "the completion_stream request")
    notes = _notes(provider, [parsed])
    return _stream(
        provider.completion_stream(parsed, cancel=cancel), wire.completion_event_json, notes
    )


def chat_stream(
    provider: ModelProvider, request: dict[str, Any], cancel: CancelToken
) -> ServedStream:
    parsed = wire.chat_request(request, "the chat_stream request")
    notes = _notes(provider, [parsed])
    return _stream(provider.chat_stream(parsed, cancel=cancel), wire.chat_event_json, notes)


def _notes(provider: ModelProvider, requests: Sequence[InferenceRequest]) -> tuple[str, ...]:
    """What the provider cannot honour, each sentence once (a batch often repeats them)."""
    notes: dict[str, None] = {}
    for request in requests:
        notes.update(dict.fromkeys(provider.unhonoured(request)))
    return tuple(notes)


def _served(
    response: list[Any], models: list[str], usages: list[TokenUsage], notes: tuple[str, ...]
) -> Served:
    return Served(
        response=response,
        model=models[0] if models else None,
        prompt_tokens=sum(usage.prompt for usage in usages) if usages else None,
        completion_tokens=sum(usage.completion for usage in usages) if usages else None,
        notes=notes,
    )


def _stream(
    stream: EventStream[Event],
    render: Callable[[Event], dict[str, Any]],
    notes: tuple[str, ...],
) -> ServedStream:
    served = ServedStream(events=iter(()), model=stream.model, notes=notes)

    def events() -> Iterator[dict[str, Any]]:
        try:
            for event in stream:
                served.model = stream.model
                if isinstance(event, StreamUsage):
                    served.prompt_tokens = event.usage.prompt
                    served.completion_tokens = event.usage.completion
                yield render(event)
        finally:
            stream.close()  # the connection goes with the stream, read or dropped

    served.events = events()
    return served
