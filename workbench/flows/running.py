"""The run flows: run a project (built first) or a component file, and describe a component."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.build.builder import BuildEvent, BuildFailed, BuildSucceeded, is_up_to_date
from workbench.build.builder import build as build_component
from workbench.build.environment import find_environment
from workbench.cancel import CancelToken
from workbench.errors import BuildError, InputRejected, InternalError, WorkbenchError
from workbench.flows.threads import threaded
from workbench.project.model import RunDefaults, SkillProject
from workbench.run import instant
from workbench.run.results import RunLimits, RunResult

# The runner (wasmtime), the CSI host (the model providers) and the skill's input checks
# (jsonschema) are imported where a run needs them: a syntax error, a build or a publish
# is said without them, in a fresh process that is most of its time.
if TYPE_CHECKING:
    from workbench.csi.backends import CsiBackends
    from workbench.csi.record import CsiCall
    from workbench.models.base import ModelProvider
    from workbench.run.captured_output import Stream
    from workbench.run.pool import RunnerPool
    from workbench.run.skill_io import SkillMetadata


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
class MessageWritten:
    """One item a message-stream skill wrote, as the kernel streams it:
    `{"type": "begin"|"append"|"reasoning"|"end", ...}`."""

    event: dict[str, Any]


@dataclass(frozen=True)
class RunFinished:
    result: RunResult


RunEvent = RunStarted | SkillOutput | CsiCallMade | MessageWritten | RunFinished
PipelineEvent = BuildEvent | RunEvent


@dataclass(frozen=True)
class RunRequest:
    input: str
    model_override: str | None = None
    limits: RunLimits = field(default_factory=RunLimits)
    #: The provider's name, for the record (history, JSON); the provider itself is passed in.
    provider: str | None = None


def limits_for(
    defaults: SkillProject | RunDefaults,
    timeout: float | None = None,
    memory_limit: int | None = None,
    max_prints: int | None = None,
) -> RunLimits:
    """The limits the user gave, else the project's (or, for a component file, the
    workbench's defaults)."""
    run = defaults.run if isinstance(defaults, SkillProject) else defaults
    return RunLimits(
        timeout=timeout or run.timeout,
        memory_limit=memory_limit or run.memory_limit,
        max_prints=max_prints or run.max_prints,
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
    component: bool = False,
    backends: CsiBackends | None = None,
) -> AsyncIterator[PipelineEvent]:
    """Run the project; ends with a RunFinished event, or with BuildFailed when there is
    nothing to run. When its sources changed since its component was built, it runs
    instantly in the development runtime (run/instant.py; a syntax error is said first);
    with `component`, or when that runtime cannot be built, the component is built and run."""
    if not component and not is_up_to_date(project):
        sources = instant.own_sources(project)
        problems = instant.syntax_errors(project, sources)
        if problems:
            first = problems[0]
            error = BuildError(f"{first.format(project.root)}; fix it and run again.", problems)
            yield BuildFailed(error, 0.0)
            return
        runtime: Path | None = None
        async for event in instant.build_runtime(project):
            if isinstance(event, BuildSucceeded):
                runtime = event.component
                if event.cached:
                    continue  # nothing to say: the runtime was there
            yield event
        if runtime is not None:
            async for event in run_component(
                project,
                request,
                provider,
                runner=runner,
                cancel=cancel,
                instant_runtime=(runtime, sources),
                backends=backends,
            ):
                yield event
            return
    async for event in build_component(project):
        yield event
        if isinstance(event, BuildFailed):
            return
    async for event in run_component(
        project, request, provider, runner=runner, cancel=cancel, backends=backends
    ):
        yield event


@dataclass(frozen=True)
class RunTarget:
    """What a run runs: a project's component, or any component file on its own."""

    component: Path
    #: The project's `-p` paths, to map the skill's sandbox paths back (none for a file).
    sandbox_paths: tuple[Path, ...] = ()
    expected_world: str | None = None

    @classmethod
    def of(cls, target: SkillProject | Path) -> RunTarget:
        if isinstance(target, Path):
            return cls(target)
        paths = tuple(target.python_paths)
        environment = find_environment(target) if target.is_sdk else None
        if environment is not None:  # the activated environment's packages come next
            paths += (environment.site_packages,)
        return cls(target.output, paths, target.qualified_world)


