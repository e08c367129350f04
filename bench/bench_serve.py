"""`workbench serve` under load: `POST /v1/skills/local/haiku/run` (the bundled haiku, built
first; echo model) from 1, 8 and 32 clients at once, each sending N requests one after
another with httpx.AsyncClient, to a server started with `serve_in_background` on a free
port in this process.

    .venv/bin/python bench/bench_serve.py [--requests N]

Each row: the requests answered, throughput (requests per second of wall time), p50 and
p99 latency, and the ratio of its throughput to the baseline's, measured in the same run:
the 1-client row, the same kind of runs one after another through the server. The last
row, for reference, is the same number of runs one after another in this process through
`workbench.flows.run` (no HTTP). The server runs at most DEFAULT_MAX_RUNS skills at once;
more clients wait their turn, and a run that finds no idle worker (the pool keeps
run/pool.py's IDLE_WORKERS) starts a process. Not part of bench/run_all.py's table.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

import httpx  # noqa: E402
from bench_common import machine_info, percentile  # noqa: E402

from workbench import flows  # noqa: E402
from workbench.build.builder import BuildSucceeded, build  # noqa: E402
from workbench.config.user import load_config  # noqa: E402
from workbench.models.echo import EchoProvider  # noqa: E402
from workbench.project.model import SkillProject, load_project  # noqa: E402
from workbench.run.pool import shared_pool  # noqa: E402
from workbench.serve.app import make_app  # noqa: E402
from workbench.serve.namespaces import Namespaces  # noqa: E402
from workbench.serve.runs import DEFAULT_MAX_RUNS, SkillServer  # noqa: E402
from workbench.serve.server import serve_in_background  # noqa: E402

PATH = "/v1/skills/local/haiku/run"
CLIENTS = (1, 8, 32)
WARM_UP = 8


@dataclass(frozen=True)
class Measured:
    name: str
    clients: int
    latencies: list[float]  # seconds, one per request
    wall: float  # seconds for all of them

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall


async def one_client(client: httpx.AsyncClient, number: int, requests: int) -> list[float]:
    latencies = []
    for n in range(requests):
        started = time.perf_counter()
        answer = await client.post(PATH, json=f"oak trees {number}.{n}")
        latencies.append(time.perf_counter() - started)
        if answer.status_code != 200 or f"oak trees {number}.{n}" not in answer.json():
            raise SystemExit(f"{PATH} answered {answer.status_code}: {answer.text[:500]}")
    return latencies


async def load(url: str, clients: int, requests: int) -> Measured:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        started = time.perf_counter()
        each = await asyncio.gather(*(one_client(client, c, requests) for c in range(clients)))
        wall = time.perf_counter() - started
    name = f"server, {clients} client{'s' if clients > 1 else ''}"
    return Measured(name, clients, [latency for got in each for latency in got], wall)


async def sequential_flows(project: SkillProject, runs: int) -> Measured:
    """The same runs one after another through the run flow itself: no HTTP, no server."""
    provider = EchoProvider("echo")
    request = flows.RunRequest(input="oak trees", provider="echo")
    latencies = []
    started = time.perf_counter()
    for _ in range(runs):
        began = time.perf_counter()
        async for event in flows.run(project, request, provider):
            if isinstance(event, flows.RunFinished) and not event.result.ok:
                raise SystemExit(f"The run failed: {event.result.error}")
        latencies.append(time.perf_counter() - began)
    return Measured("flows.run in-process (reference)", 1, latencies, time.perf_counter() - started)


async def built(root: Path) -> SkillProject:
    project = load_project(root)
    last = None
    async for event in build(project, force=True):
        last = event
    if not isinstance(last, BuildSucceeded):
        raise SystemExit(f"The haiku did not build: {last}")
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=25, help="requests per client")
    requests = parser.parse_args().requests
    work = Path(tempfile.mkdtemp(prefix="workbench-bench-serve-"))
    try:
        shutil.copytree(REPOSITORY / "examples/haiku", work / "haiku")
        project = asyncio.run(built(work / "haiku"))
        server = SkillServer(
            Namespaces([project.root], "local"),
            EchoProvider("echo"),
            "echo",
            lambda root: flows.open_backends(load_config(), root),
        )
        rows: list[Measured] = []
        try:
            with serve_in_background(make_app(server)) as running:
                asyncio.run(load(running.url, WARM_UP, 1))  # workers and their caches warm
                for clients in CLIENTS:
                    rows.append(asyncio.run(load(running.url, clients, requests)))
        finally:
            server.close()
        rows.append(asyncio.run(sequential_flows(project, requests)))
        report(rows, requests)
    finally:
        shared_pool().close()
        shutil.rmtree(work, ignore_errors=True)


def report(rows: list[Measured], requests: int) -> None:
    for key, value in machine_info().items():
        print(f"{key + ':':<30} {value}")
    print(
        f"haiku, echo model, {requests} requests per client, at most {DEFAULT_MAX_RUNS} runs "
        "at once; baseline: the 1-client row (runs one after another through the server)"
    )
    baseline = rows[0].throughput
    print(
        f"{'':<34} {'clients':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'ratio':>6}"
    )
    for row in rows:
        print(
            f"{row.name:<34} {row.clients:>7} {len(row.latencies):>8} {row.throughput:>8.1f} "
            f"{percentile(row.latencies, 0.5) * 1000:>8.1f} "
            f"{percentile(row.latencies, 0.99) * 1000:>8.1f} {row.throughput / baseline:>6.2f}"
        )


if __name__ == "__main__":
    main()
