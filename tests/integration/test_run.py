"""Real wasmtime runs of real builds: output, captured prints, the CSI trace, and every way
a run can fail."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from workbench.cancel import CancelToken
from workbench.csi.host import CsiHost
from workbench.errors import (
    ComponentError,
    MemoryLimitExceeded,
    RunCancelled,
    RunTimeout,
    SkillCrashed,
    SkillRaised,
)
from workbench.models import EchoProvider
from workbench.project.model import SkillProject
from workbench.run.pool import RunnerPool
from workbench.run.runtime import RunLimits, RunResult, SkillRuntime, Stream

SEED_PROMPT = "Write a haiku about oak trees\n\n### Response:"
SEED_MODEL = "luminous-extended-control"


def run(
    runtime: SkillRuntime | RunnerPool,
    project: SkillProject,
    text: str,
    *,
    host: CsiHost | None = None,
    limits: RunLimits | None = None,
) -> RunResult:
    return runtime.run(
        project.output,
        text,
        host or CsiHost(EchoProvider()),
        limits=limits,
        expected_world=project.qualified_world,
        sandbox_paths=project.python_paths,
    )


def test_haiku_calls_the_model_with_the_seed_prompt(runtime, haiku_project) -> None:
    result = run(runtime, haiku_project, "oak trees")
    assert result.ok, result.error
    (call,) = result.csi_calls
    assert call.function == "complete-text"
    assert call.request == {"prompt": SEED_PROMPT, "model": SEED_MODEL}
    assert call.model_requested == call.model_served == SEED_MODEL
    assert (
        result.output == call.response == EchoProvider().complete_text(SEED_PROMPT, SEED_MODEL).text
    )
    assert SEED_MODEL in result.output and SEED_PROMPT in result.output
    assert result.world == "pharia:skill/skill"
    assert result.timings.instantiate > 0 and result.timings.run > 0


def test_model_override_is_recorded_next_to_the_requested_model(runtime, haiku_project):
    result = run(
        runtime,
        haiku_project,
        "oak trees",
        host=CsiHost(EchoProvider(), model_override="luminous-base"),
    )
    (call,) = result.csi_calls
    assert (call.model_requested, call.model_served) == (SEED_MODEL, "luminous-base")
    assert "'luminous-base'" in result.output
    assert result.to_dict()["model_override"] == "luminous-base"


def test_every_csi_call_is_recorded_in_order(runtime, behaviours_project) -> None:
    result = run(runtime, behaviours_project, "calls:3")
    assert [c.request for c in result.csi_calls] == [
        {"prompt": f"p{n}", "model": f"m{n}"} for n in range(3)
    ]
    assert all(c.duration >= 0 and c.error is None for c in result.csi_calls)


def test_skill_prints_are_captured_per_stream_and_streamed(runtime, behaviours_project):
    streamed: list[tuple[str, str]] = []
    result = runtime.run(
        behaviours_project.output,
        "print",
        CsiHost(EchoProvider()),
        on_output=lambda stream, text: streamed.append((stream, text)),
    )
    assert result.ok
    assert result.stdout == "to stdout\n"
    assert result.stderr == "to stderr\n"
    assert "".join(t for s, t in streamed if s == "stdout") == "to stdout\n"


def test_sandbox_has_no_files_environment_or_network(runtime, behaviours_project) -> None:
    result = run(runtime, behaviours_project, "sandbox")
    assert result.ok, result.error
    assert json.loads(result.output or "") == {
        "environ": {},
        "home": None,
        "files": "FileNotFoundError",
        "own_source": "FileNotFoundError for /0/behaviours.py",
        "network": "no socket module",
    }


def test_skill_that_raises_shows_its_traceback_with_real_paths(runtime, behaviours_project):
    result = run(runtime, behaviours_project, "raise")
    assert isinstance(result.error, SkillRaised)
    assert str(result.error).startswith("The skill raised ValueError: bad input")
    module = behaviours_project.module_path
    assert f'File "{module}", line 18, in run' in result.error.details
    assert "/0/" not in result.stderr and "panicked" not in result.stderr
    assert result.output is None


def test_endless_loop_is_stopped_at_the_timeout(runtime, behaviours_project) -> None:
    started = time.monotonic()
    result = run(runtime, behaviours_project, "loop", limits=RunLimits(timeout=0.5))
    assert isinstance(result.error, RunTimeout)
    assert "stopped after 0.5 s" in str(result.error)
    assert time.monotonic() - started < 5


def test_cancel_stops_a_running_skill_at_once(runtime, behaviours_project) -> None:
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    started = time.monotonic()
    result = run(
        runtime,
        behaviours_project,
        "loop",
        host=CsiHost(EchoProvider(), cancel=token),
        limits=RunLimits(timeout=60),
    )
    assert isinstance(result.error, RunCancelled)
    assert time.monotonic() - started < 2


def test_memory_hungry_skill_is_stopped_at_the_limit(runtime, behaviours_project) -> None:
    result = run(runtime, behaviours_project, "alloc", limits=RunLimits(memory_limit=64 << 20))
    assert isinstance(result.error, MemoryLimitExceeded)
    assert "64 MiB" in str(result.error)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("exit", "sys.exit()"), ("os-exit", "os._exit()"), ("recurse", "RecursionError")],
)
def test_skill_that_exits_or_recurses_gets_a_clear_error(
    runtime, behaviours_project, text, phrase
) -> None:
    result = run(runtime, behaviours_project, text)
    assert isinstance(result.error, SkillCrashed | SkillRaised)
    assert phrase in str(result.error)


def test_each_run_gets_a_fresh_store_so_a_trap_does_not_leak(runtime, behaviours_project):
    assert not run(runtime, behaviours_project, "raise").ok
    again = run(runtime, behaviours_project, "after")
    assert again.ok and again.csi_calls[0].request["prompt"] == "after"


def test_corrupt_component_is_one_clear_sentence(runtime, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.wasm"
    corrupt.write_bytes(b"\0asm\x0d\0\x01\0" + b"\xff" * 64)
    result = runtime.run(corrupt, "x", CsiHost(EchoProvider()))
    assert isinstance(result.error, ComponentError)
    assert "is not a valid WebAssembly component" in str(result.error)
    assert "\n" not in str(result.error)


def test_missing_component_says_to_build(runtime, tmp_path: Path) -> None:
    result = runtime.run(tmp_path / "nothing.wasm", "x", CsiHost(EchoProvider()))
    assert isinstance(result.error, ComponentError)
    assert "workbench build" in str(result.error)


def run_streaming_stderr(
    runtime: SkillRuntime, project: SkillProject, text: str
) -> tuple[RunResult, str]:
    """A run, and the stderr its output listener was told, joined."""
    streamed: list[str] = []

    def listen(stream: Stream, chunk: str) -> None:
        if stream == "stderr":
            streamed.append(chunk)

    result = runtime.run(
        project.output,
        text,
        CsiHost(EchoProvider()),
        expected_world=project.qualified_world,
        sandbox_paths=project.python_paths,
        on_output=listen,
    )
    return result, "".join(streamed)


def test_a_last_stderr_line_without_newline_is_kept_and_streamed(runtime, behaviours_project):
    result, streamed = run_streaming_stderr(runtime, behaviours_project, "tail")
    assert result.ok and result.output == "done", result.error
    assert result.stderr == "last words\n"
    assert streamed == "last words\n"


@pytest.mark.parametrize(
    ("text", "words", "error"),
    [("tail-raise", "famous last words", SkillRaised), ("tail-exit", "exit words", SkillCrashed)],
)
def test_a_failed_runs_last_stderr_line_without_newline_is_kept_and_streamed(
    runtime, behaviours_project, text, words, error
) -> None:
    result, streamed = run_streaming_stderr(runtime, behaviours_project, text)
    assert isinstance(result.error, error)
    assert words in result.stderr
    assert words in streamed


def test_a_write_cut_by_the_webassembly_runtime_is_said(runtime, behaviours_project) -> None:
    result = run(runtime, behaviours_project, "print-big:9000")
    assert result.ok and result.output == "9000"
    # wasmtime keeps 8 KiB of one write and the guest does not write the rest again: the
    # loss cannot be undone, but it is never silent.
    assert result.stdout.startswith("p" * 8192)
    assert "the skill wrote more than 8 KiB at once" in result.stdout


def test_prints_past_the_limit_are_counted_not_kept_and_said(runtime, behaviours_project):
    limits = RunLimits(max_prints=64 << 10)
    streamed: list[str] = []
    result = runtime.run(
        behaviours_project.output,
        "print-many:2000",
        CsiHost(EchoProvider()),
        limits=limits,
        expected_world=behaviours_project.qualified_world,
        on_output=lambda _stream, text: streamed.append(text),
    )
    assert result.ok and result.output == "2000"
    assert len(result.stdout) <= 64 << 10
    assert "1,982,464 more bytes of prints were not kept" in result.stderr
    assert sum(map(len, streamed)) < (64 << 10) + 200, "the listener is bounded too"


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("return-int", "The skill's run returned a value of type int, not a str"),
        ("return-surrogate", "returned text with a lone surrogate"),
    ],
)
def test_a_return_value_the_world_cannot_take_is_named(
    runtime, behaviours_project, text, sentence
) -> None:
    result = run(runtime, behaviours_project, text)
    assert sentence in str(result.error)
    assert "unreachable" not in str(result.error)
