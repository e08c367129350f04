"""The host side of the Cognitive System Interface: model calls, each one recorded.

`CsiHost` is what a world's host functions call. It picks the model (the skill's own, or
the user's override), asks the provider, and records every call, failed ones included, so
the trace shows exactly what the skill asked and what came back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.cancel import CancelToken
from workbench.errors import ModelError, RunCancelled
from workbench.models.base import ModelProvider


@dataclass(frozen=True)
class CsiCall:
    function: str
    arguments: dict[str, Any]
    #: The model the skill asked for, and the one that was asked in its place (if overridden).
    model_requested: str
    model_served: str
    reply: str | None
    duration: float
    provider: str
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CsiHost:
    provider: ModelProvider
    model_override: str | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    on_call: Callable[[CsiCall], None] | None = None
    calls: list[CsiCall] = field(default_factory=list)

    def complete_text(self, prompt: str, model: str) -> str:
        served = self.model_override or model
        self._check_cancelled()
        started = time.perf_counter()
        try:
            completion = self.provider.complete_text(prompt, served)
        except ModelError as error:
            self._record(
                "complete-text",
                {"prompt": prompt, "model": model},
                model,
                served,
                None,
                started,
                error=str(error),
            )
            raise
        self._record(
            "complete-text",
            {"prompt": prompt, "model": model},
            model,
            completion.model,
            completion.text,
            started,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
        )
        self._check_cancelled()
        return completion.text

    def _check_cancelled(self) -> None:
        if self.cancel.is_cancelled:
            raise RunCancelled("The run was cancelled.")

    def _record(
        self,
        function: str,
        arguments: dict[str, Any],
        requested: str,
        served: str,
        reply: str | None,
        started: float,
        **extra: Any,
    ) -> None:
        call = CsiCall(
            function=function,
            arguments=arguments,
            model_requested=requested,
            model_served=served,
            reply=reply,
            duration=time.perf_counter() - started,
            provider=self.provider.name,
            **extra,
        )
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
