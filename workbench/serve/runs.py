"""Running a served skill for one request, as the kernel would: find it, check that the
route fits its kind, hand it the JSON input, and tell what came of it.

A project is run with the workbench's own flow (`flows.run`: built when its sources changed,
or run instantly); a component from a registry or a folder with `flows.run_component`.
Message-stream events are passed on the moment the skill writes them.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from workbench import flows
from workbench.build.builder import BuildFailed, is_up_to_date
from workbench.errors import ComponentError, WorkbenchError
from workbench.project.kinds import ProjectKind
from workbench.project.model import RunDefaults, SkillProject
from workbench.run.pool import RunnerPool
from workbench.run.results import RunResult
from workbench.serve import kernel
from workbench.serve.kernel import Refusal
from workbench.serve.namespaces import FileSkill, Namespaces, ProjectSkill, RegistrySkill
from workbench.serve.pull import Puller

if TYPE_CHECKING:
    from workbench.csi.backends import CsiBackends
    from workbench.models.base import ModelProvider

Route = Literal["run", "message-stream"]
#: A project whose sources changed, or a component: what a request runs.
Target = SkillProject | Path
#: How many skills run at once; more requests wait their turn.
DEFAULT_MAX_RUNS = 8

_LINE = re.compile(r"@(?P<line>\d+\.\d+)\.")


@dataclass(frozen=True)
class Resolved:
    """A skill found and ready to run: its project, or its component file."""

    namespace: str
    name: str
    target: Target
    #: "seed", "function" or "message-stream", as far as can be told before running.
    kind: str
    #: Where its documents and replies live (the project, else the first one served).
    root: Path
    defaults: RunDefaults


@dataclass(frozen=True)
class Outcome:
    """How a run ended: its result (when it ran), and the kernel's refusal when it did not
    run or did not finish (None: a success)."""

    result: RunResult | None = None
    refusal: Refusal | None = None


@dataclass
class SkillServer:
    """What every route runs skills with: the skills served, one model provider, the
    backends of each project's CSI, and the cache pulled components are kept in."""

    namespaces: Namespaces
    provider: ModelProvider
    provider_name: str
    #: The CSI backends for a project folder (its documents; the user's tool servers).
    open_backends: Callable[[Path], CsiBackends]
    #: The folder pulled components go to; None: registry skills cannot be served.
    cache: Path | None = None
    max_runs: int = DEFAULT_MAX_RUNS
    _backends: dict[Path, CsiBackends] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _puller: Puller | None = None
    _slots: asyncio.Semaphore | None = None
    _runner: RunnerPool | None = None

    @property
    def runner(self) -> RunnerPool:
        """Worker processes for as many runs as run at once, kept between requests."""
        with self._lock:
            if self._runner is None:
                self._runner = RunnerPool(idle_workers=self.max_runs)
            return self._runner

    @property
    def home(self) -> Path:
        """Where a component's run reads documents and replies: the first project, else
        the cache, else this folder."""
        first = self.namespaces.first_project
        return first.root if first else (self.cache or Path.cwd())

    def backends_for(self, root: Path, namespace: str) -> CsiBackends:
        with self._lock:
            if root not in self._backends:
                self._backends[root] = self.open_backends(root)
            backends = self._backends[root]
        return replace(backends, namespace=namespace)  # tools come from the skill's namespace

    def close(self) -> None:
        with self._lock:
            opened = list(self._backends.values())
            self._backends.clear()
        for backends in opened:
            backends.close()
        self.provider.close()
        if self._runner is not None:
            self._runner.close()

    # Finding ---------------------------------------------------------------------------------
    async def names(self) -> list[str]:
        return sorted(await asyncio.to_thread(self.namespaces.skills))

    async def resolve(self, namespace: str, name: str) -> Resolved | Refusal:
        try:
            return await asyncio.to_thread(self._resolve, namespace, name)
        except WorkbenchError as error:
            return kernel.refusal_for(error)

    def _resolve(self, namespace: str, name: str) -> Resolved | Refusal:
        skill = self.namespaces.find(namespace, name)
        if namespace in self.namespaces.broken and not isinstance(skill, ProjectSkill):
            message = kernel.misconfigured_namespace(namespace, self.namespaces.broken[namespace])
            return Refusal(kernel.INTERNAL_SERVER_ERROR, message)
        if skill is None:
            return Refusal(kernel.BAD_REQUEST, kernel.SKILL_NOT_CONFIGURED)
        if isinstance(skill, ProjectSkill):
            project = self.namespaces.project(skill)
            return Resolved(
                namespace, name, project, _project_kind(project), project.root, project.run
            )
        component = self._component(skill)
        if component is None:
            tag = skill.target.tag if isinstance(skill, RegistrySkill) else "latest"
            found = f"Error loading skill: Skill {namespace}/{name}:{tag} not found in registry."
            return Refusal(kernel.SERVICE_UNAVAILABLE, kernel.runtime_error(found))
        kind = _component_kind(component)
        return Resolved(namespace, name, component, kind, self.home, RunDefaults())

    def _component(self, skill: RegistrySkill | FileSkill) -> Path | None:
        if isinstance(skill, FileSkill):
            return skill.component if skill.component.is_file() else None
        from workbench.publish.steps import registry_credentials

        if self.cache is None:
            raise ComponentError(
                "A skill from a registry needs a folder to be kept in; serve a project (its "
                "build/ folder is used) or pass --cache DIR."
            )
        with self._lock:
            if self._puller is None:
                self._puller = Puller(self.cache)
            puller = self._puller
        credentials = skill.credentials or registry_credentials(skill.target.registry)
        return puller.component(skill.target, credentials)

    # Running ---------------------------------------------------------------------------------
    async def run(
        self, skill: Resolved, value: Any, route: Route
    ) -> AsyncIterator[flows.MessageWritten | Outcome]:
        """The skill's messages as it writes them, then how the run ended."""
        wrong_route = _wrong_route(skill.kind, route)
        if wrong_route is not None:
            yield Outcome(refusal=wrong_route)
            return
        text = _input_text(skill.kind, value)
        if isinstance(text, Refusal):
            yield Outcome(refusal=text)
            return
        request = flows.RunRequest(
            input=text,
            model_override=skill.defaults.model,
            limits=flows.limits_for(skill.defaults),
            provider=self.provider_name,
        )
        backends = self.backends_for(skill.root, skill.namespace)
        if isinstance(skill.target, SkillProject):
            events = flows.run(
                skill.target, request, self.provider, runner=self.runner, backends=backends
            )
        else:
            events = flows.run_component(
                skill.target, request, self.provider, runner=self.runner, backends=backends
            )
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_runs)
        async with self._slots:
            try:
                async for event in events:
                    if isinstance(event, BuildFailed):
                        yield Outcome(refusal=kernel.refusal_for(event.error))
                        return
                    if isinstance(event, flows.MessageWritten):
                        yield event
                    elif isinstance(event, flows.RunFinished):
                        yield Outcome(event.result, _refusal(event.result, route))
                        return
            finally:
                # A client gone: the run is stopped, not left running.
                await events.aclose()  # type: ignore[attr-defined]

    # Describing ------------------------------------------------------------------------------
    async def metadata(self, skill: Resolved) -> dict[str, Any] | Refusal:
        """The kernel's `/metadata` JSON for the skill (a stale project is built first: the
        metadata is the component's own). Only a function skill says anything of itself."""
        if skill.kind != "function":
            return _no_metadata(skill.kind)
        try:
            if isinstance(skill.target, SkillProject) and not is_up_to_date(skill.target):
                async for event in flows.build(skill.target):
                    if isinstance(event, BuildFailed):
                        return kernel.refusal_for(event.error)
            description = await flows.describe(skill.target)
        except WorkbenchError as error:
            return kernel.refusal_for(error)
        return kernel_metadata(description)


