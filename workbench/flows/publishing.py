"""The registry flows: publish (save, build, check, push, remember), login, logout, tags."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.build.builder import BuildEvent, BuildFailed
from workbench.build.builder import build as build_component
from workbench.cancel import CancelToken
from workbench.credentials import SecretStore
from workbench.errors import ComponentError
from workbench.flows.threads import threaded
from workbench.project.model import SkillProject
from workbench.publish.registry import RegistryCredentials, RegistryTarget, SkillRegistry
from workbench.publish.steps import (
    CompatibilityWarning,
    PublishEvent,
    registry_credentials,
    remember_target,
)
from workbench.publish.steps import login as check_and_save_login
from workbench.publish.steps import logout as forget_login
from workbench.publish.steps import publish as push_component
from workbench.run.component_names import component_names
from workbench.run.worlds import detect_world

# Publish -----------------------------------------------------------------------------------
#: Asked before publishing: save unsaved edits (or ask the user); False means do not publish.
SaveEdits = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class PublishStopped:
    """The user chose not to publish (e.g. at the unsaved-edits question)."""

    reason: str


@dataclass(frozen=True)
class ComponentRead:
    """The component to publish, built from the current sources: its world and which
    kernels load it (None when no kernel world was found; a CompatibilityWarning follows)."""

    path: Path
    world: str | None = None
    kernels: str | None = None


@dataclass(frozen=True)
class TargetRemembered:
    """The target was saved as the project's `[publish]` in workbench.toml."""

    target: RegistryTarget


async def publish(
    project: SkillProject,
    target: RegistryTarget,
    *,
    save_edits: SaveEdits | None = None,
    secrets: SecretStore | None = None,
    cancel: CancelToken | None = None,
) -> AsyncIterator[BuildEvent | PublishEvent | PublishStopped | ComponentRead | TargetRemembered]:
    """Unsaved edits saved (or the user asked), build when stale, push, read back, remember
    the target. Ends with TargetRemembered, BuildFailed or PublishStopped."""
    if save_edits is not None and not await save_edits():
        yield PublishStopped("Not published: the unsaved edits were neither saved nor kept.")
        return
    async for event in build_component(project):
        yield event
        if isinstance(event, BuildFailed):
            return
    # Read from the binary, not compiled: milliseconds instead of seconds.
    imports, exports = await asyncio.to_thread(component_names, project.output)
    try:
        world = detect_world(imports, exports)
    except ComponentError as error:
        yield ComponentRead(project.output)
        yield CompatibilityWarning(f"No Pharia Kernel will load this skill: {error}")
    else:
        yield ComponentRead(project.output, world.name, world.kernels)
        if world.kind == "seed":
            yield CompatibilityWarning(
                "Current Pharia Kernels will refuse this skill: it uses the seed's unversioned "
                f"world, which {world.kernels}; build it for a versioned world (an SDK "
                "skill, or pharia:skill@0.3 and later) to serve it from a kernel today."
            )
    credentials = await asyncio.to_thread(registry_credentials, target.registry, secrets)
    token = cancel or CancelToken()

    def work(send: Callable[[PublishEvent], None]) -> PublishEvent:
        return push_component(
            project.output, imports, exports, target, credentials, on_event=send, cancel=token
        )

    async for event in threaded(work, token.cancel):
        yield event
    await asyncio.to_thread(remember_target, project, target)
    yield TargetRemembered(target)


# Registry accounts and tags ----------------------------------------------------------------
@dataclass(frozen=True)
class LoggedIn:
    registry: str
    username: str


@dataclass(frozen=True)
class LoggedOut:
    registry: str
    #: False when there were no saved credentials to forget.
    forgotten: bool


@dataclass(frozen=True)
class TagsListed:
    repository: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class TagDeleted:
    reference: str


async def login(
    target: RegistryTarget, credentials: RegistryCredentials, secrets: SecretStore | None = None
) -> AsyncIterator[LoggedIn]:
    """Check the credentials against the registry, then keep them in the OS keyring."""
    await asyncio.to_thread(check_and_save_login, target, credentials, secrets)
    yield LoggedIn(target.registry, credentials.username)


async def logout(registry: str, secrets: SecretStore | None = None) -> AsyncIterator[LoggedOut]:
    yield LoggedOut(registry, await asyncio.to_thread(forget_login, registry, secrets))


async def tags(
    target: RegistryTarget, secrets: SecretStore | None = None, *, delete: str | None = None
) -> AsyncIterator[TagsListed | TagDeleted]:
    """The skill's tags in the registry; with `delete`, remove that tag first."""

    def work() -> TagsListed | TagDeleted:
        registry = SkillRegistry(target, registry_credentials(target.registry, secrets))
        if delete:
            registry.remove_tag(delete)
            return TagDeleted(f"{target.registry}/{target.path}:{delete}")
        return TagsListed(f"{target.registry}/{target.path}", tuple(registry.tags()))

    yield await asyncio.to_thread(work)
