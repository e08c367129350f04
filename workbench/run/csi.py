"""The host side of the Cognitive System Interface: model calls, each one recorded.

`CsiHost` is what a world's host functions call. It picks the model (the skill's own, or
the user's override), asks the provider, and records every call, failed ones included, so
the trace shows what the skill asked and what came back. The record keeps a bounded preview
of each prompt and reply with its full size: a skill sending 10 MB prompts in a loop must not
grow the workbench by the sum of them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.cancel import CancelToken
from workbench.errors import ModelError, RunCancelled
from workbench.fs import atomic_write
from workbench.models.base import Completion, ModelProvider
from workbench.redact import scrub

#: How much of a prompt or reply the call record keeps.
PREVIEW_CHARS = 4096


def preview(text: str) -> str:
    """`text` itself if short, else its start and a note saying it was cut and how long it was."""
    if len(text) <= PREVIEW_CHARS:
        return text
    return f"{text[:PREVIEW_CHARS]}… [{len(text):,} characters, first {PREVIEW_CHARS:,} shown]"


@dataclass(frozen=True)
class CsiCall:
    function: str
    #: The call's arguments; the prompt as a `preview`.
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
    #: The full lengths, in characters, of the prompt and of the reply (None without one).
    prompt_chars: int = 0
    reply_chars: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: How often a waiting model call looks at the cancel token.
_POLL_SECONDS = 0.05


@dataclass
class CsiHost:
    provider: ModelProvider
    model_override: str | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    on_call: Callable[[CsiCall], None] | None = None
    calls: list[CsiCall] = field(default_factory=list)
    #: Set by the runtime when the run is stopped (timeout), so a model call stops waiting.
    stopped: threading.Event = field(default_factory=threading.Event)
    #: The model a call was waiting for when the run was stopped: a slow server, not a loop.
    stopped_waiting_for: str | None = None

    def complete_text(self, prompt: str, model: str) -> str:
        served = self.model_override or model
        arguments = {"prompt": preview(prompt), "model": model}
        sizes = {"prompt_chars": len(prompt)}
        self._check_cancelled()
        started = time.perf_counter()
        try:
            completion = self._call_provider(
                lambda cancel: self.provider.complete_text(prompt, served, cancel=cancel)
            )
        except (RunCancelled, ModelError) as error:
            if isinstance(error, RunCancelled) and self.stopped.is_set():
                self.stopped_waiting_for = f"{served!r} of {self.provider.name}"
            reason = (
                "stopped while waiting for the model"
                if isinstance(error, RunCancelled)
                else str(error)
            )
            self._record(
                "complete-text", arguments, model, served, None, started, error=reason, **sizes
            )
            raise
        self._record(
            "complete-text",
            arguments,
            model,
            completion.model,
            preview(completion.text),
            started,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            reply_chars=len(completion.text),
            **sizes,
        )
        self._check_cancelled()
        return completion.text

    def _call_provider(self, call: Callable[[CancelToken], Completion]) -> Completion:
        """Run the provider's blocking call on its own thread and stop waiting the moment
        the run is cancelled or stopped. The call gets a token of its own, cancelled as this
        stops waiting, so the provider stops too: no retry, no request, after the run ends.
        (One token for both causes: `stopped` is an Event the runtime sets, not a token.)"""
        call_cancel = CancelToken()
        outcome: Future[Completion] = Future()

        def target() -> None:
            try:
                outcome.set_result(call(call_cancel))
            except BaseException as error:
                outcome.set_exception(error)

        threading.Thread(target=target, name="model-call", daemon=True).start()
        try:
            while True:
                try:
                    return outcome.result(timeout=_POLL_SECONDS)
                except FutureTimeout:
                    self._check_cancelled()
        finally:
            if not outcome.done():
                call_cancel.cancel()

    def _check_cancelled(self) -> None:
        if self.cancel.is_cancelled or self.stopped.is_set():
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


def write_trace(calls: list[CsiCall], path: Path) -> None:
    """The trace as JSON lines, one call a line (prompt and reply previews, never a key)."""
    lines = "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in calls)
    atomic_write(path, scrub(lines))  # a model may echo a key it was sent
