"""Every flow a user can start (build, run, publish, login, logout, tags), once, as an async
stream of typed events that both front-ends consume: the CLI prints them, the app renders them.

Both front-ends therefore do the same steps in the same order. Blocking work (wasmtime, the
registry, the keyring) runs on threads and reports back through a queue as it happens.
Closing a stream (the consumer stops or is cancelled) stops the work it started: the build
subprocess is killed, the skill interrupted, an upload cancelled before tagging. A failure a
user can cause is a `WorkbenchError` raised from the stream; a failed build is an event,
since it carries diagnostics and ends the flow normally.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from workbench.build.builder import BuildEvent, BuildFailed
from workbench.build.builder import build as build_component
from workbench.cancel import CancelToken
from workbench.credentials import SecretStore
from workbench.errors import InternalError
from workbench.models.base import ModelProvider
from workbench.project.model import SkillProject
from workbench.publish.registry import RegistryCredentials, RegistryTarget, SkillRegistry
from workbench.publish.steps import PublishEvent, registry_credentials, remember_target
from workbench.publish.steps import login as check_and_save_login
from workbench.publish.steps import logout as forget_login
from workbench.publish.steps import publish as push_component
from workbench.run.csi import CsiCall, CsiHost
from workbench.run.pool import RunnerPool, shared_pool
from workbench.run.runtime import RunLimits, RunResult, SkillRuntime, Stream

T = TypeVar("T")


# Run ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunStarted:
    input: str


@dataclass(frozen=True)
class SkillOutput:
    stream: Stream
    text: str


@dataclass(frozen=True)
class CsiCallMade:
    call: CsiCall


@dataclass(frozen=True)
class RunFinished:
    result: RunResult


RunEvent = RunStarted | SkillOutput | CsiCallMade | RunFinished
PipelineEvent = BuildEvent | RunEvent


@dataclass(frozen=True)
class RunRequest:
    input: str
    model_override: str | None = None
    limits: RunLimits = field(default_factory=RunLimits)
    #: The provider's name, for the record (history, JSON); the provider itself is passed in.
    provider: str | None = None


def limits_for(
    project: SkillProject,
    timeout: float | None = None,
    memory_limit: int | None = None,
    max_prints: int | None = None,
) -> RunLimits:
    return RunLimits(
        timeout=timeout or project.run.timeout,
        memory_limit=memory_limit or project.run.memory_limit,
        max_prints=max_prints or project.run.max_prints,
    )


def build(project: SkillProject, *, force: bool = False) -> AsyncIterator[BuildEvent]:
    """Build the project unless its component is up to date; the last event says how."""
    return build_component(project, force=force)


async def run(
    project: SkillProject,
    request: RunRequest,
    provider: ModelProvider,
    *,
    runner: RunnerPool | None = None,
    cancel: CancelToken | None = None,
) -> AsyncIterator[PipelineEvent]:
    """Build the project if its inputs changed, then run it; ends with a RunFinished event,
    or with BuildFailed when there is nothing to run."""
    async for event in build_component(project):
        yield event
        if isinstance(event, BuildFailed):
            return
    async for event in run_component(project, request, provider, runner=runner, cancel=cancel):
        yield event


async def run_component(
    project: SkillProject,
    request: RunRequest,
    provider: ModelProvider,
    *,
    runner: RunnerPool | None = None,
    cancel: CancelToken | None = None,
) -> AsyncIterator[RunEvent]:
    """Run the project's current component without building it, in a worker process (the
    given pool, else the process's shared one), so that a time limit or a cancel can stop
    even a skill blocked in a WASI call: the worker is killed and replaced."""
    runner = runner or shared_pool()
    host = CsiHost(
        provider=provider,
        model_override=request.model_override,
        cancel=cancel or CancelToken(),
    )

    def work(send: Callable[[RunEvent], None]) -> RunEvent:
        host.on_call = lambda call: send(CsiCallMade(call))
        try:
            result = runner.run(
                project.output,
                request.input,
                host,
                limits=request.limits,
                expected_world=project.qualified_world,
                sandbox_paths=project.python_paths,
                on_output=lambda stream, text: send(SkillOutput(stream, text)),
            )
        except Exception as error:  # a bug of ours: still end the stream with a result
            result = RunResult(
                input=request.input,
                component=project.output,
                error=InternalError(
                    f"The run failed inside the workbench ({type(error).__name__}: {error}); "
                    "please report this."
                ),
            )
        result.provider = request.provider or provider.name
        return RunFinished(result)

    yield RunStarted(request.input)
    async for event in _threaded(work, host.cancel.cancel):
        yield event


# Publish -----------------------------------------------------------------------------------
#: Asked before publishing: save unsaved edits (or ask the user); False means do not publish.
SaveEdits = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class PublishStopped:
    """The user chose not to publish (e.g. at the unsaved-edits question)."""

    reason: str


@dataclass(frozen=True)
class ComponentRead:
    """The component to publish, built from the current sources."""

    path: Path


@dataclass(frozen=True)
class TargetRemembered:
    """The target was saved as the project's `[publish]` in workbench.toml."""

    target: RegistryTarget


async def publish(
    project: SkillProject,
    target: RegistryTarget,
    runtime: SkillRuntime,
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
    imports, exports = await asyncio.to_thread(runtime.component_interface, project.output)
    yield ComponentRead(project.output)
    credentials = await asyncio.to_thread(registry_credentials, target.registry, secrets)
    token = cancel or CancelToken()

    def work(send: Callable[[PublishEvent], None]) -> PublishEvent:
        return push_component(
            project.output, imports, exports, target, credentials, on_event=send, cancel=token
        )

    async for event in _threaded(work, token.cancel):
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


# Threads -----------------------------------------------------------------------------------
async def _threaded(
    work: Callable[[Callable[[Any], None]], T], stop: Callable[[], None]
) -> AsyncIterator[Any]:
    """Run `work(send)` on a thread; yield what it sends as it sends it, then what it
    returns. If the consumer stops early, `stop()` is called and the thread is waited for,
    so no work outlives its stream. An exception from `work` is raised here."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()

    def send(event: Any) -> None:
        loop.call_soon_threadsafe(events.put_nowait, (False, event))

    def target() -> None:
        try:
            outcome: tuple[bool, Any] = (True, work(send))
        except BaseException as error:  # handed to the consumer, raised there
            outcome = (True, error)
        loop.call_soon_threadsafe(events.put_nowait, outcome)

    worker = loop.run_in_executor(None, target)
    try:
        while True:
            last, event = await events.get()
            if last and isinstance(event, BaseException):
                raise event
            yield event
            if last:
                break
    finally:
        if not worker.done():
            stop()
            with contextlib.suppress(Exception):
                await asyncio.shield(worker)
