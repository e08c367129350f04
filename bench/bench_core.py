"""Speed of the skill core, each figure against a baseline measured in the same run.

    python bench/bench_core.py

- build: an unchanged rebuild (the input cache) against a real componentize-py build;
- load: a component from wasmtime's on-disk compile cache against a cold compile;
- run: one run (fresh store, instantiate, call) against loading the component;
- memory: the run's peak RSS growth against the build's (a subprocess) peak RSS.
"""

from __future__ import annotations

import asyncio
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from wasmtime import Config, Engine  # noqa: E402
from wasmtime.component import Component  # noqa: E402

from workbench.build.builder import BuildSucceeded, build  # noqa: E402
from workbench.csi.host import CsiHost  # noqa: E402
from workbench.models import EchoProvider  # noqa: E402
from workbench.project.model import load_project  # noqa: E402
from workbench.run.runtime import SkillRuntime  # noqa: E402


async def timed_build(project, force: bool) -> float:
    started = time.perf_counter()
    async for event in build(project, force=force):
        last = event
    assert isinstance(last, BuildSucceeded), last
    return time.perf_counter() - started


def cached_engine() -> Engine:
    config = Config()  # an Engine consumes its Config: one each
    config.cache = True
    return Engine(config)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="workbench-bench-"))
    shutil.copytree(REPOSITORY / "examples/haiku", work / "haiku")
    project = load_project(work / "haiku")

    full = asyncio.run(timed_build(project, force=True))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cached = statistics.median(asyncio.run(timed_build(project, force=False)) for _ in range(5))
    print(f"build     full {full:7.3f} s   cached {cached:7.4f} s   ratio {full / cached:8.0f}x")

    cold_config = Config()  # no compile cache unless asked for
    started = time.perf_counter()
    Component.from_file(Engine(cold_config), str(project.output))
    cold = time.perf_counter() - started
    Component.from_file(cached_engine(), str(project.output))  # fill the cache
    engine = cached_engine()
    started = time.perf_counter()
    Component.from_file(engine, str(project.output))
    warm = time.perf_counter() - started
    print(f"load      cold {cold:7.3f} s   cached {warm:7.4f} s   ratio {cold / warm:8.0f}x")

    runtime = SkillRuntime()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runtime.run(project.output, "oak trees", CsiHost(EchoProvider()))  # load once
    runs = []
    for _ in range(20):
        result = runtime.run(project.output, "oak trees", CsiHost(EchoProvider()))
        assert result.ok
        runs.append(result.timings.instantiate + result.timings.run)
    run = statistics.median(runs)
    print(f"run       load {warm:7.4f} s   one run {run:7.4f} s   ratio {warm / run:8.1f}x")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(
        f"memory    build peak {children / 1024:6.0f} MiB   runs grew {grown / 1024:6.0f} MiB"
        f"   ratio {children / max(grown, 1):6.1f}x"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
