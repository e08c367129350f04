"""The interface every model provider implements.

A provider answers from any thread. Each call returns its result or raises
`workbench.errors.ModelError` with one sentence naming the provider, the model and what to
do; it never raises anything else for a failure a user can cause. Given a cancel token, it
raises `workbench.errors.RunCancelled` soon after the token is cancelled and sends no request
after that. A stream sends its request when its first event is pulled, raises those errors
from the pull that meets them, and closes its connection when closed or cancelled.

`complete_text` is the seed world's one function. The others serve the kernel's inference
interface (pharia:skill@0.2 to 0.5); a parameter a provider cannot honour is never dropped in
silence: `unhonoured` names it, in one sentence, before the call is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from workbench.cancel import CancelToken
from workbench.models.inference import (
    ChatEvent,
    ChatRequest,
    ChatResult,
    CompletionEvent,
    CompletionRequest,
    CompletionResult,
    EventStream,
    ExplanationRequest,
    TextScore,
)

InferenceRequest = CompletionRequest | ChatRequest | ExplanationRequest


@dataclass(frozen=True)
class Completion:
    text: str
    #: The model that actually answered (a server may map or override the name).
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ModelProvider(Protocol):
    #: The provider's kind, e.g. "echo"; a configured provider also has its own `name`.
    kind: ClassVar[str]
    #: True when the provider needs no network.
    OFFLINE: ClassVar[bool]
    name: str

    def complete_text(
        self, prompt: str, model: str, *, cancel: CancelToken | None = None
    ) -> Completion:
        """Complete `prompt` with `model`; raise ModelError on failure, RunCancelled once
        `cancel` is cancelled."""
        ...

    def complete(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> CompletionResult: ...

    def completion_stream(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[CompletionEvent]:
        """Appends, then one end, then one usage: the order the kernel gives a skill."""
        ...

    def chat(self, request: ChatRequest, *, cancel: CancelToken | None = None) -> ChatResult: ...

    def chat_stream(
        self, request: ChatRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[ChatEvent]:
        """A message begin, reasoning / appends / tool-call pieces, one message end, then one
        usage."""
        ...

    def explain(
        self, request: ExplanationRequest, *, cancel: CancelToken | None = None
    ) -> list[TextScore]: ...

    def unhonoured(self, request: InferenceRequest) -> list[str]:
        """One sentence for each parameter of `request` this provider cannot honour (it is
        sent without it, or has no effect); empty when it honours them all."""
        ...

    def list_models(self) -> list[str]:
        """The models this provider can serve; raise ModelError on failure."""
        ...

    def close(self) -> None:
        """Release connections; the provider is not used again."""
        ...
