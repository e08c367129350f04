"""The epoch clock and per-store deadlines on a tiny core module: a stop reaches only its own
store, the clock marks a run stopped at its deadline, and its thread ends when idle."""

from __future__ import annotations

import threading
import time

import pytest
from wasmtime import Config, Engine, Instance, Module, Store, WasmtimeError

from workbench.run import deadlines
from workbench.run.deadlines import EpochClock, RunDeadline

LOOP = """(module
  (func (export "loop") (loop $l (br $l)))
  (func (export "seven") (result i32) i32.const 7))"""
HANG = 30


@pytest.fixture(scope="module")
def engine() -> Engine:
    config = Config()
    config.epoch_interruption = True
    return Engine(config)


@pytest.fixture(scope="module")
def module(engine: Engine) -> Module:
    return Module(engine, LOOP)


def call(engine: Engine, module: Module, deadline: RunDeadline, name: str) -> object:
    store = Store(engine)
    guard = deadline.guard(store)
    try:
        return Instance(store, module, []).exports(store)[name](store)  # type: ignore[operator]
    except WasmtimeError as error:
        return error
    finally:
        store.close()
        del guard


def looping(engine: Engine, module: Module, deadline: RunDeadline) -> threading.Thread:
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(call(engine, module, deadline, "loop")))
    thread.outcome = outcome  # type: ignore[attr-defined]
    thread.start()
    return thread


def test_a_stop_traps_only_its_own_store(engine, module) -> None:
    clock = EpochClock(engine)
    first, second = clock.start(HANG), clock.start(HANG)
    threads = [looping(engine, module, first), looping(engine, module, second)]
    first.stop("cancelled")
    threads[0].join(HANG)
    assert isinstance(threads[0].outcome[0], WasmtimeError)  # type: ignore[attr-defined]
    assert threads[1].is_alive()
    assert first.stopped_because == ["cancelled"] and not second.stopped
    second.stop("cancelled")
    threads[1].join(HANG)
    assert isinstance(threads[1].outcome[0], WasmtimeError)  # type: ignore[attr-defined]
    clock.finish(first)
    clock.finish(second)


def test_the_clock_stops_a_run_at_its_deadline_and_says_why(engine, module) -> None:
    clock = EpochClock(engine)
    heard: list[str] = []
    deadline = clock.start(0.2, heard.append)
    thread = looping(engine, module, deadline)
    thread.join(HANG)
    assert not thread.is_alive()
    assert deadline.stopped_because == heard == ["timeout"]
    clock.finish(deadline)


def test_a_run_that_is_not_stopped_is_not_disturbed_by_ticks(engine, module) -> None:
    clock = EpochClock(engine)
    deadline = clock.start(HANG)
    for _ in range(3):
        engine.increment_epoch()
    assert call(engine, module, deadline, "seven") == 7
    clock.finish(deadline)


def test_only_the_first_reason_counts(engine) -> None:
    deadline = EpochClock(engine).start(HANG)
    deadline.stop("cancelled")
    deadline.stop("timeout")
    assert deadline.stopped_because == ["cancelled"]


def test_the_clock_thread_ends_when_no_run_is_active(engine, monkeypatch) -> None:
    monkeypatch.setattr(deadlines, "IDLE_SECONDS", 0.05)
    clock = EpochClock(engine)
    deadline = clock.start(HANG)
    assert clock.active == 1
    clock.finish(deadline)
    end = time.monotonic() + HANG
    while clock._thread is not None and time.monotonic() < end:
        time.sleep(0.01)
    assert clock._thread is None
    # ... and a later run starts it again.
    again = clock.start(HANG)
    assert clock._thread is not None
    clock.finish(again)
