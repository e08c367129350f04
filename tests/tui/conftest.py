"""Helpers for driving the app with Textual's pilot against real builds and runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.conftest import copy_project
from workbench.config.user import UserConfig
from workbench.project.model import SkillProject
from workbench.run.runtime import SkillRuntime
from workbench.tui.app import WorkbenchApp, make_app

SIZE = (120, 40)


def config_file() -> Path:
    return Path.home() / ".config/workbench/config.toml"  # HOME is the tests' own


def app_for(folder: Path, runtime: SkillRuntime, **config: object) -> WorkbenchApp:
    settings = UserConfig(path=config_file(), cursor_blink=False, **config)  # type: ignore[arg-type]
    return make_app(folder, config=settings, runtime=runtime)


async def settle(pilot: Pilot, rounds: int = 50) -> None:
    """Wait until no worker runs (a worker may start another: keep waiting)."""
    for _ in range(rounds):
        await pilot.pause()
        if not any(worker.is_running for worker in pilot.app.workers):
            await pilot.pause()
            return
        await pilot.app.workers.wait_for_complete()
    raise AssertionError("workers did not finish")


@pytest.fixture
def haiku_copy(haiku_project: SkillProject, tmp_path: Path) -> Path:
    """A private copy of the built example (its build included, so a run needs no build)."""
    return copy_project(haiku_project.root, tmp_path / "haiku")


@pytest.fixture
def behaviours_copy(behaviours_project: SkillProject, tmp_path: Path) -> Path:
    return copy_project(behaviours_project.root, tmp_path / "behaviours")
