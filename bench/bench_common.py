"""What the benchmarks share: a measured row against its same-run baseline, timing helpers
and a description of the machine."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Row:
    """One benchmark: its figure and its baseline's, both in seconds, from the same run."""

    key: str  # which row of the benchmark table (run_all.TARGETS)
    name: str
    value: float
    baseline: float
    stat: str = "median"  # how `value` and `baseline` summarise their samples
    note: str = ""  # anything else worth saying about this measurement

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline > 0 else float("inf")


def median_of(rounds: int, measure: Callable[[int], float]) -> float:
    return statistics.median(measure(n) for n in range(rounds))


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile (0..1) of the samples, linearly interpolated."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed_command(
    args: list[str],
    *,
    ok: bool = True,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> float:
    """Wall time of one command; stops the benchmark if it did not end as expected."""
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env, cwd=cwd)
    took = time.perf_counter() - started
    if (done.returncode == 0) != ok:
        raise SystemExit(
            f"{args} ended with {done.returncode}: {done.stdout[-1000:]}{done.stderr[-2000:]}"
        )
    return took


def print_rows(rows: Sequence[Row]) -> None:
    """The plain table each benchmark script prints when run on its own."""
    print(machine_line())
    print(f"{'benchmark':<56} {'stat':>6} {'value s':>9} {'baseline s':>11} {'ratio':>7}")
    for row in rows:
        print(
            f"{row.name:<56} {row.stat:>6} {row.value:>9.3f} {row.baseline:>11.3f} "
            f"{row.ratio:>7.3f}"
        )
        if row.note:
            print(f"    {row.note}")


def _proc_field(path: str, name: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        return None
    return None


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    """The machine and the tools measured: CPU, cores, memory, versions, load, date."""
    memory = _proc_field("/proc/meminfo", "MemTotal")
    if memory and memory.endswith(" kB"):
        memory = f"{int(memory.removesuffix(' kB')) / 1024 / 1024:.1f} GiB"
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    return {
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": str(os.cpu_count()),
        "memory": memory or "unknown",
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        "wasmtime": _version("wasmtime"),
        "componentize-py": _version("componentize-py"),
        "textual": _version("textual"),
        "load average (1, 5, 15 min)": load,
    }


def machine_line() -> str:
    info = machine_info()
    return (
        f"machine: {info['cpu']}, {info['cores']} cores, {info['memory']}, "
        f"Python {info['python']}, load {info['load average (1, 5, 15 min)']}"
    )
