"""The offline default: answers at once, without a network, by echoing what it was asked.

Its reply names the model the skill asked for and quotes the prompt, so a user can see the
CSI round trip working before pointing the skill at a real model.
"""

from __future__ import annotations

from typing import ClassVar

from workbench.cancel import CancelToken
from workbench.models.base import Completion


class EchoProvider:
    kind: ClassVar[str] = "echo"
    OFFLINE: ClassVar[bool] = True

    def __init__(self, name: str = "echo") -> None:
        self.name = name

    def complete_text(
        self, prompt: str, model: str, *, cancel: CancelToken | None = None
    ) -> Completion:
        # Answers at once: there is nothing a cancel could cut short.
        text = f"[echo: model {model!r} received this prompt]\n{prompt}"
        return Completion(
            text=text,
            model=model,
            prompt_tokens=len(prompt.split()),
            completion_tokens=len(text.split()),
        )

    def list_models(self) -> list[str]:
        # Echo serves whatever model is asked for; this is the one the seed's haiku uses.
        return ["luminous-extended-control"]

    def close(self) -> None:
        pass  # nothing held open
