"""A tool (componentize-py, pip) as an async subprocess: its stdout and stderr as one stream
of lines as they come, a deadline, and a stop that takes everything it started with it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from pathlib import Path
from typing import Literal, TypeVar

T = TypeVar("T")
#: How much lower than the workbench a build's tools run (nice(1) increments).
BUILD_NICENESS = 10

StreamName = Literal["stdout", "stderr"]

#: What `before` returns when the deadline passed first.
TIMED_OUT = object()


async def before(deadline: float | None, awaitable: Awaitable[T]) -> T | object:
    """`awaitable`'s result, or TIMED_OUT when `deadline` (time.monotonic) comes first."""
    if deadline is None:
        return await awaitable
    try:
        return await asyncio.wait_for(awaitable, max(deadline - time.monotonic(), 0))
    except TimeoutError:
        return TIMED_OUT


class Subprocess:
    """A started tool. Iterate `lines(deadline)`, then `wait(deadline)` for its exit code;
    always `stop()` it (in a `finally`): a tool must not outlive the one who started it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.timed_out = False
        self._lines: asyncio.Queue[tuple[StreamName, str] | None] = asyncio.Queue()
        self._pumps = [
            asyncio.create_task(self._pump(process.stdout, "stdout")),
            asyncio.create_task(self._pump(process.stderr, "stderr")),
        ]

    @classmethod
    async def start(
        cls, command: Sequence[str], *, cwd: Path, env: Mapping[str, str]
    ) -> Subprocess:
        """Start `command` in its own process group (OSError if it cannot be started)."""
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own process group, so stopping it stops all it started too.
            start_new_session=True,
        )
        # Below the app in the scheduler: a build takes every core it can get, and the key
        # just typed must still echo at once (no preexec_fn: unsafe with threads running).
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, BUILD_NICENESS)
        return cls(process)

    async def lines(self, deadline: float | None = None) -> AsyncIterator[tuple[StreamName, str]]:
        """Every line the tool writes, until it closes both streams or `deadline` passes
        (then `timed_out` is set)."""
        open_streams = len(self._pumps)
        while open_streams:
            item = await before(deadline, self._lines.get())
            if item is TIMED_OUT:
                self.timed_out = True
                return
            if item is None:
                open_streams -= 1
                continue
            assert isinstance(item, tuple)
            yield item

    async def wait(self, deadline: float | None = None) -> int | None:
        """The exit code, or None when `deadline` passed first (then `timed_out` is set)."""
        waited = await before(deadline, self.process.wait())
        if isinstance(waited, int):
            return waited
        self.timed_out = True
        return None

    def kill(self) -> None:
        """SIGKILL the tool's whole process group (its pid: it leads its own session).
        Safe to call from any thread, and more than once."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    async def stop(self) -> None:
        """Stop reading, kill the group, and wait (a little) for the tool to be gone."""
        for pump in self._pumps:
            pump.cancel()
        self.kill()
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.process.wait(), 5)

    async def _pump(self, stream: asyncio.StreamReader | None, name: StreamName) -> None:
        try:
            if stream is not None:
                async for raw in stream:
                    line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                    await self._lines.put((name, line))
        finally:
            self._lines.put_nowait(None)
