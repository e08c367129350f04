"""Runs in worker processes that can be killed: the one way to stop a skill blocked in a WASI
call (time.sleep, a blocking read), which wasmtime's epoch interruption cannot reach.

Each worker is a child process with its own `SkillRuntime` (its own engine, the same disk
compile cache). The parent sends a run over a pipe; the worker streams back the skill's
output and forwards every CSI call to the parent, where the real `ModelProvider` (keys,
connections) and the `CsiHost` record live. The parent keeps the time limit and the cancel:
the worker's own epoch stop gets a short grace, after which the worker is killed and
replaced. One spare worker is kept warm, so a run, also the one after a kill, does not wait
for a process to start.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from workbench.csi.host import CsiHost
from workbench.errors import (
    ComponentError,
    InternalError,
)
from workbench.run.captured_output import OutputListener
from workbench.run.drive import Drive
from workbench.run.linking import MessageSink
from workbench.run.results import RunLimits, RunResult
from workbench.run.skill_io import SkillMetadata
from workbench.run.worker import Preload, RunJob, worker_main

#: How long a new worker may take to import wasmtime and be ready.
START_TIMEOUT = 60.0
#: Idle workers kept: the one used last (its component loaded) and a spare; a spare is
#: started whenever a run takes the last idle one.
IDLE_WORKERS = 2
_POLL_SECONDS = 0.02
#: How long a skill's metadata() may take (it only returns what the build computed).
METADATA_TIMEOUT = 10.0


class _Worker:
    def __init__(self, context: Any, preload: Preload | None) -> None:
        self.connection, child_end = context.Pipe()
        self.process = context.Process(
            target=worker_main, args=(child_end, preload), name="skill-runner", daemon=True
        )
        self.process.start()
        child_end.close()
        self._ready = False

    def wait_ready(self, timeout: float) -> bool:
        if not self._ready:
            with contextlib.suppress(EOFError, OSError):
                if self.connection.poll(timeout):
                    self._ready = self.connection.recv() == ("ready",)
        return self._ready

    def send(self, *message: Any) -> None:
        self.connection.send(message)

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.connection.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("close")
            self.process.join(1)
        self.kill()


def _context() -> Any:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    # Forked from a server that has imported wasmtime already: a worker is ready in a
    # fraction of a fresh interpreter's time, and never inherits the parent's threads.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["workbench.run.worker"])
    from multiprocessing import forkserver, resource_tracker

    # Both helpers hand the real stderr's descriptor to their process; inside the app (or a
    # test capturing output) sys.stderr has none, which multiprocessing cannot start with.
    with _stderr_with_a_descriptor():
        resource_tracker.ensure_running()
        forkserver.ensure_running()
    return context


@contextlib.contextmanager
def _stderr_with_a_descriptor() -> Iterator[None]:
    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        yield
        return
    saved = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = sys.__stderr__ or devnull
        try:
            yield
        finally:
            sys.stderr = saved


class RunnerPool:
    """Runs skills in worker processes; `run` has `SkillRuntime.run`'s shape and contract."""

    def __init__(self, *, warm: bool = True, idle_workers: int = IDLE_WORKERS) -> None:
        #: How many idle workers are kept: a server running several skills at once keeps
        #: one a run, or each run would start a fresh process.
        self.idle_workers = idle_workers
        self._context = _context()
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._starting = 0
        self._preload: Preload | None = None
        self._closed = False
        atexit.register(self.close)
        if warm:
            self._start_spare()

    # Workers ---------------------------------------------------------------------------------
    def _start_spare(self) -> None:
        """Start a worker in the background and keep it idle; it preloads the last component."""
        with self._lock:
            if self._closed or self._idle or self._starting:
                return
            self._starting += 1
            preload = self._preload

        def start() -> None:
            worker: _Worker | None = None
            try:
                worker = _Worker(self._context, preload)
            finally:
                with self._lock:
                    self._starting -= 1
                    if worker is not None and not self._closed:
                        self._idle.append(worker)
                        worker = None
            if worker is not None:
                worker.kill()

        threading.Thread(target=start, name="skill-runner-start", daemon=True).start()

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise InternalError("The run was asked of a closed runner pool; please report it.")
            # The one used last first: it has the component loaded already.
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = _Worker(self._context, self._preload)
        self._start_spare()
        if not worker.wait_ready(START_TIMEOUT):
            worker.kill()  # e.g. a spare that died idle: one fresh try
            worker = _Worker(self._context, self._preload)
        if not worker.wait_ready(START_TIMEOUT):
            worker.kill()
            raise InternalError(
                "The process that runs skills did not start; run it again, and report it "
                "if it keeps happening."
            )
        with self._lock:
            self._busy.add(worker)
        return worker

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = healthy and not self._closed and len(self._idle) < self.idle_workers
            if keep:
                self._idle.append(worker)
        if not keep:
            (worker.close if healthy else worker.kill)()
        self._start_spare()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """Wait until a spare worker is ready (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = list(self._idle)
            if idle and idle[-1].wait_ready(max(0.0, deadline - time.monotonic())):
                return True
            time.sleep(0.01)
        return False

    @property
    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        """Every worker process, idle or running a skill."""
        with self._lock:
            return [w.process for w in (*self._idle, *self._busy)]

    @property
    def running(self) -> list[multiprocessing.process.BaseProcess]:
        """The worker processes running a skill now."""
        with self._lock:
            return [w.process for w in self._busy]

    def close(self) -> None:
        """Stop every worker; a run in progress ends as cancelled."""
        with self._lock:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle.clear()
        for worker in workers:
            worker.close()
        atexit.unregister(self.close)

    # Runs ------------------------------------------------------------------------------------
    def run(
        self,
        component_path: Path,
        input: str,
        host: CsiHost,
        *,
        limits: RunLimits | None = None,
        expected_world: str | None = None,
        sandbox_paths: Sequence[Path] = (),
        on_output: OutputListener | None = None,
        on_message: MessageSink | None = None,
    ) -> RunResult:
        """Run the component's `run` with `input` in a worker. Never raises for a user's
        error: the returned result carries it, a killed or dead worker included."""
        limits = limits or RunLimits()
        result = RunResult(
            input=input,
            component=component_path,
            model_override=host.model_override,
            csi_calls=host.calls,
        )
        job = RunJob(component_path, input, limits, expected_world, tuple(sandbox_paths))
        with self._lock:
            self._preload = (component_path, expected_world)
        worker = self._acquire()
        healthy = False
        try:
            healthy = Drive(worker, job, host, on_output, on_message, result).run()
        finally:
            self._release(worker, healthy)
        return result

    def metadata(
        self, component_path: Path, timeout: float = METADATA_TIMEOUT
    ) -> SkillMetadata | None:
        """What the skill says about itself (see SkillRuntime.metadata), read in a worker
        that is killed if the skill's metadata() does not answer in time."""
        worker = self._acquire()
        healthy = False
        try:
            worker.send("metadata", component_path)
            if not worker.connection.poll(timeout + START_TIMEOUT / 4):
                raise ComponentError(
                    f"{component_path.name}: its metadata() did not answer within "
                    f"{timeout:g} s; check the skill's description and schemas."
                )
            _kind, metadata, error = worker.connection.recv()
            healthy = True
        except (EOFError, OSError) as problem:
            raise InternalError(
                f"The process reading the skill's metadata ended ({problem})."
            ) from None
        finally:
            self._release(worker, healthy)
        if error is not None:
            raise error
        return metadata


_shared: RunnerPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> RunnerPool:
    """The process's pool, started on first use and closed at exit."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._closed:
            _shared = RunnerPool()
        return _shared
