"""How the command line prints: errors as one line, paths short, events as they come."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TextIO

from workbench.build.builder import BuildEvent, BuildFailed, BuildLog, BuildStarted, BuildSucceeded
from workbench.project.model import SkillProject
from workbench.redact import scrub


def error_line(message: str) -> None:
    print(f"error: {scrub(message)}", file=sys.stderr)


def warning_line(message: str) -> None:
    print(f"warning: {scrub(message)}", file=sys.stderr)


#: Control characters a terminal acts on (C0 but newline and tab, DEL, C1): shown, not obeyed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """`text` with every control character written out (ESC as `\\x1b`), so a skill cannot
    clear the screen, retitle the window or plant a link; newlines and tabs stay."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class SkillPrints:
    """The skill's own prints on stderr, each line behind a gutter (`│ `) so none can pass
    for the workbench's own `error:` line, control characters neutralised; `raw` passes
    them through untouched."""

    GUTTER = "│ "

    def __init__(self, stream: TextIO, *, raw: bool = False) -> None:
        self._stream = stream
        self._raw = raw
        self._at_line_start = True

    def write(self, text: str) -> None:
        if not self._raw:
            lines = terminal_safe(text).split("\n")
            shown = []
            for index, line in enumerate(lines):
                starts = self._at_line_start if index == 0 else True
                last = index == len(lines) - 1
                if line or not last:
                    shown.append((self.GUTTER if starts else "") + line)
                else:
                    shown.append("")
            text = "\n".join(shown)
            self._at_line_start = text.endswith("\n")
        self._stream.write(text)
        self._stream.flush()


def shown(path: Path) -> str:
    """A path as short as it can be: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_json(data: object) -> None:
    print(scrub(json.dumps(data, indent=2, ensure_ascii=False)))


def print_build_event(
    event: BuildEvent, project: SkillProject, *, verbose: bool, quiet_when_cached: bool = False
) -> None:
    """One build event on stderr (the component's path and errors; the log with -v)."""
    if isinstance(event, BuildStarted):
        print(
            f"Building {project.module} ({project.qualified_world}) with componentize-py...",
            file=sys.stderr,
            flush=True,
        )
    elif isinstance(event, BuildLog) and verbose:
        print(f"  {event.line}", file=sys.stderr, flush=True)
    elif isinstance(event, BuildSucceeded):
        where = shown(event.component)
        if event.cached and not quiet_when_cached:
            print(f"{where} is up to date (inputs unchanged, cache hit).", file=sys.stderr)
        elif not event.cached:
            print(f"Built {where} in {event.duration:.1f} s.", file=sys.stderr)
    elif isinstance(event, BuildFailed):
        for diagnostic in event.diagnostics[1:]:
            print(diagnostic.format(Path.cwd()), file=sys.stderr)
        error_line(str(event.error))
