"""Record any provider's replies to a file in the project, and play them back offline.

Replies are keyed by (model, prompt), so a skill's run can be repeated exactly without a
network. The file is plain JSON, meant to be committed next to the skill.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, ClassVar

from workbench.cancel import CancelToken
from workbench.errors import ModelError
from workbench.fs import atomic_write
from workbench.models.base import Completion, ModelProvider

REPLAY_FILE = "replies.json"


def _load(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["replies"]
        return {(e["model"], e["prompt"]): e for e in entries}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelError(
            f"The replay file {path} cannot be read ({error}); fix it, or record "
            "it again with --record."
        ) from None


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
            atomic_write(
                self.path,
                json.dumps({"replies": list(replies.values())}, indent=2, ensure_ascii=False)
                + "\n",
            )
        return completion

    def list_models(self) -> list[str]:
        return self.inner.list_models()

    def close(self) -> None:
        self.inner.close()
