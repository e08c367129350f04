"""Turn componentize-py's and the guest's error text into diagnostics with real paths.

Inside componentize-py's sandbox the N-th `-p` path is mounted at `/N/`, so a frame reads
`File "/0/haiku.py", line 5`; users need the file in their project instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.fs import in_pruned_folder

_SANDBOX_PATH = re.compile(r'"/(\d+)/([^"]+)"')
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
_WIT_LOCATION = re.compile(r"^\s*-->\s+(?P<path>.+?):(?P<line>\d+):(?P<column>\d+)\s*$")
_CARET = re.compile(r"^(\s*)\^+\s*$")


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a project file. `line` and `column` are 1-based; either may be unknown."""

    message: str
    path: Path | None = None
    line: int | None = None
    column: int | None = None

    def location(self, relative_to: Path | None = None) -> str:
        if self.path is None:
            return ""
        path = self.path
        if relative_to is not None and path.is_relative_to(relative_to):
            path = path.relative_to(relative_to)
        parts = [str(path)] + [str(n) for n in (self.line, self.column) if n is not None]
        return ":".join(parts)

    def format(self, relative_to: Path | None = None) -> str:
        where = self.location(relative_to)
        return f"{where}: {self.message}" if where else self.message


def map_sandbox_paths(text: str, python_paths: Sequence[Path]) -> str:
    """Rewrite `"/N/rel"` in tracebacks to the real `python_paths[N]/rel`."""

    def real(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(python_paths):
            return match.group(0)
        return f'"{python_paths[index] / match.group(2)}"'

    return _SANDBOX_PATH.sub(real, text)


class ReadableStderr:
    """componentize-py reports a skill's error inside a traceback of its own launcher script
    ("Traceback ... bin/componentize-py ... AssertionError: <the skill's error>"); users need
    only the skill's part, with real paths instead of sandbox ones."""

    def __init__(self, python_paths: Sequence[Path]) -> None:
        self._python_paths = python_paths
        self._held: list[str] | None = None

    def feed(self, line: str) -> list[str]:
        if self._held is None and line.startswith("Traceback (most recent call last):"):
            self._held = [line]
            return []
        if self._held is not None:
            if line.startswith("AssertionError: "):
                self._held = None
                line = line.removeprefix("AssertionError: ")
            else:
                self._held.append(line)
                return []
        return [map_sandbox_paths(line, self._python_paths)]

    def flush(self) -> list[str]:
        held, self._held = self._held or [], None
        return [map_sandbox_paths(line, self._python_paths) for line in held]


def _assertion_body(stderr: str) -> tuple[str, str]:
    """Split componentize-py's stderr into (the guest error text, the `Caused by` summary)."""
    body = stderr
    marker = "AssertionError: "
    if marker in body:
        body = body.split(marker, 1)[1]
    summary = ""
    if "\nCaused by:" in body:
        body, summary = body.split("\nCaused by:", 1)
    return body.strip("\n"), " ".join(summary.split())


def _column(path: Path, line: int, caret_indent: int, shown_indent: int) -> int | None:
    """Python strips the source line's indentation when it prints it; add it back."""
    try:
        source = path.read_text(encoding="utf-8").splitlines()[line - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    real_indent = len(source) - len(source.lstrip())
    return caret_indent - shown_indent + real_indent + 1


def parse_build_errors(stderr: str, python_paths: Sequence[Path], cwd: Path) -> list[Diagnostic]:
    """Diagnostics from a failed `componentize-py componentize` (its stderr, RUST_BACKTRACE=0)."""
    body, summary = _assertion_body(stderr)
    lines = body.splitlines()
    if not lines:
        return [Diagnostic(summary or "componentize-py failed without saying why.")]

    # A WIT error: "expected ';', found keyword `export`" then "--> skill.wit:5:5".
    for line in lines:
        found = _WIT_LOCATION.match(line)
        if found:
            return [
                Diagnostic(
                    message=lines[0].strip(),
                    path=(cwd / found["path"]).resolve(),
                    line=int(found["line"]),
                    column=int(found["column"]),
                )
            ]

    # A Python error: the innermost frame in a project file, then the exception line.
    frame_path: Path | None = None
    frame_line: int | None = None
    frame_index = -1
    for index, line in enumerate(lines):
        frame = _FRAME.match(map_sandbox_paths(line, python_paths))
        if frame and _is_project_path(Path(frame["path"]), python_paths):
            frame_path, frame_line, frame_index = Path(frame["path"]), int(frame["line"]), index
    message = _exception_line(lines) or summary
    if frame_path is None or frame_line is None:
        return [Diagnostic(message or summary)]

    column = None
    tail = lines[frame_index + 1 : frame_index + 3]
    if len(tail) == 2 and _CARET.match(tail[1]):
        shown_indent = len(tail[0]) - len(tail[0].lstrip())
        column = _column(frame_path, frame_line, len(_CARET.match(tail[1])[1]), shown_indent)
    return [Diagnostic(message=message, path=frame_path, line=frame_line, column=column)]


def _is_project_path(path: Path, python_paths: Sequence[Path]) -> bool:
    """In one of the `-p` folders, and not in a folder of others' code inside one (an SDK
    project's `wasi_deps/` with pydantic-core, a `.venv`)."""
    holders = [root for root in python_paths if path.is_relative_to(root)]
    return bool(holders) and not any(in_pruned_folder(path, root) for root in holders)


def _exception_line(lines: list[str]) -> str:
    """The `SomeError: message` line that ends a Python traceback."""
    for line in reversed(lines):
        if line.strip() and not line.startswith(" "):
            return line.strip()
    return ""


def last_exception_line(traceback_text: str) -> str:
    return _exception_line(traceback_text.splitlines())
