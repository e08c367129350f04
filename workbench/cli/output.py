"""How the command line prints: errors as one line, paths short, events as they come."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from workbench.build.builder import BuildEvent, BuildFailed, BuildLog, BuildStarted, BuildSucceeded
from workbench.project.model import SkillProject


def error_line(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def warning_line(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def shown(path: Path) -> str:
    """A path as short as it can be: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def write_now(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


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
