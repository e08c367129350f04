"""The record of one CSI call, for every function alike, and the trace file made of them.

A record keeps bounded previews of the request and the response (each string cut at
`PREVIEW_CHARS`, each list at `PREVIEW_ITEMS`) with their full sizes: a skill sending 10 MB
prompts in a loop must not grow the workbench by the sum of them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.fs import atomic_write
from workbench.redact import scrub

#: How much of one string in a request or response the record keeps.
PREVIEW_CHARS = 4096
#: How many items of one list (a batch, a stream's events) the record keeps.
PREVIEW_ITEMS = 100


def preview(text: str) -> str:
    """`text` itself if short, else its start and a note saying it was cut and how long it was."""
    if len(text) <= PREVIEW_CHARS:
        return text
    return f"{text[:PREVIEW_CHARS]}… [{len(text):,} characters, first {PREVIEW_CHARS:,} shown]"


def preview_value(value: Any) -> Any:
    """A JSON value with every long string and list cut down (see `preview`)."""
    if isinstance(value, str):
        return preview(value)
    if isinstance(value, bytes | bytearray):
        try:
            return preview(bytes(value).decode("utf-8"))
        except UnicodeDecodeError:
            return f"[{len(value):,} bytes]"
    if isinstance(value, dict):
        return {str(key): preview_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        kept = [preview_value(item) for item in value[:PREVIEW_ITEMS]]
        if len(value) > PREVIEW_ITEMS:
            kept.append(f"… [{len(value):,} items, first {PREVIEW_ITEMS} shown]")
        return kept
    return value


def json_size(value: Any) -> int:
    """Characters of `value` as JSON (bytes counted as text)."""
    return len(json.dumps(value, ensure_ascii=False, default=_as_text))


def _as_text(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


@dataclass(frozen=True)
class CsiCall:
    #: The function as the skill called it, e.g. "complete-v2", "chat-stream", "complete-text".
    function: str
    #: The CSI function that served it, as `/csi/v1` names it, e.g. "complete".
    csi: str
    #: Previews of the request and the response (a stream's response: its events).
    request: Any
    response: Any
    duration: float
    provider: str
    error: str | None = None
    #: The model the skill asked for, and the one that answered (another if overridden).
    model_requested: str | None = None
    model_served: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    #: Parameters the provider could not honour, one sentence each.
    notes: tuple[str, ...] = ()
    #: The full sizes, in characters of JSON, of the request and of the response.
    request_chars: int = 0
    response_chars: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = list(self.notes)
        return data

    @property
    def summary(self) -> str:
        """The call in one line: what it asked, of which model, and what came of it."""
        model = ""
        if self.model_requested:
            model = f" {self.model_requested}"
            if self.model_served and self.model_served != self.model_requested:
                model += f" → {self.model_served}"
        outcome = f"failed: {self.error}" if self.error else f"{self.duration * 1000:.0f} ms"
        return f"{self.function}{model} ({outcome})"


def write_trace(calls: list[CsiCall], path: Path) -> None:
    """The trace as JSON lines, one call a line (previews, never a key)."""
    lines = "".join(
        json.dumps(c.to_dict(), ensure_ascii=False, default=_as_text) + "\n" for c in calls
    )
    atomic_write(path, scrub(lines))  # a model may echo a key it was sent
