"""Raw componentize-py skills for the kernel's versioned worlds (tests/data/skills/raw_*),
each built once per session with the workbench's own builder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import DATA, TimedEvents, built, copy_project
from workbench.project.model import SkillProject

RAW_SKILLS = ("raw_v0_2", "raw_v0_3", "raw_v0_4", "raw_v0_4_stream", "raw_v0_5")


@pytest.fixture(scope="session")
def raw_build(
    tmp_path_factory: pytest.TempPathFactory, session_builds: dict[Path, TimedEvents]
) -> Callable[[str], SkillProject]:
    """`raw_build("raw_v0_4")`: that skill's project, built on first use (read-only)."""
    projects: dict[str, SkillProject] = {}

    def get(name: str) -> SkillProject:
        if name not in projects:
            target = tmp_path_factory.mktemp("raw-skills") / name
            projects[name] = built(
                copy_project(DATA / "skills" / name, target, False), session_builds
            )
        return projects[name]

    return get
