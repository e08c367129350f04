"""One build of one output at a time.

The app builds the component behind an instant result while F5 or F6 may build it too, and
the development runtime is prepared when a project opens while F5 may need it: both builds
would write the same partial file. The second waits for the first, then finds its output
up to date (the build's input cache) instead of building it again.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import TypeVar

Event = TypeVar("Event")

# Locks belong to one event loop; tests and the CLI start a loop per run.
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Path, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _lock(output: Path) -> asyncio.Lock:
    per_loop = _locks.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(output.resolve(), asyncio.Lock())


async def one_at_a_time(output: Path, events: AsyncGenerator[Event, None]) -> AsyncIterator[Event]:
    """`events` (a build of `output`) once no other build of `output` runs; closing this
    stream closes the build, which stops its subprocess."""
    async with _lock(output):
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()
