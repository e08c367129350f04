"""App-wide messages: what the workers report back to the screen."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from workbench.build.diagnostics import Diagnostic


@dataclass
class OpenLocation(Message):
    """Show `path` in the editor with the cursor at (1-based) line and column."""

    path: Path
    line: int | None = None
    column: int | None = None

    @classmethod
    def of(cls, diagnostic: Diagnostic) -> OpenLocation | None:
        if diagnostic.path is None:
            return None
        return cls(diagnostic.path, diagnostic.line, diagnostic.column)
