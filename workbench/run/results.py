"""What a run is given and what it produced: its limits, and its result with timings.

Apart from the runtime (run/runtime.py), so that the flows and the front-ends can make and
read them without importing wasmtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.project.model import DEFAULT_MAX_PRINTS, DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from workbench.csi.record import CsiCall
    from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class RunLimits:
    timeout: float = DEFAULT_TIMEOUT
    memory_limit: int = DEFAULT_MEMORY_LIMIT
    #: Bytes of the skill's prints kept (stdout and stderr together).
    max_prints: int = DEFAULT_MAX_PRINTS


@dataclass(frozen=True)
class RunTimings:
    load: float = 0.0
    instantiate: float = 0.0
    run: float = 0.0


@dataclass
class RunResult:
    """Everything one run produced. `error` is None exactly when `output` is set."""

    input: str
    component: Path
    output: str | None = None
    stdout: str = ""
    stderr: str = ""
    csi_calls: list[CsiCall] = field(default_factory=list)
    #: What a message-stream skill wrote, as the kernel's events ({"type": "begin"|...}).
    messages: list[dict[str, Any]] = field(default_factory=list)
    timings: RunTimings = field(default_factory=RunTimings)
    world: str | None = None
    #: "seed", "function" or "message-stream".
    skill_kind: str | None = None
    #: What produced it: "component" (the built component) or "instant" (run/instant.py).
    path: str = "component"
    model_override: str | None = None
    #: The provider that served the run's CSI calls.
    provider: str | None = None
    error: WorkbenchError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        error = None
        if self.error is not None:
            error = {
                "kind": self.error.kind,
                "message": self.error.message,
                "details": getattr(self.error, "details", ""),
                "diagnostics": [d.format() for d in getattr(self.error, "diagnostics", ())],
            }
        return {
            "ok": self.ok,
            "input": self.input,
            "output": self.output,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "csi_calls": [call.to_dict() for call in self.csi_calls],
            "messages": self.messages,
            "timings": vars(self.timings),
            "world": self.world,
            "skill_kind": self.skill_kind,
            "path": self.path,
            "model_override": self.model_override,
            "provider": self.provider,
            "component": str(self.component),
            "error": error,
        }
