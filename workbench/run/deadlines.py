"""Time limits and cancels for many runs at once on one wasmtime engine.

wasmtime's epoch is engine-wide: incrementing it reaches every store. So one clock per
engine ticks it while any run is active, and each store gets its own say on every tick
through an epoch-deadline callback: it lets its run go on for one more tick, or traps it
if that run (and only that one) was stopped. The clock also marks a run stopped at its own
deadline, so a run waiting in a host call (a model call) hears its timeout too (the host's
`stopped` event), not only a run executing WebAssembly.

wasmtime-py 50 exposes only `Store.set_epoch_deadline`; the callback is set through its
ctypes binding of `wasmtime_store_epoch_deadline_callback` (the C API's own contract: the
callback returns NULL and a new deadline delta to continue, or an error to trap).
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wasmtime import Engine, Store
from wasmtime import _ffi as ffi

#: How often the clock ticks while a run is active: a cancel or a timeout stops a skill
#: executing WebAssembly at most this late.
TICK_SECONDS = 0.01
#: How long an idle clock waits for the next run before its thread ends.
IDLE_SECONDS = 1.0

_Callback = ctypes.CFUNCTYPE(
    ctypes.c_size_t,
    ctypes.POINTER(ffi.wasmtime_context_t),
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_uint64),
    ctypes.POINTER(ffi.wasmtime_update_deadline_kind_t),
)
_NO_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p))
_CONTINUE = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE


@dataclass(eq=False)
class RunDeadline:
    """One run's stop: its time limit, and why it was stopped (first reason wins)."""

    at: float
    on_stop: Callable[[str], None] | None = None
    stopped_because: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def stopped(self) -> bool:
        return bool(self.stopped_because)

    def stop(self, reason: str) -> None:
        """Stop the run (from any thread): its store traps on the next tick."""
        with self._lock:
            if self.stopped_because:
                return
            self.stopped_because.append(reason)
        if self.on_stop is not None:
            with contextlib.suppress(Exception):  # a listener's bug must not keep it running
                self.on_stop(reason)

    def guard(self, store: Store) -> Any:
        """Make `store` trap on the first tick after this run is stopped; call before
        instantiating. Returns the callback, which must live as long as the store."""

        def on_tick(_context: Any, _data: Any, delta: Any, kind: Any) -> int:
            if self.stopped_because:
                error = ffi.wasmtime_error_new(b"the run was stopped")
                return ctypes.cast(error, ctypes.c_void_p).value or 0
            delta[0] = 1
            kind[0] = _CONTINUE
            return 0

        callback = _Callback(on_tick)
        ffi.wasmtime_store_epoch_deadline_callback(store.ptr(), callback, None, _NO_FINALIZER)
        store.set_epoch_deadline(1)
        return callback


class EpochClock:
    """Ticks its engine's epoch every TICK_SECONDS while a run is active (its thread starts
    with the first run and ends after IDLE_SECONDS without one), and stops each run at its
    deadline."""

    def __init__(self, engine: Engine, tick: float = TICK_SECONDS) -> None:
        self.engine = engine
        self.tick = tick
        self._changed = threading.Condition()
        self._active: set[RunDeadline] = set()
        self._thread: threading.Thread | None = None

    def start(self, timeout: float, on_stop: Callable[[str], None] | None = None) -> RunDeadline:
        """A run's deadline `timeout` seconds from now, watched until `finish`."""
        deadline = RunDeadline(time.monotonic() + timeout, on_stop)
        with self._changed:
            self._active.add(deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._ticking, name="epoch", daemon=True)
                self._thread.start()
            self._changed.notify_all()
        return deadline

    def finish(self, deadline: RunDeadline) -> None:
        with self._changed:
            self._active.discard(deadline)

    @property
    def active(self) -> int:
        with self._changed:
            return len(self._active)

    def _ticking(self) -> None:
        while True:
            with self._changed:
                if not self._active:
                    self._changed.wait(IDLE_SECONDS)
                    if not self._active:
                        self._thread = None
                        return
            time.sleep(self.tick)
            self.engine.increment_epoch()
            now = time.monotonic()
            with self._changed:
                due = [d for d in self._active if not d.stopped and d.at <= now]
            for deadline in due:
                deadline.stop("timeout")
