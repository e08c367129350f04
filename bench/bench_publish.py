"""`workbench publish` against `pharia-skill-cli publish` of the same component to the same
local TLS registry (docker-registry), each a fresh process, alternating, fresh tags.

    python bench/bench_publish.py [--rounds N]

Needs the test set-up (docker-registry, openssl, apache2-utils) and pharia-skill-cli (in the
test extras). Prints the median wall time of each and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from tests.servers.oci_registry import PASSWORD, USER, oci_registry  # noqa: E402
from workbench.build.builder import BuildSucceeded, build  # noqa: E402
from workbench.project.model import load_project  # noqa: E402


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {done.stdout}{done.stderr}")
    return took


async def built(folder: Path) -> Path:
    project = load_project(folder)
    async for event in build(project):
        last = event
    assert isinstance(last, BuildSucceeded), last
    return project.output


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--rounds", type=int, default=5)
    rounds = options.parse_args().rounds
    cli = shutil.which("pharia-skill-cli", path=str(Path(sys.executable).parent))
    if cli is None:
        raise SystemExit("pharia-skill-cli is missing: pip install -e '.[test]'")
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "haiku"
        shutil.copytree(REPOSITORY / "examples/haiku", project)
        component = asyncio.run(built(project))
        with oci_registry(Path(scratch) / "registry", tls=True) as registry:
            assert registry.ca_file is not None
            env = {
                **os.environ,
                "SSL_CERT_FILE": str(registry.ca_file),
                "SKILL_REGISTRY_USER": USER,
                "SKILL_REGISTRY_TOKEN": PASSWORD,
            }
            workbench, baseline = [], []
            for n in range(rounds):
                workbench.append(
                    timed(
                        [
                            sys.executable,
                            "-m",
                            "workbench.cli",
                            "publish",
                            str(project),
                            "--registry",
                            registry.host,
                            "--repository",
                            "bench",
                            "--tag",
                            f"w{n}",
                            "--ca-file",
                            str(registry.ca_file),
                        ],
                        env,
                    )
                )
                baseline.append(
                    timed(
                        [
                            cli,
                            "publish",
                            "-R",
                            registry.host,
                            "-r",
                            "bench",
                            "-n",
                            "haiku",
                            "-t",
                            f"p{n}",
                            str(component),
                        ],
                        env,
                    )
                )
    ours, theirs = statistics.median(workbench), statistics.median(baseline)
    print(f"{'benchmark':<40} {'median s':>9} {'baseline s':>11} {'ratio':>6}")
    print(
        f"{'workbench publish (fresh process)':<40} {ours:>9.2f} {theirs:>11.2f} "
        f"{ours / theirs:>6.2f}"
    )


if __name__ == "__main__":
    main()