def kernel_metadata(description: flows.SkillDescription) -> dict[str, Any]:
    """`SkillMetadataV1Representation`: a 0.3 skill is version "0.3", 0.4 and 0.5 are "0.4"
    (both have 0.4's manifest); the seed, 0.2 and message streams have none (`V0`). The
    kernel 0.15 also calls a message stream's type "function" (its manifest is `V0`); here
    it is "message_stream", as the field means."""
    metadata = description.metadata
    found = _LINE.search(description.world)
    line = found.group("line") if found else None
    version = {"0.3": "0.3", "0.4": "0.4", "0.5": "0.4"}.get(line or "")
    if description.kind != "function" or metadata is None or version is None:
        return _no_metadata(description.kind)
    return {
        "description": metadata.description,
        "version": version,
        "skill_type": "function",
        "input_schema": metadata.input_schema,
        "output_schema": metadata.output_schema,
    }


def _no_metadata(kind: str) -> dict[str, Any]:
    """The kernel's answer for a `V0` manifest (the skill type said as it is)."""
    return {
        "description": None,
        "version": None,
        "skill_type": "message_stream" if kind == "message-stream" else "function",
        "input_schema": None,
        "output_schema": None,
    }


def output_body(result: RunResult) -> str:
    """The skill's JSON output verbatim; the seed's text as a JSON string, as kernels
    before 0.4 wrapped it (`json!(result)`)."""
    if result.skill_kind == "seed":
        return json.dumps(result.output, ensure_ascii=False)
    return result.output or "null"


def _project_kind(project: SkillProject) -> str:
    if project.kind is ProjectKind.SEED:
        return "seed"
    return "message-stream" if project.world == "message-stream-skill" else "function"


def _component_kind(component: Path) -> str:
    from workbench.run.component_names import component_names
    from workbench.run.worlds import detect_world

    imports, exports = component_names(component)
    return detect_world(imports, dict.fromkeys(exports)).kind


def _wrong_route(kind: str | None, route: Route) -> Refusal | None:
    if route == "run" and kind == "message-stream":
        return Refusal(kernel.BAD_REQUEST, kernel.IS_MESSAGE_STREAM)
    if route == "message-stream" and kind in ("function", "seed"):
        return Refusal(kernel.BAD_REQUEST, kernel.IS_FUNCTION)
    return None


def _input_text(kind: str, value: Any) -> str | Refusal:
    """What the skill's `run` is given: the JSON input; the seed's world takes a string, and
    kernels before 0.4 refused any other JSON value for it."""
    if kind == "seed":
        if not isinstance(value, str):
            message = kernel.invalid_input("Invalid input, string expected.")
            return Refusal(kernel.BAD_REQUEST, message)
        return value
    return json.dumps(value, ensure_ascii=False)


def _refusal(result: RunResult, route: Route) -> Refusal | None:
    """Why the run is no success in the kernel's words: it failed, or the skill turned out
    to be of the other kind (a project's sources may say otherwise than its last build)."""
    wrong = _wrong_route(result.skill_kind, route)
    if wrong is not None:
        return wrong
    if result.error is not None:
        return kernel.refusal_for(result.error)
    return None
