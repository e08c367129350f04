"""Session-wide real builds: each test skill is built once with componentize-py (6-10 s,
~400 MiB each) and shared, read-only, by the tests that run it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.conftest import DATA, REPOSITORY
from workbench.builder import BuildEvent, BuildSucceeded, build
from workbench.project import SkillProject, load_project
from workbench.runtime import SkillRuntime

T = TypeVar("T")


async def collect(events: AsyncIterator[T]) -> list[T]:
    return [event async for event in events]


def build_events(project: SkillProject, force: bool = False) -> list[BuildEvent]:
    return asyncio.run(collect(build(project, force=force)))


def copy_project(source: Path, target: Path, with_wit: bool = True) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    if with_wit and not any(target.glob("*.wit")):
        shutil.copy(REPOSITORY / "skill.wit", target / "skill.wit")
    return target


def built(project_dir: Path) -> SkillProject:
    project = load_project(project_dir)
    events = build_events(project)
    assert isinstance(events[-1], BuildSucceeded), events[-1]
    return project


@pytest.fixture(scope="session")
def haiku_project(tmp_path_factory: pytest.TempPathFactory) -> SkillProject:
    """The bundled example, built; tests must not change its files (copy it instead)."""
    return built(copy_project(REPOSITORY / "examples/haiku",
                              tmp_path_factory.mktemp("example") / "haiku"))


@pytest.fixture(scope="session")
def behaviours_project(tmp_path_factory: pytest.TempPathFactory) -> SkillProject:
    return built(copy_project(DATA / "skills/behaviours",
                              tmp_path_factory.mktemp("skills") / "behaviours"))


@pytest.fixture(scope="session")
def runtime() -> SkillRuntime:
    return SkillRuntime()
