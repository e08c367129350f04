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
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from workbench import flows  # noqa: E402
from workbench.build.commands import build_command, tool_env  # noqa: E402
from workbench.models import EchoProvider  # noqa: E402
from workbench.project.model import load_project  # noqa: E402
from workbench.run.pool import RunnerPool  # noqa: E402

WORKBENCH = [sys.executable, "-m", "workbench.cli"]


def median_of(rounds: int, measure: Callable[[int], float]) -> float:
    return statistics.median(measure(n) for n in range(rounds))


def command(args: list[str], *, ok: bool = True) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if (done.returncode == 0) != ok:
        raise SystemExit(f"{args} ended with {done.returncode}: {done.stderr[-2000:]}")
    return took


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


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--rounds", type=int, default=5)
    rounds = options.parse_args().rounds
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as scratch:
        project_dir = Path(scratch) / "haiku"
        shutil.copytree(REPOSITORY / "examples/haiku", project_dir)
        module = project_dir / "haiku.py"
        pool = RunnerPool()
        pool.wait_ready()
        in_process(project_dir, pool, 0, component=False)  # builds the runtime, compiles it
        instant = median_of(rounds, lambda n: in_process(project_dir, pool, n + 1, False))
        full = median_of(
            max(2, rounds // 2), lambda n: in_process(project_dir, pool, n + 100, True)
        )
        rows.append(("edit -> output, instant run (in process)", instant, full))
        pool.close()

        def cli(n: int, *flags: str) -> float:
            module.write_text(module.read_text() + f"\n# cli {n}\n")
            return command([*WORKBENCH, "run", str(project_dir), "-i", "oak", *flags])

        fresh = median_of(rounds, lambda n: cli(n))
        forced = median_of(max(2, rounds // 2), lambda n: cli(n + 100, "--component"))
        rows.append(("edit -> output, workbench run (fresh process)", fresh, forced))

        good = module.read_text()
        module.write_text(good + "\ndef broken(:\n")
        ours = median_of(
            rounds, lambda n: command([*WORKBENCH, "run", str(project_dir), "-i", "x"], ok=False)
        )
        project = load_project(project_dir)
        bare = build_command(project, Path(scratch) / "bare.wasm")
        env = tool_env(None)

        def bare_build(n: int, ok: bool) -> float:
            started = time.perf_counter()
            done = subprocess.run(bare, cwd=project_dir, env=env, capture_output=True, check=False)
            assert (done.returncode == 0) == ok, done.stderr[-2000:]
            return time.perf_counter() - started

        theirs = median_of(max(2, rounds // 2), lambda n: bare_build(n, False))
        rows.append(("syntax error reported after an edit", ours, theirs))
        module.write_text(good)

        built = median_of(
            max(2, rounds // 2),
            lambda n: command([*WORKBENCH, "build", str(project_dir), "--force"]),
        )
        plain = median_of(max(2, rounds // 2), lambda n: bare_build(n, True))
        rows.append(("full build (workbench build --force)", built, plain))
        unchanged = median_of(rounds, lambda n: command([*WORKBENCH, "build", str(project_dir)]))
        rows.append(("unchanged rebuild (fresh process)", unchanged, built))

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'benchmark':<48} {'median s':>9} {'baseline s':>11} {'ratio':>7}")
    for name, value, baseline in rows:
        print(f"{name:<48} {value:>9.3f} {baseline:>11.3f} {value / baseline:>7.3f}")


if __name__ == "__main__":
    main()
