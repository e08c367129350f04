"""The edit loop on the haiku with the echo model: each row against its baseline measured in
the same run, medians of several rounds, ratios printed.

    python bench/bench_edit_loop.py [--rounds N]

- edit -> output, instant run (in process, as the app does it) against edit -> build ->
  component run;
- edit -> output, `workbench run` in a fresh process against the same with `--component`;
- a syntax error reported after an edit (`workbench run`) against componentize-py itself;
- a full build (`workbench build --force`) against bare `componentize-py componentize`;
- an unchanged rebuild in a fresh process (`workbench build`) against the full build.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import REPOSITORY, Row, median_of, print_rows, timed_command

sys.path.insert(0, str(REPOSITORY))

from workbench import flows
from workbench.build.commands import build_command, tool_env
from workbench.models import EchoProvider
from workbench.project.model import load_project
from workbench.run.pool import RunnerPool

WORKBENCH = [sys.executable, "-m", "workbench.cli"]


def edit(module: Path, n: int) -> None:
    text = module.read_text()
    module.write_text(
        text.replace("Write a haiku", f"Write haiku {n}", 1)
        if n == 0
        else (text + f"\n# edit {n}\n")
    )


def in_process(project_dir: Path, pool: RunnerPool, n: int, component: bool) -> float:
    edit(project_dir / "haiku.py", n)
    started = time.perf_counter()
    request = flows.RunRequest("oak trees")

    async def go() -> None:
        project = load_project(project_dir)
        async for event in flows.run(
            project, request, EchoProvider(), runner=pool, component=component
        ):
            last = event
        assert isinstance(last, flows.RunFinished) and last.result.ok, last

    asyncio.run(go())
    return time.perf_counter() - started


def measure(rounds: int = 5) -> list[Row]:
    """The five edit-loop rows, in the order of the benchmark table."""
    slow = max(2, rounds // 2)  # rounds of the baselines that build a component each time
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        project_dir = Path(scratch) / "haiku"
        shutil.copytree(REPOSITORY / "examples/haiku", project_dir)
        module = project_dir / "haiku.py"
        pool = RunnerPool()
        try:
            pool.wait_ready()
            in_process(project_dir, pool, 0, component=False)  # builds the runtime, compiles it
            instant = median_of(rounds, lambda n: in_process(project_dir, pool, n + 1, False))
            full = median_of(slow, lambda n: in_process(project_dir, pool, n + 100, True))
        finally:
            pool.close()
        rows.append(Row("instant", "edit -> output, instant run (in process)", instant, full))

        def cli(n: int, *flags: str) -> float:
            module.write_text(module.read_text() + f"\n# cli {n}\n")
            return timed_command([*WORKBENCH, "run", str(project_dir), "-i", "oak", *flags])

        fresh = median_of(rounds, lambda n: cli(n))
        forced = median_of(slow, lambda n: cli(n + 100, "--component"))
        rows.append(
            Row("fresh-run", "edit -> output, workbench run (fresh process)", fresh, forced)
        )

        good = module.read_text()
        module.write_text(good + "\ndef broken(:\n")
        failing_run = [*WORKBENCH, "run", str(project_dir), "-i", "x"]
        ours = median_of(rounds, lambda n: timed_command(failing_run, ok=False))
        project = load_project(project_dir)
        bare = build_command(project, Path(scratch) / "bare.wasm")
        env = tool_env(None)

        def bare_build(ok: bool) -> float:
            started = time.perf_counter()
            done = subprocess.run(bare, cwd=project_dir, env=env, capture_output=True, check=False)
            assert (done.returncode == 0) == ok, done.stderr[-2000:]
            return time.perf_counter() - started

        theirs = median_of(slow, lambda n: bare_build(False))
        rows.append(Row("syntax-error", "syntax error reported after an edit", ours, theirs))
        module.write_text(good)

        # Alternating, so that whatever else the machine does weighs on both alike.
        forced_builds: list[float] = []
        bare_builds: list[float] = []
        for _ in range(rounds):
            forced_builds.append(timed_command([*WORKBENCH, "build", str(project_dir), "--force"]))
            bare_builds.append(bare_build(True))
        built, plain = statistics.median(forced_builds), statistics.median(bare_builds)
        rows.append(Row("full-build", "full build (workbench build --force)", built, plain))
        unchanged = median_of(
            rounds, lambda n: timed_command([*WORKBENCH, "build", str(project_dir)])
        )
        rows.append(Row("unchanged-rebuild", "unchanged rebuild (fresh process)", unchanged, built))
    return rows


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--rounds", type=int, default=5)
    print_rows(measure(options.parse_args().rounds))


if __name__ == "__main__":
    main()
