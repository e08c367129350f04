"""Record any provider's replies to a file in the project, and play them back offline.

Replies are keyed by (model, prompt), so a skill's run can be repeated exactly without a
network. The file is plain JSON, meant to be committed next to the skill. These providers
keep the seed world's `complete_text` (`"replies"`); every other CSI function is recorded
and replayed by the CSI host (workbench/csi/replay.py) in the same file (`"calls"`), so a
provider asked directly for one of them says that it only answers through the host.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, ClassVar

from workbench.cancel import CancelToken
from workbench.errors import ModelError
from workbench.fs import atomic_write
from workbench.models.base import Completion, InferenceRequest, ModelProvider
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

REPLAY_FILE = "replies.json"


def _load(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        entries = _document(path).get("replies", [])
        return {(e["model"], e["prompt"]): e for e in entries}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelError(
            f"The replay file {path} cannot be read ({error}); fix it, or record "
            "it again with --record."
        ) from None


def _document(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise TypeError("not a JSON object")
    return document


class ReplayProvider:
    """Plays back recorded replies; a prompt without a recording is an error that says so."""

    kind: ClassVar[str] = "replay"
    OFFLINE: ClassVar[bool] = True

    def __init__(self, path: Path, name: str = "replay") -> None:
        self.name = name
        self.path = path
        self._replies: dict[tuple[str, str], dict[str, Any]] | None = None

    def complete_text(
        self, prompt: str, model: str, *, cancel: CancelToken | None = None
    ) -> Completion:
        # Reads a local file at once: there is nothing a cancel could cut short.
        if self._replies is None:
            self._replies = _load(self.path)
        entry = self._replies.get((model, prompt))
        if entry is None:
            shown = " ".join(prompt.split())
            shown = shown if len(shown) <= 60 else shown[:59] + "…"
            raise ModelError(
                f"No recorded reply for model {model!r} and the prompt "
                f"{shown!r} in {self.path.name}; record it by running once "
                "with a real provider and --record."
            )
        return Completion(
            text=entry["reply"],
            model=entry.get("served", model),
            prompt_tokens=entry.get("prompt_tokens"),
            completion_tokens=entry.get("completion_tokens"),
        )

    def complete(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> CompletionResult:
        raise self._not_recorded("complete")

    def completion_stream(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[CompletionEvent]:
        raise self._not_recorded("completion-stream")

    def chat(self, request: ChatRequest, *, cancel: CancelToken | None = None) -> ChatResult:
        raise self._not_recorded("chat")

    def chat_stream(
        self, request: ChatRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[ChatEvent]:
        raise self._not_recorded("chat-stream")

    def explain(
        self, request: ExplanationRequest, *, cancel: CancelToken | None = None
    ) -> list[TextScore]:
        raise self._not_recorded("explain")

    def unhonoured(self, request: InferenceRequest) -> list[str]:
        return []  # every inference call fails with its own sentence

    def _not_recorded(self, function: str) -> ModelError:
        return ModelError(
            f"The replay provider answers {function} only through the CSI host, which finds "
            "the recorded call in the replay file."
        )

    def list_models(self) -> list[str]:
        return sorted({model for model, _ in (self._replies or _load(self.path))})

    def close(self) -> None:
        pass  # nothing held open


class RecordingProvider:
    """Wraps another provider and writes each reply it gives into the replay file."""

    OFFLINE: ClassVar[bool] = False

    def __init__(self, inner: ModelProvider, path: Path) -> None:
        self.inner = inner
        self.path = path
        self.name = inner.name
        self.kind = inner.kind  # type: ignore[misc]
        self._lock = threading.Lock()

    def complete_text(
        self, prompt: str, model: str, *, cancel: CancelToken | None = None
    ) -> Completion:
        completion = self.inner.complete_text(prompt, model, cancel=cancel)
        with self._lock:
            replies = _load(self.path)
            replies[(model, prompt)] = {
                "model": model,
                "prompt": prompt,
                "reply": completion.text,
                "served": completion.model,
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
            }
            document = _document(self.path)  # keeps the CSI host's "calls"
            document["replies"] = list(replies.values())
            atomic_write(self.path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return completion

    # The kernel's inference functions are passed through: the CSI host records them.

    def tokenizer(self, model: str, *, cancel: CancelToken | None = None) -> str | None:
        """The inner provider's tokenizer, so chunks are sized as without recording."""
        fetch = getattr(self.inner, "tokenizer", None)
        return None if fetch is None else fetch(model, cancel=cancel)

    def complete(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> CompletionResult:
        return self.inner.complete(request, cancel=cancel)

    def completion_stream(
        self, request: CompletionRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[CompletionEvent]:
        return self.inner.completion_stream(request, cancel=cancel)

    def chat(self, request: ChatRequest, *, cancel: CancelToken | None = None) -> ChatResult:
        return self.inner.chat(request, cancel=cancel)

    def chat_stream(
        self, request: ChatRequest, *, cancel: CancelToken | None = None
    ) -> EventStream[ChatEvent]:
        return self.inner.chat_stream(request, cancel=cancel)

    def explain(
        self, request: ExplanationRequest, *, cancel: CancelToken | None = None
    ) -> list[TextScore]:
        return self.inner.explain(request, cancel=cancel)

    def unhonoured(self, request: InferenceRequest) -> list[str]:
        return self.inner.unhonoured(request)

    def list_models(self) -> list[str]:
        return self.inner.list_models()

    def close(self) -> None:
        self.inner.close()
