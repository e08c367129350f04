"""Real componentize-py builds: success, the input cache, diagnostics, and failures that
must not lose the last good component."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import DATA, REPOSITORY, TimedEvents, build_events, copy_project
from workbench.build.builder import (
    COMPONENTIZE_PY_ENV,
    BuildFailed,
    BuildLog,
    BuildStarted,
    BuildSucceeded,
    input_key,
    write_bindings,
)
from workbench.errors import BuildError, ToolError
from workbench.project.model import SkillProject, load_project


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_build_streams_log_and_writes_component(
    haiku_project: SkillProject, session_builds: dict[Path, TimedEvents]
) -> None:
    # The session fixture's real build, as it streamed: no second 7 s build for this test.
    timed = session_builds[haiku_project.root]
    (start_time, started), *middle, (end_time, finished) = timed
    assert isinstance(started, BuildStarted)
    assert Path(started.command[0]).name == "componentize-py"
    assert " componentize haiku " in " ".join(started.command)
    assert all(isinstance(event, BuildLog) for _, event in middle)
    assert "Component built successfully" in [event.line for _, event in middle]
    assert isinstance(finished, BuildSucceeded) and not finished.cached
    assert finished.component == haiku_project.output
    # Streamed, not handed over at the end: the start came while componentize-py worked.
    assert end_time - start_time > 1.0
    assert haiku_project.output.read_bytes()[:4] == b"\0asm"


def test_unchanged_rebuild_is_a_cache_hit_that_says_so(haiku_project: SkillProject) -> None:
    before = sha256(haiku_project.output)
    events = build_events(haiku_project)
    assert len(events) == 1
    assert isinstance(events[0], BuildSucceeded) and events[0].cached
    assert sha256(haiku_project.output) == before


def test_syntax_error_points_at_file_line_column_and_keeps_last_good_component(
    haiku_project: SkillProject, tmp_path: Path
) -> None:
    project = load_project(copy_project(haiku_project.root, tmp_path / "haiku"))
    good = sha256(project.output)
    source = project.module_path.read_text()
    project.module_path.write_text(
        source.replace("class Skill(skill.Skill):", "class Skill(skill.Skill)")
    )

    events = build_events(project)

    assert isinstance(events[0], BuildStarted)
    log = "\n".join(e.line for e in events if isinstance(e, BuildLog))
    assert f'File "{project.module_path}", line 5' in log, "sandbox paths are mapped"
    assert "bin/componentize-py" not in log, "componentize-py's launcher traceback is dropped"
    failed = events[-1]
    assert isinstance(failed, BuildFailed) and isinstance(failed.error, BuildError)
    (diagnostic,) = failed.diagnostics
    assert diagnostic.path == project.module_path
    assert (diagnostic.line, diagnostic.column) == (5, len("class Skill(skill.Skill)") + 1)
    assert diagnostic.message == "SyntaxError: expected ':'"
    assert "haiku.py:5:25: SyntaxError: expected ':'" in str(failed.error)
    assert sha256(project.output) == good, "a failed build must keep the last good component"
    assert not list(project.output.parent.glob("*.partial"))

    # Undoing the edit brings back the inputs the component was built from: no rebuild.
    project.module_path.write_text(source)
    (done,) = build_events(project)
    assert isinstance(done, BuildSucceeded) and done.cached


def test_import_error_names_the_importing_line(tmp_path: Path) -> None:
    project = load_project(copy_project(DATA / "skills/import_error", tmp_path / "broken"))
    failed = build_events(project)[-1]
    assert isinstance(failed, BuildFailed)
    (diagnostic,) = failed.diagnostics
    assert diagnostic.path == project.module_path
    assert diagnostic.line == 2
    assert diagnostic.message == "ModuleNotFoundError: No module named 'no_such_module'"
    assert not project.output.exists()


def test_malformed_wit_points_into_the_wit_file(tmp_path: Path) -> None:
    root = copy_project(REPOSITORY / "examples/haiku", tmp_path / "haiku")
    wit = root / "skill.wit"
    wit.write_text(wit.read_text().replace("import csi;", "import csi"))
    project = load_project(root)
    failed = build_events(project)[-1]
    assert isinstance(failed, BuildFailed)
    (diagnostic,) = failed.diagnostics
    assert (diagnostic.path, diagnostic.line, diagnostic.column) == (wit, 5, 5)
    assert "expected ';'" in diagnostic.message


def test_missing_componentize_py_is_one_clear_sentence(
    haiku_project: SkillProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(COMPONENTIZE_PY_ENV, str(tmp_path / "no-such-componentize-py"))
    failed = build_events(load_project(copy_project(haiku_project.root, tmp_path / "h")))[-1]
    assert isinstance(failed, BuildFailed) and isinstance(failed.error, ToolError)
    assert str(failed.error).startswith("componentize-py could not be started")
    assert "pip install componentize-py" in str(failed.error)


def test_crashing_componentize_py_is_reported_as_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Real componentize-py cannot be made to crash on demand; this stand-in process dies of
    # SIGABRT the way a crashing native tool does.
    tool = tmp_path / "componentize-py"
    tool.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && { echo "componentize-py 9"; exit 0; }\n'
        'echo "fatal runtime error: stack overflow" >&2\nkill -ABRT $$\n'
    )
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(COMPONENTIZE_PY_ENV, str(tool))
    failed = build_events(
        load_project(copy_project(REPOSITORY / "examples/haiku", tmp_path / "haiku"))
    )[-1]
    assert isinstance(failed, BuildFailed) and isinstance(failed.error, ToolError)
    assert "componentize-py crashed" in str(failed.error)
    assert "stack overflow" in str(failed.error)


def test_bindings_are_written_for_editors_and_do_not_touch_the_cache_key(
    tmp_path: Path,
) -> None:
    import asyncio

    project = load_project(copy_project(REPOSITORY / "examples/haiku", tmp_path / "haiku"))
    key = input_key(project)
    written = asyncio.run(write_bindings(project))
    assert written == project.root / "skill"
    assert "class Skill(Protocol)" in (written / "__init__.py").read_text()
    assert (
        "def complete_text(prompt: str, model: str) -> str"
        in (written / "imports" / "csi.py").read_text()
    )
    assert input_key(project) == key


def test_build_keeps_no_partial_file_when_cancelled(tmp_path: Path) -> None:
    import asyncio

    from workbench.build.builder import build

    project = load_project(copy_project(REPOSITORY / "examples/haiku", tmp_path / "haiku"))

    async def cancel_after_start() -> None:
        events = build(project)
        async for event in events:
            if isinstance(event, BuildStarted):
                break
        await events.aclose()

    asyncio.run(cancel_after_start())
    assert not project.output.exists()
    assert not project.output.parent.exists() or not list(project.output.parent.iterdir())
    # The killed componentize-py must be gone (no child left behind).
    marker = str(project.output.parent).encode()
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _runs_with(p, marker)]
    shutil.rmtree(project.root)


def test_two_builds_of_one_component_at_once_build_it_once(tmp_path: Path) -> None:
    """The app builds behind an instant result while F6 may build too: the second build
    waits for the first and finds the component up to date."""
    import asyncio

    from workbench.build.builder import build

    project = load_project(copy_project(REPOSITORY / "examples/haiku", tmp_path / "haiku"))

    async def both() -> list[list[object]]:
        async def collect() -> list[object]:
            return [event async for event in build(project)]

        return list(await asyncio.gather(collect(), collect()))

    first, second = asyncio.run(both())
    assert isinstance(first[0], BuildStarted) and isinstance(first[-1], BuildSucceeded)
    assert not first[-1].cached
    assert len(second) == 1 and isinstance(second[0], BuildSucceeded) and second[0].cached


def _runs_with(pid: str, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_a_raw_skill_for_a_gated_world_builds_with_its_feature(
    raw_build, session_builds: dict[Path, TimedEvents]
) -> None:
    # pharia:skill@0.5.0's worlds are `@unstable(feature = alpha)`: without `--features alpha`
    # componentize-py says "World `skill` not found in package `pharia:skill@0.5.0`".
    project = raw_build("raw_v0_5")  # the session's build of it, shared with the run tests
    (_, started), *_, (_, finished) = session_builds[project.root]
    assert isinstance(started, BuildStarted)
    assert "--features alpha" in " ".join(started.command)
    assert isinstance(finished, BuildSucceeded) and not finished.cached
    assert project.output.read_bytes()[:4] == b"\0asm"
