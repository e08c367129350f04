"""The worker process of a `RunnerPool` (see pool.py): it runs one skill at a time in its own
`SkillRuntime` and talks to the parent over a pipe. Messages to the parent: ("ready"),
("started"), ("output", stream, text), ("message", event), ("csi", method, *arguments) for
the CSI host's call/open_stream/next_event, ("csi-close", stream), ("done", RunResult),
("metadata", SkillMetadata | None, error | None); from the parent: ("run", RunJob),
("metadata", path), ("preload", (path, world)), ("close",), and the answers to CSI calls:
("reply", value) or ("raise", error).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from workbench.csi.host import CsiHost
from workbench.errors import InternalError, WorkbenchError
from workbench.models.echo import EchoProvider
from workbench.run.runtime import RunLimits, SkillRuntime

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class RunJob:
    component: Path
    input: str
    limits: RunLimits
    expected_world: str | None
    sandbox_paths: tuple[Path, ...]


Preload = tuple[Path, str | None]


class _ForwardingHost(CsiHost):
    """The worker's CSI host: asks the parent, which calls the provider and records the call."""

    def __init__(self, connection: Connection, send: Callable[..., None]) -> None:
        super().__init__(provider=EchoProvider("parent"))  # never asked: the parent answers
        self._connection = connection
        self._send = send

    def _ask(self, method: str, *arguments: Any) -> Any:
        self._send("csi", method, *arguments)
        kind, value = self._connection.recv()
        if kind == "raise":
            raise value
        return value

    def call(self, function: str, request: Any, label: str) -> Any:
        return self._ask("call", function, request, label)

    def open_stream(self, function: str, request: Any, label: str) -> int:
        return int(self._ask("open_stream", function, request, label))

    def next_event(self, stream: int) -> dict[str, Any] | None:
        event: dict[str, Any] | None = self._ask("next_event", stream)
        return event

    def stream_tool_events(self, sink: Callable[[dict[str, Any]], None] | None) -> None:
        """The parent's host passes tool events on (the Drive knows the stream)."""

    def close_stream(self, stream: int) -> None:
        self._send("csi-close", stream)  # no answer: the parent records the stream's end


def _die_with_parent() -> None:
    # A worker blocked in a skill's sleep never reads its pipe; on Linux the kernel kills it
    # when its parent dies, so no worker outlives the workbench even after a SIGKILL.
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def worker_main(connection: Connection, preload: Preload | None) -> None:
    _die_with_parent()
    runtime = SkillRuntime()
    if preload is not None:
        with contextlib.suppress(WorkbenchError):
            runtime.load(*preload)
    lock = threading.Lock()

    def send(*message: Any) -> None:
        with lock:  # wasmtime's output threads and the run's thread both send
            connection.send(message)

    send("ready")
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message[0] == "close":
            return
        if message[0] == "preload":
            with contextlib.suppress(WorkbenchError):
                runtime.load(*message[1])
            continue
        if message[0] == "metadata":
            try:
                send("metadata", runtime.metadata(message[1]), None)
            except WorkbenchError as error:
                send("metadata", None, error)
            continue
        job: RunJob = message[1]
        kind = None
        with contextlib.suppress(WorkbenchError):  # its time is not the skill's
            kind = runtime.load(job.component, job.expected_world).world.kind
        send("started", kind)
        result = runtime.run(
            job.component,
            job.input,
            _ForwardingHost(connection, send),
            limits=job.limits,
            expected_world=job.expected_world,
            sandbox_paths=job.sandbox_paths,
            on_output=lambda stream, text: send("output", stream, text),
            on_message=lambda event: send("message", event),
        )
        result.csi_calls = []  # the parent holds the record
        try:
            send("done", result)
        except Exception as error:  # e.g. an error that cannot be pickled
            result.error = InternalError(f"The run's result could not be sent back ({error}).")
            send("done", result)
