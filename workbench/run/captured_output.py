"""A skill's stdout and stderr as the runtime captures them: decoded, passed on as they come,
and finished once when the run is over."""

from __future__ import annotations

import codecs
import contextlib
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from workbench.build.diagnostics import map_sandbox_paths
from workbench.project.model import DEFAULT_MAX_PRINTS
from workbench.run.loaders import is_loader_frame

Stream = Literal["stdout", "stderr"]
OutputListener = Callable[[Stream, str], None]

#: The componentize-py runtime's Rust panic line that follows a guest exception.
_GUEST_PANIC = re.compile(r"^thread '[^']*' \(\d+\) panicked at ")
#: wasmtime takes at most this much of one write to a custom stream; the guest's CPython
#: does not write the rest again, so a write of exactly this size was cut.
WRITE_BUDGET = 8192
#: Inside that panic, the Python error the guest runtime hit outside the skill's code (e.g.
#: converting `run`'s return value): `PyErr { type: ..., value: TypeError("..."), ... }`.
_PY_ERR = re.compile(
    r"PyErr \{ type: <class '[^']+'>, value: (?P<name>\w+)\((?P<args>.*)\), traceback"
)
CUT_WRITE_NOTE = (
    "\n[workbench: the skill wrote more than 8 KiB at once and the WebAssembly runtime kept "
    "only the first 8 KiB of it; print in smaller pieces]\n"
)


class CapturedOutput:
    """Collects the guest's writes (bytes, on wasmtime's threads) and passes them on as text.

    stderr is handled by whole lines so that sandbox paths can be mapped to real ones and
    the guest runtime's panic note (its Rust echo of the skill's exception) left out. What
    the guest left unfinished (a last line without a newline, a split UTF-8 sequence) is
    held back until `finish()`, which the runtime calls exactly once, after the run.
    """

    def __init__(
        self,
        listener: OutputListener | None,
        sandbox_paths: Sequence[Path],
        max_prints: int = DEFAULT_MAX_PRINTS,
    ) -> None:
        self._listener = listener
        #: Bytes of prints still to keep; past it they are counted, not kept (host memory).
        self._room = max_prints
        self._max_prints = max_prints
        self._dropped = 0
        self._sandbox_paths = sandbox_paths
        self._parts: dict[Stream, list[str]] = {"stdout": [], "stderr": []}
        self._decoders = {
            name: codecs.getincrementaldecoder("utf-8")("replace") for name in self._parts
        }
        self._partial_line = ""
        self._in_guest_panic = False
        self._finished = False
        self._lock = threading.Lock()

    def write(self, stream: Stream, data: bytes) -> None:
        with self._lock:
            if self._room <= 0:
                self._dropped += len(data)
                return
            if len(data) > self._room:
                self._dropped += len(data) - self._room
                data = data[: self._room]
            self._room -= len(data)
            text = self._decoders[stream].decode(bytes(data))
            if len(data) == WRITE_BUDGET:
                text += CUT_WRITE_NOTE
            if stream == "stderr":
                text = self._stderr_lines(text)
            self._parts[stream].append(text)
        self._tell(stream, text)

    def finish(self) -> None:
        """Flush what the guest left unfinished, to the listener as well: the run is over, so
        its last stderr line is whole even without a newline. Later calls do nothing."""
        flushed: list[tuple[Stream, str]] = []
        with self._lock:
            if self._finished:
                return
            self._finished = True
            for stream in ("stdout", "stderr"):
                rest = self._decoders[stream].decode(b"", final=True)
                if stream == "stderr" and (self._partial_line or rest):
                    rest = self._stderr_lines(rest + "\n")  # ended as a terminal would show it
                if stream == "stderr" and self._dropped:
                    rest += (
                        f"[workbench: {self._dropped:,} more bytes of prints were not kept, past "
                        f"the limit of {self._max_prints:,}; raise it with --max-prints]\n"
                    )
                self._parts[stream].append(rest)
                flushed.append((stream, rest))
        for stream, rest in flushed:
            self._tell(stream, rest)

    def text(self, stream: Stream) -> str:
        """Everything captured on `stream` so far, ending in one newline if not empty."""
        with self._lock:
            joined = "".join(self._parts[stream])
        return joined.rstrip("\n") + ("\n" if joined else "")

    def _tell(self, stream: Stream, text: str) -> None:
        if text and self._listener is not None:
            # A listener's bug must not break the guest's write.
            with contextlib.suppress(Exception):
                self._listener(stream, text)

    def _stderr_lines(self, text: str) -> str:
        lines = (self._partial_line + text).split("\n")
        self._partial_line = lines.pop()
        kept = []
        for line in lines:
            if _GUEST_PANIC.match(line):
                self._in_guest_panic = True
            elif self._in_guest_panic and not line.startswith("note: run with `RUST_BACKTRACE"):
                error = _PY_ERR.search(line)
                if error:  # the one part of the panic a skill's author needs
                    kept.append(f"{error['name']}: {_unquoted(error['args'])}\n")
                continue
            elif self._in_guest_panic:
                self._in_guest_panic = False
            elif is_loader_frame(line):
                continue
            else:
                kept.append(map_sandbox_paths(line, self._sandbox_paths) + "\n")
        return "".join(kept)


def _unquoted(args: str) -> str:
    """`"'int' object is ..."` -> `'int' object is ...`; several arguments stay as they are."""
    if len(args) >= 2 and args[0] == args[-1] == '"':
        return args[1:-1]
    return args
