"""How the command line prints: errors as one line, paths short, events as they come."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from workbench.build.builder import BuildEvent, BuildFailed, BuildLog, BuildStarted, BuildSucceeded
from workbench.project.model import SkillProject
from workbench.redact import scrub
from workbench.tools.kernel import readable_tool_event


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


class MessagePrinter:
    """A message-stream skill's messages as they arrive: their text on stdout (reasoning on
    stderr, marked), or with `json_lines` each event as one line of JSON, the run's result
    last."""

    def __init__(self, stream: TextIO, *, json_lines: bool = False, raw: bool = False) -> None:
        self._stream = stream
        self._json_lines = json_lines
        self._raw = raw
        self._started = False
        self._in_message = False

    def _safe(self, text: str) -> str:
        return text if self._raw else terminal_safe(scrub(text))

    def write(self, event: dict[str, Any]) -> None:
        self._started = True
        if self._json_lines:
            self._stream.write(scrub(json.dumps(event, ensure_ascii=False)) + "\n")
        elif event["type"] == "begin":
            self._in_message = True
        elif event["type"] == "append":
            self._stream.write(self._safe(event["text"]))
        elif event["type"] == "reasoning":
            print(f"[reasoning] {self._safe(event['text'])}", file=sys.stderr)
        elif event["type"] == "tool":  # the kernel's `event: tool`, on stderr like reasoning
            print(f"[tool] {self._safe(readable_tool_event(event['event']))}", file=sys.stderr)
        elif event["type"] == "end":
            self._in_message = False
            self._stream.write("\n")
            if event.get("payload") is not None:
                payload = json.dumps(event["payload"], ensure_ascii=False)
                self._stream.write(self._safe(payload) + "\n")
        self._stream.flush()

    def finish(self) -> None:
        """End a message the skill left open (it failed, or never ended it)."""
        if self._in_message and not self._json_lines:
            self._stream.write("\n")
            self._stream.flush()
        self._in_message = False

    def finish_json(self, result: dict[str, Any]) -> None:
        """The run's result: one line after streamed events, else the one JSON document."""
        if self._started:
            self._stream.write(scrub(json.dumps(result, ensure_ascii=False)) + "\n")
            self._stream.flush()
        else:
            print_json(result)


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
