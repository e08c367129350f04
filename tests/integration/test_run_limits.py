"""Every limit holds: a skill blocked in a WASI call (time.sleep) is stopped at its time
limit and by cancel, because runs happen in worker processes that are killed and replaced;
and a skill sending huge prompts does not grow the workbench, because the CSI record keeps
bounded previews."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import collect
from tests.integration.test_run import run  # the pool runs as a SkillRuntime does
from workbench import flows
from workbench.cancel import CancelToken
from workbench.csi.host import CsiHost
from workbench.csi.record import PREVIEW_CHARS
from workbench.errors import RunCancelled, RunTimeout, SkillCrashed
from workbench.models import EchoProvider
from workbench.project.model import SkillProject
from workbench.run.pool import RunnerPool
from workbench.run.runtime import RunLimits

#: What the parent may grow by during a run on top of the user's memory limit: a few
#: 10 MB prompts and replies in flight (pickled, unpickled, echoed) and allocator slack.
HOST_OVERHEAD = 300 << 20
BIG_PROMPT = 10 << 20


@pytest.fixture(scope="module")
def pool(behaviours_project: SkillProject) -> Iterator[RunnerPool]:
    """A pool whose workers have the component compiled (what the tests time is the run)."""
    pool = RunnerPool()
    assert run(pool, behaviours_project, "warm").ok
    assert pool.wait_ready()
    yield pool
    processes = pool.processes
    pool.close()
    assert processes and not any(process.is_alive() for process in processes)


def test_a_sleeping_skill_is_stopped_within_a_second_of_its_time_limit(pool, behaviours_project):
    started = time.monotonic()
    result = run(pool, behaviours_project, "sleep", limits=RunLimits(timeout=1))
    took = time.monotonic() - started
    assert isinstance(result.error, RunTimeout)
    assert "past its time limit of 1 s" in str(result.error)
    assert "stopped after 1." in str(result.error)  # the time it really ran, not 1000 s
    assert took < 1 + 1, f"took {took:.2f} s"


def test_cancel_stops_a_sleeping_skill_within_half_a_second(pool, behaviours_project):
    """Through the flow both front-ends use: the same events, ended by the cancel."""
    token = CancelToken()
    cancelled: list[float] = []

    def cancel() -> None:
        cancelled.append(time.monotonic())
        token.cancel()

    threading.Timer(0.5, cancel).start()
    request = flows.RunRequest("sleep", limits=RunLimits(timeout=60))
    events = asyncio.run(
        collect(
            flows.run_component(
                behaviours_project, request, EchoProvider(), runner=pool, cancel=token
            )
        )
    )
    ended = time.monotonic()
    assert isinstance(events[0], flows.RunStarted)
    assert isinstance(events[-1], flows.RunFinished)
    assert isinstance(events[-1].result.error, RunCancelled)
    assert ended - cancelled[0] < 0.5, f"ended {ended - cancelled[0]:.2f} s after the cancel"


def test_the_run_after_a_kill_works_and_starts_fast(pool, behaviours_project):
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    killed = run(pool, behaviours_project, "sleep", host=CsiHost(EchoProvider(), cancel=token))
    assert isinstance(killed.error, RunCancelled)
    started = time.monotonic()
    again = run(pool, behaviours_project, "after")
    took = time.monotonic() - started
    assert again.ok, again.error
    assert again.csi_calls[0].request["prompt"] == "after"
    # A warm spare took the run: no interpreter start, no compile.
    assert took < 0.5, f"the next run took {took:.2f} s"


def test_a_worker_that_dies_is_a_clear_error_not_a_hang(pool, behaviours_project):
    def kill_the_worker() -> None:
        os.kill(pool.running[0].pid, signal.SIGKILL)

    threading.Timer(0.3, kill_the_worker).start()
    started = time.monotonic()
    result = run(pool, behaviours_project, "sleep", limits=RunLimits(timeout=60))
    assert isinstance(result.error, SkillCrashed)
    assert "ended unexpectedly" in str(result.error)
    assert time.monotonic() - started < 2
    assert run(pool, behaviours_project, "after").ok


def vm_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) << 10
    raise AssertionError("no VmRSS in /proc/self/status")


def test_huge_prompts_keep_host_memory_bounded_and_the_record_small(pool, behaviours_project):
    limits = RunLimits(timeout=120, memory_limit=256 << 20)
    before = vm_rss()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], vm_rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = run(pool, behaviours_project, "big-prompts:40", limits=limits)
    finally:
        done.set()
        sampler.join()
    peak[0] = max(peak[0], vm_rss())
    assert result.ok and result.output == "40", result.error
    grown = peak[0] - before
    assert grown < limits.memory_limit + HOST_OVERHEAD, f"grew {grown >> 20} MiB"
    assert len(result.csi_calls) == 40
    for call in result.csi_calls:
        assert call.request_chars > BIG_PROMPT
        assert call.response_chars is not None and call.response_chars > BIG_PROMPT
        assert len(call.request["prompt"]) < PREVIEW_CHARS + 100
        assert call.request["prompt"].endswith("[10,485,760 characters, first 4,096 shown]")
        assert isinstance(call.response, str) and len(call.response) < PREVIEW_CHARS + 100
    assert len(json.dumps(result.to_dict())) < 1 << 20
