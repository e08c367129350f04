"""Instant runs (workbench/run/instant.py): the skill's own modules run in a development
runtime built once, with the same output, CSI trace, sandbox and limits as the component."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import collect, copy_project
from workbench import flows
from workbench.build.builder import BuildFailed
from workbench.errors import MemoryLimitExceeded, RunTimeout
from workbench.models import EchoProvider
from workbench.project.model import SkillProject, load_project
from workbench.run import instant
from workbench.run.pool import RunnerPool
from workbench.run.runtime import RunLimits, RunResult


@pytest.fixture(scope="module")
def pool() -> Iterator[RunnerPool]:
    runner = RunnerPool()
    yield runner
    runner.close()


def edited(source: SkillProject, folder: Path) -> SkillProject:
    """A copy of a built project whose module changed (a comment): its component is stale,
    so a run takes the instant path unless told otherwise."""
    copy_project(source.root, folder, with_wit=False)
    module = folder / f"{source.module}.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    return load_project(folder)


def run(
    pool: RunnerPool, project: SkillProject, text: str | dict[str, Any], **options
) -> RunResult:
    limits = options.pop("limits", RunLimits())
    request = flows.RunRequest(text if isinstance(text, str) else json.dumps(text), limits=limits)
    events = asyncio.run(
        collect(flows.run(project, request, EchoProvider(), runner=pool, **options))
    )
    assert isinstance(events[-1], flows.RunFinished), events[-1]
    return events[-1].result


def same_run(instant_run: RunResult, component_run: RunResult) -> None:
    assert instant_run.path == "instant" and component_run.path == "component"
    assert instant_run.error is None and component_run.error is None
    assert instant_run.output == component_run.output
    assert instant_run.messages == component_run.messages
    assert instant_run.stdout == component_run.stdout
    trace = [(c.function, c.request, c.response) for c in instant_run.csi_calls]
    assert trace == [(c.function, c.request, c.response) for c in component_run.csi_calls]


@pytest.mark.parametrize(
    ("fixture", "text"),
    [
        ("haiku_project", "oak trees"),
        ("sdk_skill_build", {"call": "chat", "model": "luminous-base"}),
        ("sdk_stream_build", {"topic": "oat milk"}),
    ],
)
def test_an_instant_run_gives_what_the_component_gives(request, pool, tmp_path, fixture, text):
    built = request.getfixturevalue(fixture)
    project = built[0] if isinstance(built, tuple) else built
    component_run = run(pool, project, text)  # built and up to date: the component
    fresh = edited(project, tmp_path / project.root.name)
    instant_run = run(pool, fresh, text)
    same_run(instant_run, component_run)
    assert instant.runtime_path(fresh).is_file()


def test_the_sandbox_and_the_limits_hold_in_an_instant_run(pool, behaviours_project, tmp_path):
    fresh = edited(behaviours_project, tmp_path / "behaviours")
    sandbox = run(pool, fresh, "sandbox")
    assert sandbox.path == "instant", sandbox.error
    assert json.loads(sandbox.output or "") == json.loads(
        run(pool, behaviours_project, "sandbox").output or ""
    )
    assert json.loads(sandbox.output or "")["own_source"] == (
        "FileNotFoundError for /0/behaviours.py"
    )
    slept = run(pool, fresh, "sleep", limits=RunLimits(timeout=1))
    assert slept.path == "instant" and isinstance(slept.error, RunTimeout)
    grown = run(pool, fresh, "alloc", limits=RunLimits(memory_limit=64 << 20))
    assert grown.path == "instant" and isinstance(grown.error, MemoryLimitExceeded)
    # A skill's traceback is the component's: no frame of the loader's.
    raised, raised_there = run(pool, fresh, "raise"), run(pool, behaviours_project, "raise")
    assert raised.path == "instant" and str(raised.error) == str(raised_there.error)

    def told(result: RunResult, root: Path) -> str:
        return (getattr(result.error, "details", "") + result.stderr).replace(str(root), "ROOT")

    assert "Traceback" in told(raised, fresh.root)
    assert told(raised, fresh.root) == told(raised_there, behaviours_project.root)


def test_a_syntax_error_is_said_before_anything_runs(pool, haiku_project, tmp_path) -> None:
    fresh = edited(haiku_project, tmp_path / "haiku")
    fresh.module_path.write_text(fresh.module_path.read_text() + "def broken(:\n")
    events = asyncio.run(
        collect(flows.run(fresh, flows.RunRequest("oak"), EchoProvider(), runner=pool))
    )
    (failed,) = events
    assert isinstance(failed, BuildFailed)
    (diagnostic,) = failed.diagnostics
    assert diagnostic.path == fresh.module_path and diagnostic.message.startswith("SyntaxError")


def test_component_forces_the_real_build(pool, haiku_project, tmp_path) -> None:
    fresh = edited(haiku_project, tmp_path / "haiku")
    result = run(pool, fresh, "oak trees", component=True)
    assert result.path == "component" and result.ok


def test_a_dependency_change_makes_a_new_runtime_and_a_skill_change_does_not(tmp_path) -> None:
    project_dir = copy_project(Path("examples/haiku").resolve(), tmp_path / "haiku")
    shutil.rmtree(project_dir / "build", ignore_errors=True)
    (project_dir / "lib").mkdir()
    (project_dir / "lib/helper.py").write_text("WORDS = 1\n")
    (project_dir / "workbench.toml").write_text(
        '[skill]\nmodule = "haiku"\nwit = "skill.wit"\npython-path = ["lib"]\n'
    )
    project = load_project(project_dir)
    before = instant.runtime_path(project)
    project.module_path.write_text(project.module_path.read_text() + "\n# the skill changed\n")
    assert instant.runtime_path(load_project(project_dir)) == before
    assert "/0/lib/helper.py" not in instant.own_sources(project)  # a dependency, baked in
    (project_dir / "lib/helper.py").write_text("WORDS = 2\n")
    assert instant.runtime_path(load_project(project_dir)) != before
