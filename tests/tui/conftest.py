"""Helpers for driving the app with Textual's pilot against real builds and runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import Notify
from textual.message import Message
from textual.pilot import Pilot

from tests.conftest import DATA, TimedEvents, built, copy_project
from workbench.config.user import UserConfig
from workbench.project.model import SkillProject
from workbench.tui.app import WorkbenchApp, make_app

SIZE = (120, 40)


def config_file() -> Path:
    return Path.home() / ".config/workbench/config.toml"  # HOME is the tests' own


def app_for(folder: Path, **config: object) -> WorkbenchApp:
    # Builds the app would start by itself (each 7-15 s) only where a test asks for them.
    config.setdefault("prepare_runtime", False)
    config.setdefault("build_behind_instant", False)
    settings = UserConfig(path=config_file(), cursor_blink=False, **config)  # type: ignore[arg-type]
    return make_app(folder, config=settings)


#: Workers that run as long as their screen does (the disk watcher): not a task to wait for.
LONG_LIVED = {"disk-watch"}


def tasks(pilot: Pilot) -> list:
    return [w for w in pilot.app.workers if w.is_running and w.group not in LONG_LIVED]


async def settle(pilot: Pilot, rounds: int = 50) -> None:
    """Wait until no task runs (a task may start another: keep waiting)."""
    for _ in range(rounds):
        await pilot.pause()
        running = tasks(pilot)
        if not running:
            await pilot.pause()
            return
        await pilot.app.workers.wait_for_complete(running)
    raise AssertionError("workers did not finish")


@pytest.fixture
def haiku_copy(haiku_project: SkillProject, tmp_path: Path) -> Path:
    """A private copy of the built example (its build included, so a run needs no build)."""
    return copy_project(haiku_project.root, tmp_path / "haiku")


@pytest.fixture
def behaviours_copy(behaviours_project: SkillProject, tmp_path: Path) -> Path:
    return copy_project(behaviours_project.root, tmp_path / "behaviours")


@pytest.fixture(scope="session")
def raw_stream_project(
    tmp_path_factory: pytest.TempPathFactory, session_builds: dict[Path, TimedEvents]
) -> SkillProject:
    """tests/data/skills/raw_v0_4_stream (a message stream, no SDK), built; read-only."""
    folder = tmp_path_factory.mktemp("raw") / "raw_v0_4_stream"
    return built(copy_project(DATA / "skills/raw_v0_4_stream", folder, False), session_builds)


@pytest.fixture(scope="session")
def raw_skill_project(
    tmp_path_factory: pytest.TempPathFactory, session_builds: dict[Path, TimedEvents]
) -> SkillProject:
    """tests/data/skills/raw_v0_4 (a 0.4 `skill` with metadata, no SDK), built; read-only."""
    folder = tmp_path_factory.mktemp("raw") / "raw_v0_4"
    return built(copy_project(DATA / "skills/raw_v0_4", folder, False), session_builds)


def notifications(messages: list[Message]) -> list[str]:
    """The notifications among the messages an app's `message_hook` recorded."""
    return [m.notification.message for m in messages if isinstance(m, Notify)]


def abbreviates(cell: object, text: str) -> bool:
    """A table cell shows `text`, or its start cut with "…" to fit its column."""
    shown = str(cell)
    return shown == text or (shown.endswith("…") and text.startswith(shown[:-1]))


async def until(condition: Callable[[], bool], within: float = 10) -> None:
    """Let the app work until `condition` holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within} s"
        await asyncio.sleep(0.02)