async def run_component(
    target: SkillProject | Path,
    request: RunRequest,
    provider: ModelProvider,
    *,
    runner: RunnerPool | None = None,
    cancel: CancelToken | None = None,
    instant_runtime: tuple[Path, dict[str, str]] | None = None,
    backends: CsiBackends | None = None,
) -> AsyncIterator[RunEvent]:
    """Run a project's current component (without building it), or a component file, in a
    worker process (the given pool, else the process's shared one), so that a time limit or
    a cancel can stop even a skill blocked in a WASI call: the worker is killed and replaced.
    An input the skill's input schema refuses is refused before the run. With
    `instant_runtime` (a development runtime and the skill's modules) it runs instantly.
    `backends` serve the document index and tools (flows/backends.py); none by default."""
    from workbench.csi.backends import CsiBackends
    from workbench.csi.host import CsiHost
    from workbench.run.pool import shared_pool

    runner = runner or shared_pool()
    where = RunTarget.of(target)
    component, text = where.component, request.input
    if instant_runtime is not None and isinstance(target, SkillProject):
        component = instant_runtime[0]
        text = instant.envelope(target, instant_runtime[1], request.input)
    host = CsiHost(
        provider=provider,
        model_override=request.model_override,
        cancel=cancel or CancelToken(),
        backends=backends or CsiBackends(),
    )

    def work(send: Callable[[RunEvent], None]) -> RunEvent:
        host.on_call = lambda call: send(CsiCallMade(call))
        try:
            refusal = _input_refusal(runner, where.component, request.input, instant_runtime)
            if refusal is not None:
                result = RunResult(input=request.input, component=where.component, error=refusal)
            else:
                result = runner.run(
                    component,
                    text,
                    host,
                    limits=request.limits,
                    expected_world=where.expected_world,
                    sandbox_paths=where.sandbox_paths,
                    on_output=lambda stream, text: send(SkillOutput(stream, text)),
                    on_message=lambda event: send(MessageWritten(event)),
                )
        except Exception as error:  # a bug of ours: still end the stream with a result
            result = RunResult(
                input=request.input,
                component=where.component,
                error=InternalError(
                    f"The run failed inside the workbench ({type(error).__name__}: {error}); "
                    "please report this."
                ),
            )
        finally:
            host.close_streams()  # a stopped skill never dropped its model streams
        result.provider = request.provider or provider.name
        if instant_runtime is not None:
            result.input, result.path = request.input, "instant"
        return RunFinished(result)

    yield RunStarted(request.input)
    async for event in threaded(work, host.cancel.cancel):
        yield event


def _input_refusal(
    runner: RunnerPool,
    component: Path,
    text: str,
    instant_runtime: tuple[Path, dict[str, str]] | None = None,
) -> WorkbenchError | None:
    """Why the skill's own input schema refuses `text`, or None (also when it has none, or
    its metadata cannot be read: the run then says what is wrong). An instant run takes
    its world from the runtime and the schema from the last component, if there is one."""
    from workbench.run.component_names import component_names
    from workbench.run.skill_io import check_input, encode_input
    from workbench.run.worlds import detect_world

    if instant_runtime is not None:
        try:
            imports, exports = component_names(instant_runtime[0])
            encode_input(detect_world(imports, dict.fromkeys(exports)), text)
        except WorkbenchError as error:
            return error
    try:
        metadata = skill_metadata(component, runner)
    except WorkbenchError:
        return None
    if metadata is None or metadata.input_schema is None:
        return None
    try:
        check_input(text, metadata.input_schema)
    except InputRejected as error:
        return error
    return None


@dataclass(frozen=True)
class SkillDescription:
    """What a component is: its world, the kernels that load it, what it says of itself."""

    component: Path
    world: str
    kind: str
    kernels: str
    metadata: SkillMetadata | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": str(self.component),
            "world": self.world,
            "skill_kind": self.kind,
            "kernels": self.kernels,
            "metadata": self.metadata.to_dict() if self.metadata else None,
        }


_described: dict[tuple[Path, int, int], SkillMetadata | None] = {}


def skill_metadata(component: Path, runner: RunnerPool | None = None) -> SkillMetadata | None:
    """The skill's metadata, read once per component file (in a worker: a skill's metadata()
    that hangs is killed)."""
    try:
        stat = component.stat()
    except OSError:
        return None
    key = (component.resolve(), stat.st_mtime_ns, stat.st_size)
    if key not in _described:
        from workbench.run.pool import shared_pool

        _described[key] = (runner or shared_pool()).metadata(component)
    return _described[key]


async def describe(
    target: SkillProject | Path, runner: RunnerPool | None = None
) -> SkillDescription:
    """What the project's current component (or a component file) is; raises ComponentError
    when it is missing or not a skill. Its world is read from the binary (no compile); what
    the skill says about itself, from a worker."""
    from workbench.run.component_names import component_names
    from workbench.run.worlds import detect_world

    component = RunTarget.of(target).component
    imports, exports = await asyncio.to_thread(component_names, component)
    world = detect_world(imports, {name: None for name in exports})
    metadata = await asyncio.to_thread(skill_metadata, component, runner)
    return SkillDescription(component, world.name, world.kind, world.kernels, metadata)
