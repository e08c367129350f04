"""pharia-skill (SDK) projects for real: `workbench env` makes the environment once (pip,
from PyPI) and reuses it, builds go through its componentize-py exactly as `pharia-skill
build` does, and what goes wrong is said in one sentence at the right file and line."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import (
    DATA,
    SDK_VERSION,
    SdkEnvironment,
    TimedEvents,
    build_events,
    collect,
    copy_project,
    run_workbench,
)
from workbench import flows
from workbench.build.builder import BuildFailed, BuildLog, BuildStarted, BuildSucceeded
from workbench.build.environment import find_environment
from workbench.build.venv import EnvironmentLog, EnvironmentStep
from workbench.cancel import CancelToken
from workbench.errors import BuildError, EnvironmentCancelled, NoEnvironment, UsageError
from workbench.project.model import ProjectKind, SkillProject, load_project
from workbench.run.runtime import SkillRuntime


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_workbench_env_makes_the_environment_once_then_reuses_it(
    sdk_environment: SdkEnvironment,
) -> None:
    made = json.loads(sdk_environment.made_by.stdout)
    assert made["ok"] and made["error"] is None and made["created"]
    assert made["environment"] == str(sdk_environment.project / ".venv")
    assert (made["pharia_skill"], made["package"]) == (SDK_VERSION, "pharia:skill@0.3.11")
    assert made["componentize_py"].startswith("0.17.") and made["python"].startswith("3.11")
    # pip's progress streamed on stderr, behind the step that ran it.
    progress = sdk_environment.made_by.stderr
    assert f"Installing pharia-skill=={SDK_VERSION}" in progress
    assert "Successfully installed" in progress and "componentize-py-0.17." in progress

    started = time.monotonic()
    again = run_workbench("env", sdk_environment.project)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"The environment {sdk_environment.project / '.venv'}")
    assert "is already there (pharia-skill 0.20.0, componentize-py 0.17." in again.stdout
    assert again.stderr == "", "nothing was installed the second time"
    assert time.monotonic() - started < 10


def _exports(runtime: SkillRuntime, component: Path) -> list[str]:
    return runtime.component_interface(component)[1]


def test_an_sdk_skill_builds_for_the_skill_world(
    sdk_skill_build: tuple[SkillProject, Path],
    sdk_environment: SdkEnvironment,
    session_builds: dict[Path, TimedEvents],
    runtime: SkillRuntime,
) -> None:
    project, component = sdk_skill_build
    assert (project.kind, project.world, project.module) == (ProjectKind.SDK, "skill", "calls")
    (_, started), *middle, (_, finished) = session_builds[project.root]
    assert isinstance(started, BuildStarted) and isinstance(finished, BuildSucceeded)
    # The environment's componentize-py, for the world, with `-p . -p wasi_deps`.
    assert started.command[:3] == (
        str(sdk_environment.root / "bin/componentize-py"),
        "-w",
        "skill",
    )
    assert started.command[3:] == (
        "componentize",
        "calls",
        "-o",
        str(project.output.with_name(".calls.wasm.partial")),
        "-p",
        str(project.root),
        "-p",
        str(project.root / "wasi_deps"),
    )
    log = [event.line for _, event in middle if isinstance(event, BuildLog)]
    assert "Installing pydantic-core==2.33.2 for WASI into wasi_deps/" in log
    assert "Component built successfully" in log
    assert (project.root / "wasi_deps/pydantic_core-2.33.2.dist-info").is_dir()
    assert "pharia:skill/skill-handler@0.3.11" in _exports(runtime, component)


def test_an_sdk_message_stream_builds_for_the_message_stream_world(
    sdk_stream_build: tuple[SkillProject, Path], runtime: SkillRuntime
) -> None:
    project, component = sdk_stream_build
    assert (project.world, project.qualified_world) == (
        "message-stream-skill",
        "pharia:skill/message-stream-skill",
    )
    exports = _exports(runtime, component)
    assert "pharia:skill/message-stream@0.3.11" in exports
    assert "pharia:skill/skill-handler@0.3.11" not in exports


def test_an_unchanged_sdk_rebuild_is_a_cache_hit(
    sdk_skill_build: tuple[SkillProject, Path],
) -> None:
    project, component = sdk_skill_build
    before = sha256(component)
    (event,) = build_events(project)
    assert isinstance(event, BuildSucceeded) and event.cached
    assert sha256(component) == before


def test_a_syntax_error_in_an_sdk_skill_is_reported_at_its_file_and_line(
    sdk_skill_build: tuple[SkillProject, Path], tmp_path: Path
) -> None:
    project = load_project(copy_project(sdk_skill_build[0].root, tmp_path / "calls", False))
    good = sha256(project.output)
    source = project.module_path.read_text()
    header = "def run(csi: Csi, input: Input) -> Output:"
    line = source.splitlines().index(header) + 1
    project.module_path.write_text(source.replace(header, header.rstrip(":")))

    events = build_events(project)

    log = "\n".join(e.line for e in events if isinstance(e, BuildLog))
    assert f'File "{project.module_path}", line {line}' in log, "sandbox paths are mapped"
    failed = events[-1]
    assert isinstance(failed, BuildFailed) and isinstance(failed.error, BuildError)
    (diagnostic,) = failed.diagnostics
    assert (diagnostic.path, diagnostic.line, diagnostic.column) == (
        project.module_path,
        line,
        len(header),
    )
    assert diagnostic.message == "SyntaxError: expected ':'"
    assert f"calls.py:{line}:{len(header)}: SyntaxError: expected ':'" in str(failed.error)
    assert sha256(project.output) == good, "a failed build keeps the last good component"


def test_an_sdk_project_without_an_environment_says_how_to_make_one(tmp_path: Path) -> None:
    root = copy_project(DATA / "skills/sdk_skill", tmp_path / "calls", False)
    sentence = (
        f"The SDK project {root} has no environment with pharia-skill; create one with "
        "`workbench env`."
    )
    (failed,) = build_events(load_project(root))
    assert isinstance(failed, BuildFailed) and isinstance(failed.error, NoEnvironment)
    assert str(failed.error) == sentence
    done = run_workbench("build", root)
    assert (done.returncode, done.stderr) == (1, f"error: {sentence}\n")


def test_the_active_environment_is_used_when_it_has_pharia_skill(
    sdk_environment: SdkEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load_project(copy_project(DATA / "skills/sdk_skill", tmp_path / "calls", False))
    assert find_environment(project) is None
    monkeypatch.setenv("VIRTUAL_ENV", str(sdk_environment.root))
    found = find_environment(project)
    assert found is not None and (found.root, found.origin) == (sdk_environment.root, "active")
    done = run_workbench("env", project.root, env={"VIRTUAL_ENV": str(sdk_environment.root)})
    assert done.returncode == 0 and "The active environment" in done.stdout
    assert not (project.root / ".venv").exists()


def test_making_an_environment_can_be_cancelled_and_stops_its_processes(tmp_path: Path) -> None:
    project = load_project(copy_project(DATA / "skills/sdk_skill", tmp_path / "calls", False))
    token = CancelToken()

    steps: list[str] = []

    async def cancel_once_pip_speaks() -> None:
        async for event in flows.make_environment(project, cancel=token):
            if isinstance(event, EnvironmentStep):
                steps.append(event.description)
            if isinstance(event, EnvironmentLog) and len(steps) == 2:
                token.cancel()  # pip is installing: it must stop now

    with pytest.raises(EnvironmentCancelled, match="run `workbench env` again to finish it"):
        asyncio.run(cancel_once_pip_speaks())
    assert steps == [
        f"Making {project.root / '.venv'} with Python 3.11",
        "Installing pharia-skill (with its componentize-py)",
    ]
    assert find_environment(project) is None, "a stopped install is no environment"
    marker = str(project.root).encode()
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _runs_with(p, marker)]
    shutil.rmtree(project.root)


def _runs_with(pid: str, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_env_on_a_seed_project_is_one_clear_sentence(tmp_path: Path) -> None:
    root = copy_project(DATA / "skills/behaviours", tmp_path / "behaviours")
    with pytest.raises(UsageError, match="is a seed project"):
        asyncio.run(collect(flows.make_environment(load_project(root))))
    done = run_workbench("env", root, "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 1 and not result["ok"] and result["environment"] is None
    assert result["error"]["kind"] == "usage"
    assert "`workbench env` is for projects that use pharia-skill" in result["error"]["message"]


@pytest.mark.parametrize(
    ("template", "world"), [("skill", "skill"), ("message-stream", "message-stream-skill")]
)
def test_sdk_templates_load_and_run_with_pharia_skill(
    template: str, world: str, sdk_environment: SdkEnvironment, tmp_path: Path
) -> None:
    done = run_workbench("new", "poem", tmp_path / "poem", "--template", template, "--json")
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert made == {
        "ok": True,
        "project": str(tmp_path / "poem"),
        "template": template,
        "module": "poem",
        "environment": None,
        "error": None,
    }
    project = load_project(tmp_path / "poem")
    assert (project.kind, project.world, project.module) == (ProjectKind.SDK, world, "poem")
    assert project.sdk_requirement == f"pharia-skill=={SDK_VERSION}"
    assert json.loads(project.run.input or "") == {"topic": "oak trees"}
    ignored = (project.root / ".gitignore").read_text().splitlines()
    assert {".venv/", "wasi_deps/", "build/"} <= set(ignored)
    # The template's code works with the pinned pharia-skill (its own offline StubCsi).
    check = (
        "import json, poem\n"
        "from pharia_skill.testing import MessageRecorder, StubCsi\n"
        "arguments = [StubCsi(), poem.Input(topic='oak trees')]\n"
        "if hasattr(poem, 'Payload'):\n"
        "    recorder = MessageRecorder()\n"
        "    poem.haiku(arguments[0], recorder, arguments[1])\n"
        "    print(json.dumps([m.content for m in recorder.messages()]))\n"
        "else:\n"
        "    print(json.dumps([poem.haiku(*arguments).haiku]))\n"
    )
    ran = _sdk_python(sdk_environment, check, project.root)
    assert "Write a haiku about oak trees." in json.loads(ran)[0]


def _sdk_python(environment: SdkEnvironment, code: str, cwd: Path) -> str:
    done = subprocess.run(
        [str(environment.root / "bin/python"), "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OTEL_SDK_DISABLED": "true"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_new_with_env_makes_nothing_new_when_the_environment_is_named(
    sdk_environment: SdkEnvironment, tmp_path: Path
) -> None:
    # With the session's environment active, `new --env` finds it instead of installing.
    done = run_workbench(
        "new",
        "poem",
        tmp_path / "poem",
        "-t",
        "skill",
        "--env",
        env={"VIRTUAL_ENV": str(sdk_environment.root)},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"Created the skill project {tmp_path / 'poem'} (template: skill)"
    assert lines[1].startswith(f"The active environment {sdk_environment.root} has pharia-skill")
    assert lines[2] == f"Next: workbench run {tmp_path / 'poem'}"
