"""The app's session state, free of Textual: the run history, the last request, and how two
runs differ. Widgets show it; nothing here knows a widget."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.csi.readable import one_line, request_summary, response_summary
from workbench.flows import RunRequest
from workbench.run.results import RunResult
from workbench.tools.kernel import readable_tool_event

#: Error kinds as a person would say them in the History's status column.
_STATUS = {
    "skill-raised": "skill raised",
    "skill-crashed": "skill crashed",
    "timeout": "timed out",
    "memory-limit": "out of memory",
    "cancelled": "cancelled",
    "model": "model failed",
    "component": "bad component",
    "build": "build failed",
    "internal": "internal error",
}


@dataclass(frozen=True)
class RunRecord:
    """One run in this session's history."""

    number: int
    request: RunRequest
    result: RunResult
    #: How the run came about, for History: "instant", "same as #3", "differs from #3".
    note: str = ""

    @property
    def input(self) -> str:
        return self.request.input

    @property
    def model(self) -> str | None:
        return self.request.model_override

    @property
    def provider(self) -> str:
        return self.result.provider or self.request.provider or "?"

    @property
    def status(self) -> str:
        error = self.result.error
        if error is None:
            return "ok"
        return _STATUS.get(error.kind, error.kind.replace("-", " "))

    def describe(self) -> str:
        """The whole run as text: what was asked, what came back, and how long it took."""
        result = self.result
        timings = result.timings
        body = result.output if result.ok else f"{result.error}"
        details = getattr(result.error, "details", "") if result.error else ""
        calls = (
            "\n".join(
                f"  {c.function}({c.model_requested} → {c.model_served}) "
                f"{c.duration * 1000:.1f} ms{' !' if c.notes else ''}\n"
                f"    asked: {one_line(request_summary(c), 100)}\n"
                f"    {'answer' if not c.error else 'failed'}: "
                f"{one_line(c.error or response_summary(c), 100)}"
                for c in result.csi_calls
            )
            or "  none"
        )
        messages = f"messages:\n{describe_messages(result.messages)}\n\n" if result.messages else ""
        return (
            f"Run #{self.number}\ninput: {self.input}\nprovider: {self.provider}\n"
            f"model: {self.model or '(skill’s own)'}\nstatus: {self.status}\n"
            f"load {timings.load * 1000:.1f} ms · instantiate "
            f"{timings.instantiate * 1000:.1f} ms · run {timings.run * 1000:.1f} ms\n\n"
            f"CSI calls:\n{calls}\n\n{messages}output:\n{body}\n{details}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )


def describe_messages(events: Sequence[dict[str, Any]]) -> str:
    """A message stream as text: each message's role, its reasoning, its text, its payload."""
    lines: list[str] = []
    pending: list[str] = []  # consecutive pieces of one kind ("append" or "reasoning")
    pending_kind = ""

    def close() -> None:
        joined = "".join(pending)
        if pending_kind == "reasoning":
            lines.extend(f"  (reasoning) {line}" for line in joined.splitlines())
        else:
            lines.extend(f"  {line}" for line in joined.splitlines())
        pending.clear()

    for event in events:
        kind = str(event.get("type"))
        if kind == "tool":
            close()
            pending_kind = ""
            lines.append(f"  (tool) {readable_tool_event(event.get('event') or {})}")
            continue
        if kind != pending_kind:
            close()
            pending_kind = kind
        if kind == "begin":
            lines.append(f"[{event.get('role') or 'assistant'}]")
        elif kind in ("append", "reasoning"):
            pending.append(str(event.get("text", "")))
        elif kind == "end" and event.get("payload") is not None:
            lines.append(f"  payload: {json.dumps(event['payload'], ensure_ascii=False)}")
    close()
    return "\n".join(lines)


@dataclass
class RunHistory:
    records: list[RunRecord] = field(default_factory=list)

    def add(self, request: RunRequest, result: RunResult, note: str = "") -> RunRecord:
        record = RunRecord(len(self.records) + 1, request, result, note)
        self.records.append(record)
        return record

    def counterpart(self, record: RunRecord) -> RunRecord | None:
        """The run to compare `record` with: the one before it, else the one after."""
        if len(self.records) < 2:
            return None
        index = self.records.index(record)
        return self.records[index - 1] if index > 0 else self.records[1]

    def __len__(self) -> int:
        return len(self.records)


@dataclass(frozen=True)
class ComparedLine:
    text: str
    differs: bool


def compare_lines(left: str, right: str) -> tuple[list[ComparedLine], list[ComparedLine]]:
    """Both texts by line, each line marked when it has no equal on the other side."""
    a, b = left.splitlines(), right.splitlines()
    left_marks = [True] * len(a)
    right_marks = [True] * len(b)
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        for offset in range(block.size):
            left_marks[block.a + offset] = False
            right_marks[block.b + offset] = False
    return (
        [ComparedLine(t, d) for t, d in zip(a, left_marks, strict=True)],
        [ComparedLine(t, d) for t, d in zip(b, right_marks, strict=True)],
    )


def confirmation_differences(instant: RunResult, component: RunResult) -> list[str]:
    """Where a component run differs from an instant run of the same sources and request
    (timings aside), as words for a sentence; empty when they are the same."""
    found = []
    if instant.ok != component.ok or str(instant.error or "") != str(component.error or ""):
        found.append("how the run ended")
    if instant.output != component.output:
        found.append("the output")
    if instant.messages != component.messages:
        found.append("the messages")
    if (instant.stdout, instant.stderr) != (component.stdout, component.stderr):
        found.append("the prints")
    left, right = instant.csi_calls, component.csi_calls
    if len(left) != len(right):
        found.append(f"the number of CSI calls ({len(left)} against {len(right)})")
    else:
        for number, (a, b) in enumerate(zip(left, right, strict=True), start=1):
            if (a.function, a.request, a.response, a.error) != (
                b.function,
                b.request,
                b.response,
                b.error,
            ):
                found.append(f"CSI call {number} ({b.function})")
                break
    return found
