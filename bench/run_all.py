"""Every benchmark of the workbench in one run: one table of each figure, its baseline
measured in the same run, their ratio, the target and whether it holds, with the machine.

    .venv/bin/python bench/run_all.py [--rounds N] [--quick] [--markdown FILE]

Targets in seconds hold for the median (the key echo's for its p95), ratio targets for the
ratio. A benchmark that cannot run (a missing tool) is reported in its rows and the others
still run. BENCHMARKS.md says what each row measures and records the latest table.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bench_app
import bench_edit_loop
import bench_publish
from bench_common import Row, machine_info


@dataclass(frozen=True)
class Target:
    key: str  # Row.key
    benchmark: str
    baseline: str
    text: str
    limit: float
    on_ratio: bool  # the limit is on the ratio, not on the figure (in seconds)

    def holds(self, row: Row) -> bool:
        return (row.ratio if self.on_ratio else row.value) <= self.limit


#: The benchmark table of issue 11, in its order (haiku, echo model).
TARGETS = [
    Target(
        "instant",
        "edit -> output, instant run, in the app",
        "edit -> build -> component run",
        "median <= 50 ms",
        0.050,
        on_ratio=False,
    ),
    Target(
        "fresh-run",
        "edit -> output, `workbench run` in a fresh process",
        "the same with `--component`",
        "<= 1.0 s",
        1.0,
        on_ratio=False,
    ),
    Target(
        "syntax-error",
        "syntax error reported after an edit",
        "componentize-py reporting it",
        "<= 0.2 s",
        0.2,
        on_ratio=False,
    ),
    Target(
        "full-build",
        "full build",
        "bare `componentize-py componentize`",
        "ratio <= 1.05",
        1.05,
        on_ratio=True,
    ),
    Target(
        "unchanged-rebuild",
        "unchanged rebuild, fresh process",
        "full build",
        "<= 0.3 s",
        0.3,
        on_ratio=False,
    ),
    Target(
        "publish",
        "`workbench build && workbench publish`, cold compile cache (publish step)",
        "`pharia-skill-cli publish`, same file, same local TLS registry",
        "ratio <= 1.5",
        1.5,
        on_ratio=True,
    ),
    Target(
        "first-frame",
        "app first frame (tmux, until the editor shows)",
        '`python -c "import textual"`',
        "<= 0.8 s",
        0.8,
        on_ratio=False,
    ),
    Target(
        "key-echo",
        "key echo in the editor while a build runs",
        "key echo when idle",
        "p95 ratio <= 1.5",
        1.5,
        on_ratio=True,
    ),
]

HEADER = ("benchmark", "median", "baseline", "ratio", "target", "holds")


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def cells(target: Target, row: Row | None) -> tuple[str, ...]:
    if row is None:
        return (target.benchmark, "-", "-", "-", target.text, "NOT RUN")
    stat = "" if row.stat == "median" else f" ({row.stat})"
    return (
        target.benchmark,
        seconds(row.value) + stat,
        seconds(row.baseline) + stat,
        f"{row.ratio:.2f}",
        target.text,
        "ok" if target.holds(row) else "MISSED",
    )


def measure_all(rounds: int, keys: int) -> tuple[dict[str, Row], list[str]]:
    """Every row by key, and what went wrong with benchmarks that could not run."""
    suites: list[tuple[str, Callable[[], list[Row]]]] = [
        ("bench_edit_loop", lambda: bench_edit_loop.measure(rounds)),
        ("bench_publish", lambda: bench_publish.measure(rounds)),
        ("bench_app", lambda: bench_app.measure(rounds, keys)),
    ]
    rows: dict[str, Row] = {}
    failures: list[str] = []
    for name, measure in suites:
        started = time.perf_counter()
        print(f"running {name}…", file=sys.stderr, flush=True)
        try:
            for row in measure():
                rows[row.key] = row
        except (Exception, SystemExit) as error:
            traceback.print_exc()
            said = str(error).strip().splitlines() or [type(error).__name__]
            failures.append(f"{name} did not run: {said[0]}")
        print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return rows, failures


def notes(rows: dict[str, Row]) -> list[str]:
    return [f"{row.name}: {row.note}" for row in rows.values() if row.note]


def text_table(info: dict[str, str], rows: dict[str, Row], extra: Sequence[str]) -> str:
    lines = [f"{key}: {value}" for key, value in info.items()]
    table = [HEADER, *(cells(t, rows.get(t.key)) for t in TARGETS)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    lines.append("")
    for line in table:
        lines.append(
            "  ".join(
                cell.ljust(width) if i in (0, 4) else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
    lines.extend(["", *(f"- {note}" for note in [*notes(rows), *extra])])
    return "\n".join(lines)


def markdown_table(info: dict[str, str], rows: dict[str, Row], extra: Sequence[str]) -> str:
    lines = [f"- {key}: {value}" for key, value in info.items()]
    lines.extend(["", "| " + " | ".join(HEADER) + " |", "|---|---:|---:|---:|---|---|"])
    for target in TARGETS:
        row = cells(target, rows.get(target.key))
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    lines.extend(["", *(f"- {note}" for note in [*notes(rows), *extra])])
    return "\n".join(lines) + "\n"


def main() -> None:
    options = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    options.add_argument("--rounds", type=int, default=5, help="runs of each figure (5)")
    options.add_argument(
        "--quick", action="store_true", help="one round and 10 keys: checks the benchmarks run"
    )
    options.add_argument("--markdown", type=Path, help="also write the table to this file")
    arguments = options.parse_args()
    rounds, keys = (1, 10) if arguments.quick else (max(1, arguments.rounds), 30)
    info = machine_info()
    info["load average at the start"] = info.pop("load average (1, 5, 15 min)")
    started = time.perf_counter()
    rows, failures = measure_all(rounds, keys)
    info["rounds"] = f"{rounds} (key echo: {keys} keys idle, {keys} during builds)"
    info["took"] = f"{time.perf_counter() - started:.0f} s"
    info["load average at the end"] = machine_info()["load average (1, 5, 15 min)"]
    print(text_table(info, rows, failures))
    if arguments.markdown:
        arguments.markdown.write_text(markdown_table(info, rows, failures))
        print(f"\nwrote {arguments.markdown}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
