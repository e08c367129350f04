"""Why a run failed, in the sentence a user needs: from what stopped it (time limit, cancel),
what the skill printed (its traceback, the guest runtime's note) and the trap wasmtime raised.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from wasmtime import ExitTrap

from workbench.build.diagnostics import last_exception_line
from workbench.errors import (
    MemoryLimitExceeded,
    RunCancelled,
    RunTimeout,
    SkillCrashed,
    SkillRaised,
    WorkbenchError,
)
from workbench.project.model import format_size

if TYPE_CHECKING:
    from workbench.run.results import RunLimits

_CAUSED_BY = re.compile(r"Caused by:\s*\n\s*(.+)")
_OUT_OF_MEMORY = ("MemoryError", "memory allocation of")


def late_timeout(limit: float, used: float, waiting_for: str | None = None) -> RunTimeout:
    """The timeout of a skill that could not be stopped at its limit, with the time it took,
    and what it was doing: waiting for a model, or something of its own."""
    if waiting_for is not None:
        return model_timeout(limit, waiting_for)
    return RunTimeout(
        f"The skill was stopped after {used:.1f} s, past its time limit of {limit:g} s; "
        "look for an endless loop or a long wait (e.g. time.sleep), or raise the limit "
        "with --timeout."
    )


def model_timeout(limit: float, waiting_for: str) -> RunTimeout:
    return RunTimeout(
        f"The skill was stopped at its time limit of {limit:g} s while it waited for the "
        f"model {waiting_for}; the model server is slow or not answering: check it, or "
        "raise the limit with --timeout."
    )


#: What the guest runtime's panic note said (see captured_output): an error outside the
#: skill's own code, in practice while converting what `run` returned.
_RETURN_ERROR = re.compile(
    r"^(?P<name>TypeError|UnicodeEncodeError|\w+Error): (?P<message>.*)$", re.M
)


def _return_problem(name: str, message: str) -> str:
    if name == "TypeError" and "is not an instance of 'str'" in message:
        found = message.split("'")[1] if message.count("'") >= 2 else "something else"
        return (
            f"The skill's run returned a value of type {found}, not a str; return the "
            "output as text."
        )
    if name == "UnicodeEncodeError" and "surrogates not allowed" in message:
        return (
            "The skill's run returned text with a lone surrogate (half of a UTF-16 pair), "
            "which cannot be sent; return valid Unicode text."
        )
    return f"The skill failed outside its own code with {name}: {message}."


def explain_failure(
    error: Exception,
    stopped_because: list[str],
    stderr: str,
    limits: RunLimits,
    used: float,
    waiting_for: str | None = None,
) -> WorkbenchError:
    # What stopped the run decides; a host function's RunCancelled is only its echo.
    if "timeout" in stopped_because and waiting_for is not None:
        return model_timeout(limits.timeout, waiting_for)
    if "timeout" in stopped_because and used > limits.timeout + 1:
        # In this process a skill blocked in a WASI call (time.sleep) is only stopped once
        # the call returns: say the time it really took (the worker pool kills it instead).
        return late_timeout(limits.timeout, used)
    if "timeout" in stopped_because:
        return RunTimeout(
            f"The skill was stopped after {limits.timeout:g} s, its time limit; "
            "look for an endless loop or raise the limit with --timeout."
        )
    if "cancelled" in stopped_because or isinstance(error, RunCancelled):
        return RunCancelled("The run was cancelled.")
    if isinstance(error, WorkbenchError):  # raised by a host function, e.g. a model error
        return error
    if any(marker in stderr for marker in _OUT_OF_MEMORY):
        return MemoryLimitExceeded(
            f"The skill ran out of memory at its limit of {format_size(limits.memory_limit)}; "
            "make it use less or raise the limit with --memory-limit."
        )
    traceback = stderr.strip()
    if isinstance(error, ExitTrap):
        return SkillCrashed(
            "The skill exited (sys.exit() or os._exit()); a skill must return its output instead.",
            traceback,
        )
    if "Traceback (most recent call last)" in traceback:
        return SkillRaised(
            f"The skill raised {last_exception_line(traceback)}; its traceback shows where.",
            traceback,
        )
    returned = _RETURN_ERROR.search(traceback)
    if returned:
        return SkillRaised(_return_problem(returned["name"], returned["message"]), traceback)
    cause = _CAUSED_BY.search(str(error))
    reason = cause.group(1).strip() if cause else str(error).strip().splitlines()[0]
    if "call stack exhausted" in reason:
        return SkillCrashed(
            "The skill exhausted the call stack, most likely by recursing "
            "without end; look for a function that calls itself.",
            traceback,
        )
    return SkillCrashed(f"The skill stopped with a WebAssembly trap ({reason}).", traceback)
