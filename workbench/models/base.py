"""The interface every model provider implements.

A provider answers one completion at a time, from any thread. It returns a `Completion` or
raises `workbench.errors.ModelError` with one sentence naming the provider, the model and
what to do. It never raises anything else for a failure a user can cause. Given a cancel
token, it raises `workbench.errors.RunCancelled` soon after the token is cancelled and sends
no request after that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from workbench.cancel import CancelToken


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

    def list_models(self) -> list[str]:
        """The models this provider can serve; raise ModelError on failure."""
        ...

    def close(self) -> None:
        """Release connections; the provider is not used again."""
        ...
