"""Preparing instant runs: the development runtime built before it is first needed."""

from __future__ import annotations

from collections.abc import AsyncIterator

from workbench.build.builder import BuildEvent
from workbench.build.environment import find_environment
from workbench.project.model import SkillProject
from workbench.run import instant


async def prepare_runtime(project: SkillProject) -> AsyncIterator[BuildEvent]:
    """Build the project's development runtime unless it is there already; nothing for an
    SDK project without its environment yet (the runtime bakes the environment in)."""
    if project.is_sdk and find_environment(project) is None:
        return
    async for event in instant.build_runtime(project):
        yield event
