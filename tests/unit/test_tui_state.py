"""The app's Textual-free session state: readable statuses, history order, line marks."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.csi.record import CsiCall
from workbench.errors import BuildError, ModelError, RunCancelled, RunTimeout, SkillRaised
from workbench.flows import RunRequest
from workbench.run.runtime import RunResult
from workbench.tui.state import RunHistory, compare_lines, confirmation_differences


def result(error=None, output: str | None = "out") -> RunResult:
    return RunResult(input="in", component=Path("x.wasm"), output=output, error=error)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (None, "ok"),
        (ModelError("m"), "model failed"),
        (RunTimeout("t"), "timed out"),
        (RunCancelled("c"), "cancelled"),
        (SkillRaised("s"), "skill raised"),
        (BuildError("b"), "build failed"),
    ],
)
def test_history_says_a_status_as_a_person_would(error, status) -> None:
    history = RunHistory()
    record = history.add(RunRequest("in", provider="local"), result(error))
    assert record.status == status
    assert record.provider == "local"


def test_the_counterpart_of_a_run_is_the_one_before_else_the_one_after() -> None:
    history = RunHistory()
    first, second, third = (history.add(RunRequest(str(n)), result()) for n in range(3))
    assert history.counterpart(third) is second
    assert history.counterpart(first) is second


def test_compare_marks_only_the_lines_that_differ() -> None:
    left, right = compare_lines("a\nb\nc\n", "a\nB\nc\nd\n")
    assert [(line.text, line.differs) for line in left] == [("a", False), ("b", True), ("c", False)]
    assert [line.differs for line in right] == [False, True, False, True]


def call(prompt: str, duration: float = 0.001) -> CsiCall:
    return CsiCall("complete", "complete", {"prompt": prompt}, {"text": prompt}, duration, "echo")


def test_a_confirmation_names_what_differs_and_ignores_timings() -> None:
    instant, component = result(), result()
    instant.csi_calls, component.csi_calls = [call("a", 0.001)], [call("a", 0.5)]
    assert confirmation_differences(instant, component) == []
    component.csi_calls = [call("b")]
    component.output = "other"
    assert confirmation_differences(instant, component) == [
        "the output",
        "CSI call 1 (complete)",
    ]
    component.csi_calls = []
    component.error, component.output = SkillRaised("boom"), None
    assert confirmation_differences(instant, component) == [
        "how the run ended",
        "the output",
        "the number of CSI calls (1 against 0)",
    ]


def test_history_keeps_how_a_run_came_about() -> None:
    history = RunHistory()
    record = history.add(RunRequest("in"), result(), note="instant")
    assert record.note == "instant" and history.add(RunRequest("in"), result()).note == ""
