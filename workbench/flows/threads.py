"""Blocking work on a thread, its events handed to an async consumer as they happen."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def threaded(
    work: Callable[[Callable[[Any], None]], T], stop: Callable[[], None]
) -> AsyncIterator[Any]:
    """Run `work(send)` on a thread; yield what it sends as it sends it, then what it
    returns. If the consumer stops early, `stop()` is called and the thread is waited for,
    so no work outlives its stream. An exception from `work` is raised here."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()

    def send(event: Any) -> None:
        loop.call_soon_threadsafe(events.put_nowait, (False, event))

    def target() -> None:
        try:
            outcome: tuple[bool, Any] = (True, work(send))
        except BaseException as error:  # handed to the consumer, raised there
            outcome = (True, error)
        loop.call_soon_threadsafe(events.put_nowait, outcome)

    worker = loop.run_in_executor(None, target)
    try:
        while True:
            last, event = await events.get()
            if last and isinstance(event, BaseException):
                raise event
            yield event
            if last:
                break
    finally:
        if not worker.done():
            stop()
            with contextlib.suppress(Exception):
                await asyncio.shield(worker)
