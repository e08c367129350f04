"""Run start-up in a warm worker process against an in-process run, and what the limits cost.

    python bench/bench_runs.py

- start: one short run's wall time in a warm worker (pool) against in this process;
- timeout: how long a skill blocked in time.sleep runs with a 1 s time limit (pool);
- after kill: the wall time of the run right after a worker was killed.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from workbench.build.builder import BuildSucceeded, build  # noqa: E402
from workbench.csi.host import CsiHost  # noqa: E402
from workbench.models import EchoProvider  # noqa: E402
from workbench.project.model import load_project  # noqa: E402
from workbench.run.pool import RunnerPool  # noqa: E402
from workbench.run.runtime import RunLimits, SkillRuntime  # noqa: E402


async def build_it(project) -> None:
    async for event in build(project, force=True):
        last = event
    assert isinstance(last, BuildSucceeded), last


def wall(runner, project, text: str, limits: RunLimits | None = None) -> float:
    started = time.perf_counter()
    runner.run(project.output, text, CsiHost(EchoProvider()), limits=limits)
    return time.perf_counter() - started


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="workbench-bench-"))
    shutil.copytree(REPOSITORY / "tests/data/skills/behaviours", work / "behaviours")
    shutil.copy(REPOSITORY / "workbench/project/templates/skill.wit", work / "behaviours")
    project = load_project(work / "behaviours")
    asyncio.run(build_it(project))
    runtime, pool = SkillRuntime(), RunnerPool()
    try:
        wall(runtime, project, "after")
        wall(pool, project, "after")
        pool.wait_ready()
        local = statistics.median(wall(runtime, project, "after") for _ in range(20))
        warm = statistics.median(wall(pool, project, "after") for _ in range(20))
        print(
            f"start     in-process {local:7.4f} s   warm worker {warm:7.4f} s   "
            f"ratio {warm / local:6.2f}x"
        )
        slept = wall(pool, project, "sleep", RunLimits(timeout=1))
        print(f"timeout   limit 1 s   a sleeping skill ran {slept:6.2f} s (was 1000 s)")
        after = wall(pool, project, "after")
        print(f"after     the run after the kill {after:7.4f} s   ratio {after / warm:6.2f}x warm")
    finally:
        pool.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
