"""Many runs on one SkillRuntime at once, each in its own thread with its own time limit and
cancel: a timeout or a cancel stops only its own run (the engine's epoch is shared; each
store decides on every tick whether its run goes on)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.integration.test_run import SEED_MODEL, run
from workbench.cancel import CancelToken
from workbench.csi.host import CsiHost
from workbench.errors import RunCancelled, RunTimeout
from workbench.models import EchoProvider
from workbench.project.model import SkillProject
from workbench.run.runtime import RunLimits, RunResult, SkillRuntime, Stream

#: Only a bound against hangs: every run here ends in well under a second or at its limit.
HANG = 60


def haiku_reply(topic: str) -> str:
    prompt = f"Write a haiku about {topic}\n\n### Response:"
    return EchoProvider().complete_text(prompt, SEED_MODEL).text


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=16) as executor:
        yield executor


def run_haikus(
    pool: ThreadPoolExecutor, runtime: SkillRuntime, project: SkillProject, count: int
) -> list[tuple[str, RunResult]]:
    """`count` haiku runs started together (a barrier), each on its own topic."""
    barrier = threading.Barrier(count)

    def one(topic: str) -> tuple[str, RunResult]:
        barrier.wait(HANG)
        return topic, run(runtime, project, topic)

    futures = [pool.submit(one, f"tree number {n}") for n in range(count)]
    return [future.result(HANG) for future in futures]


def start_loop(
    pool: ThreadPoolExecutor,
    runtime: SkillRuntime,
    project: SkillProject,
    timeout: float,
    cancel: CancelToken | None = None,
) -> Future[RunResult]:
    """A `loop-loudly` run; returns once the skill is in its endless loop."""
    looping = threading.Event()

    def heard(stream: Stream, text: str) -> None:
        if "looping" in text:
            looping.set()

    def target() -> RunResult:
        return runtime.run(
            project.output,
            "loop-loudly",
            CsiHost(EchoProvider(), cancel=cancel or CancelToken()),
            limits=RunLimits(timeout=timeout),
            expected_world=project.qualified_world,
            sandbox_paths=project.python_paths,
            on_output=heard,
        )

    future = pool.submit(target)
    assert looping.wait(HANG) or future.done(), "the loop did not start"
    assert not future.done(), future.result().error
    return future


def assert_each_got_its_own_reply(results: list[tuple[str, RunResult]]) -> None:
    for topic, result in results:
        assert result.ok, result.error
        assert result.output == haiku_reply(topic)
        (call,) = result.csi_calls  # its own host recorded its own call, no other
        assert call.request["prompt"].startswith(f"Write a haiku about {topic}\n")


def test_eight_haiku_runs_at_once_each_get_their_own_output(runtime, haiku_project, pool):
    results = run_haikus(pool, runtime, haiku_project, 8)
    assert len({result.output for _topic, result in results}) == 8
    assert_each_got_its_own_reply(results)


def test_a_loop_times_out_while_haiku_runs_beside_it_succeed(
    runtime, haiku_project, behaviours_project, pool
):
    loop = start_loop(pool, runtime, behaviours_project, timeout=1)
    assert_each_got_its_own_reply(run_haikus(pool, runtime, haiku_project, 4))
    error = loop.result(HANG).error
    assert isinstance(error, RunTimeout), error
    assert "stopped after 1 s" in str(error)
    # ... and the runtime still runs skills afterwards.
    assert_each_got_its_own_reply(run_haikus(pool, runtime, haiku_project, 2))


def test_one_runs_timeout_does_not_stop_the_others(runtime, behaviours_project, pool):
    tokens = [CancelToken(), CancelToken()]
    long_loops = [start_loop(pool, runtime, behaviours_project, 60, token) for token in tokens]
    short = start_loop(pool, runtime, behaviours_project, timeout=1)
    assert isinstance(short.result(HANG).error, RunTimeout)
    # Their limit is a minute away: still running after the short one's timeout.
    assert not any(loop.done() for loop in long_loops)
    for token in tokens:
        token.cancel()
    for loop in long_loops:
        assert isinstance(loop.result(HANG).error, RunCancelled)


def test_cancelling_one_run_of_several_cancels_only_it(
    runtime, haiku_project, behaviours_project, pool
):
    tokens = [CancelToken() for _ in range(3)]
    loops = [start_loop(pool, runtime, behaviours_project, 60, token) for token in tokens]
    tokens[1].cancel()
    cancelled = loops[1].result(HANG)
    assert isinstance(cancelled.error, RunCancelled), cancelled.error
    assert "looping" in cancelled.stderr
    assert not loops[0].done() and not loops[2].done()
    assert_each_got_its_own_reply(run_haikus(pool, runtime, haiku_project, 3))
    assert not loops[0].done() and not loops[2].done()
    for token in (tokens[0], tokens[2]):
        token.cancel()
    for loop in (loops[0], loops[2]):
        assert isinstance(loop.result(HANG).error, RunCancelled)


def test_metadata_is_read_while_other_runs_tick(
    runtime, behaviours_project, raw_build: Callable[[str], SkillProject], pool
):
    """metadata() has its own deadline too: the epoch other runs tick does not stop it."""
    project = raw_build("raw_v0_3")
    token = CancelToken()
    loop = start_loop(pool, runtime, behaviours_project, 60, token)
    try:
        for _ in range(3):
            metadata = runtime.metadata(project.output)
            assert metadata is not None
            assert metadata.description == "Completes a text (0.3)."
    finally:
        token.cancel()
    assert isinstance(loop.result(HANG).error, RunCancelled)
