"""Build-if-stale then run: the one flow both front-ends use, as an async stream of events.

The run itself is blocking wasmtime work, so it happens on a thread; its output and CSI calls
come back through a queue as they happen. Cancelling the consuming task (or the token)
stops the build subprocess or interrupts the skill at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from workbench.builder import BuildEvent, BuildFailed, build
from workbench.cancel import CancelToken
from workbench.csi import CsiCall, CsiHost
from workbench.errors import WorkbenchError
from workbench.models.base import ModelProvider
from workbench.project import SkillProject
from workbench.runtime import RunLimits, RunResult, SkillRuntime, Stream


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


def limits_for(
    project: SkillProject, timeout: float | None = None, memory_limit: int | None = None
) -> RunLimits:
    return RunLimits(
        timeout=timeout or project.run.timeout,
        memory_limit=memory_limit or project.run.memory_limit,
    )


async def run_skill(
    project: SkillProject,
    request: RunRequest,
    provider: ModelProvider,
    runtime: SkillRuntime,
    *,
    cancel: CancelToken | None = None,
) -> AsyncIterator[PipelineEvent]:
    """Build the project if its inputs changed, then run it; ends with a RunFinished event,
    or with BuildFailed when there is nothing to run."""
    async for event in build(project):
        yield event
        if isinstance(event, BuildFailed):
            return
    async for event in run_component(project, request, provider, runtime, cancel=cancel):
        yield event


async def run_component(
    project: SkillProject,
    request: RunRequest,
    provider: ModelProvider,
    runtime: SkillRuntime,
    *,
    cancel: CancelToken | None = None,
) -> AsyncIterator[RunEvent]:
    """Run the project's current component without building it."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[RunEvent] = asyncio.Queue()

    def send(event: RunEvent) -> None:
        loop.call_soon_threadsafe(events.put_nowait, event)

    host = CsiHost(
        provider=provider,
        model_override=request.model_override,
        cancel=cancel or CancelToken(),
        on_call=lambda call: send(CsiCallMade(call)),
    )

    def run_blocking() -> None:
        try:
            result = runtime.run(
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
                error=WorkbenchError(
                    f"The run failed inside the workbench ({type(error).__name__}: {error}); "
                    "please report this."
                ),
            )
        send(RunFinished(result))

    yield RunStarted(request.input)
    worker = loop.run_in_executor(None, run_blocking)
    try:
        while True:
            event = await events.get()
            yield event
            if isinstance(event, RunFinished):
                break
    finally:
        if not worker.done():
            host.cancel.cancel()
            with contextlib.suppress(Exception):
                await asyncio.shield(worker)
