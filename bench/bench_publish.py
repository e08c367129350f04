"""`workbench build && workbench publish` against `pharia-skill-cli publish` of the same
component to the same local TLS registry (docker-registry): each a fresh process, alternating,
fresh tags, and each round with a cold compile cache (an empty $XDG_CACHE_HOME, so a publish
that compiled the component would pay for it).

    python bench/bench_publish.py [--rounds N]

Needs the test set-up (docker-registry, openssl, apache2-utils) and pharia-skill-cli (in the
test extras). Prints the median wall time of the publish step and of the baseline, their
ratio, and the build step's median (the sources are unchanged, so the build is the input
cache's).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_common import REPOSITORY, Row, print_rows, timed_command

sys.path.insert(0, str(REPOSITORY))

from tests.servers.oci_registry import PASSWORD, USER, oci_registry
from workbench.build.builder import BuildSucceeded, build
from workbench.project.model import load_project

WORKBENCH = [sys.executable, "-m", "workbench.cli"]


async def built(folder: Path) -> Path:
    project = load_project(folder)
    async for event in build(project):
        last = event
    assert isinstance(last, BuildSucceeded), last
    return project.output


def pharia_skill_cli() -> str:
    cli = shutil.which("pharia-skill-cli", path=str(Path(sys.executable).parent))
    if cli is None:
        raise SystemExit("pharia-skill-cli is missing: pip install -e '.[test]'")
    return cli


def measure(rounds: int = 5) -> list[Row]:
    """The publish row of the benchmark table."""
    cli = pharia_skill_cli()
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "haiku"
        shutil.copytree(REPOSITORY / "examples/haiku", project)
        component = asyncio.run(built(project))
        with oci_registry(Path(scratch) / "registry", tls=True) as registry:
            assert registry.ca_file is not None
            base_env = {
                **os.environ,
                "SSL_CERT_FILE": str(registry.ca_file),
                "SKILL_REGISTRY_USER": USER,
                "SKILL_REGISTRY_TOKEN": PASSWORD,
            }
            builds, publishes, baseline = [], [], []
            for n in range(rounds):
                cache = Path(scratch) / f"cache-{n}"
                cache.mkdir()
                env = {**base_env, "XDG_CACHE_HOME": str(cache)}
                builds.append(timed_command([*WORKBENCH, "build", str(project)], env=env))
                publish = [
                    *WORKBENCH,
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
                ]
                publishes.append(timed_command(publish, env=env))
                baseline.append(
                    timed_command(
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
                        env=env,
                    )
                )
    return [
        Row(
            "publish",
            "workbench publish, cold compile cache (fresh process)",
            statistics.median(publishes),
            statistics.median(baseline),
            note=f"the build step before it (unchanged sources): median "
            f"{statistics.median(builds):.3f} s",
        )
    ]


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--rounds", type=int, default=5)
    print_rows(measure(options.parse_args().rounds))


if __name__ == "__main__":
    main()
