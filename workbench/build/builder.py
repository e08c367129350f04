"""Build a skill into a WebAssembly component with componentize-py.

`build()` is an async generator of typed events, so the CLI can print them and the TUI can
show them live. Builds are not byte-reproducible, so the cache is keyed on the inputs
(sources, WIT, world, componentize-py version; for an SDK project its environment's
componentize-py and pharia-skill versions), never on the output. A failed build never
touches the last good component: the new one is written beside it and renamed into place.

Seed and wit projects build with the workbench's own componentize-py; SDK projects with
their environment's, activated, after pydantic-core's WASI wheel is in `wasi_deps/` (see
`sdk.py`), exactly as `pharia-skill build` does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from workbench.build.commands import (
    COMPONENTIZE_PY_ENV,
    build_command,
    cannot_start,
    componentize_py_command,
    tool_env,
    tool_version,
    world_options,
)
from workbench.build.diagnostics import Diagnostic, ReadableStderr, parse_build_errors
from workbench.build.environment import require_environment
from workbench.build.exclusive import one_at_a_time
from workbench.build.process import Subprocess
from workbench.build.sdk import prepare_wasi_deps, sdk_hint, wasi_pydantic_core
from workbench.errors import (
    BuildError,
    BuildFolderError,
    BuildTimeout,
    ToolError,
    UsageError,
    WorkbenchError,
)
from workbench.fs import atomic_write, ensure_writable_folder
from workbench.project.model import SkillProject

__all__ = [
    "COMPONENTIZE_PY_ENV",
    "BuildEvent",
    "BuildFailed",
    "BuildLog",
    "BuildStarted",
    "BuildSucceeded",
    "build",
    "build_command",
    "componentize_py_command",
    "input_key",
    "is_up_to_date",
    "write_bindings",
]

#: Bump when the way we call componentize-py changes, so old cache entries go stale.
_RECIPE_VERSION = "1"
#: The SDK's recipe (`pharia-skill build`), versioned on its own.
_SDK_RECIPE_VERSION = "sdk-1"


@dataclass(frozen=True)
class BuildStarted:
    command: tuple[str, ...]


@dataclass(frozen=True)
class BuildLog:
    stream: Literal["stdout", "stderr"]
    line: str


@dataclass(frozen=True)
class BuildSucceeded:
    component: Path
    duration: float
    #: True when the inputs were unchanged and no build ran.
    cached: bool


@dataclass(frozen=True)
class BuildFailed:
    error: WorkbenchError
    duration: float

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.error.diagnostics if isinstance(self.error, BuildError) else ()


BuildEvent = BuildStarted | BuildLog | BuildSucceeded | BuildFailed


def input_key(project: SkillProject) -> str:
    """A hash of everything that decides what a build produces. For an SDK project that
    includes its environment's versions (NoEnvironment when it has none)."""
    digest = hashlib.sha256()
    if project.is_sdk:
        environment = require_environment(project)
        tools = [
            _SDK_RECIPE_VERSION,
            environment.componentize_py or "",
            environment.pharia_skill or "",
            wasi_pydantic_core(environment),
        ]
    else:
        tools = [_RECIPE_VERSION, tool_version(tuple(componentize_py_command()))]
    parts = [*tools, project.world, project.world_module, project.module]
    if project.features:  # only then, so keys made before features existed still hold
        parts.append("features=" + ",".join(project.features))
    for part in parts:
        digest.update(part.encode() + b"\0")
    for file in project.source_files():
        relative = _key_path(file, project)
        digest.update(relative.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _key_path(file: Path, project: SkillProject) -> str:
    for index, base in enumerate(project.python_paths):
        if file.is_relative_to(base):
            return f"{index}/{file.relative_to(base).as_posix()}"
    return file.name


def _key_file(project: SkillProject) -> Path:
    return project.output.with_name(project.output.name + ".inputs")


def _recorded_key(project: SkillProject) -> str | None:
    """The input key the component on disk was built from, if there is such a component."""
    key_file = _key_file(project)
    if not (project.output.is_file() and key_file.is_file()):
        return None
    try:
        return json.loads(key_file.read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError):
        return None


def is_up_to_date(project: SkillProject) -> bool:
    """True when the component on disk was built from exactly the current inputs."""
    return _recorded_key(project) == input_key(project)


@dataclass
class _Step:
    """How one tool run ended: its exit code (None: stopped at the deadline) and stderr."""

    returncode: int | None = None
    stderr: list[str] = field(default_factory=list)


async def _run_step(
    command: Sequence[str],
    project: SkillProject,
    env: dict[str, str],
    deadline: float,
    step: _Step,
    readable: ReadableStderr | None = None,
) -> AsyncIterator[BuildLog]:
    """Run one tool, its lines as BuildLog events; how it ended goes into `step`."""
    process = await Subprocess.start(command, cwd=project.root, env=env)
    try:
        async for stream, line in process.lines(deadline):
            if stream == "stderr":
                step.stderr.append(line)
            if stream == "stdout" or readable is None:
                yield BuildLog(stream, line)
                continue
            for shown in readable.feed(line):
                yield BuildLog("stderr", shown)
        if not process.timed_out:
            for shown in readable.flush() if readable else []:
                yield BuildLog("stderr", shown)
            step.returncode = await process.wait(deadline)
    finally:
        # Cancelled, timed out, or the consumer stopped listening: the tool must not go
        # on alone, nor anything it started.
        await process.stop()


def build(
    project: SkillProject, *, force: bool = False, timeout: float | None = None
) -> AsyncIterator[BuildEvent]:
    """Build `project` unless its component is up to date; the last event says how it went.
    A build running longer than `timeout` seconds (default: `[build] timeout`) is stopped.
    A second build of the same component waits for the first (build/exclusive.py)."""
    return one_at_a_time(project.output, _build(project, force, timeout))


async def _build(
    project: SkillProject, force: bool, timeout: float | None
) -> AsyncIterator[BuildEvent]:
    started = time.monotonic()
    limit = timeout if timeout is not None else project.build_timeout
    # A fixed name, so the command shown is the same every time; the rename below makes
    # the new component appear whole or not at all.
    partial = project.output.with_name(f".{project.output.name}.partial")
    try:
        key = input_key(project)
        if not force and _recorded_key(project) == key:
            yield BuildSucceeded(project.output, time.monotonic() - started, cached=True)
            return
        environment = require_environment(project) if project.is_sdk else None
        command = build_command(project, partial)
    except WorkbenchError as error:
        yield BuildFailed(error, time.monotonic() - started)
        return
    except OSError as error:
        yield BuildFailed(_cannot_read(error, project), time.monotonic() - started)
        return
    try:
        ensure_writable_folder(project.output.parent)
        wasi_deps = prepare_wasi_deps(project, environment) if environment else None
    except OSError as error:
        yield BuildFailed(_cannot_write(error, project), time.monotonic() - started)
        return
    except WorkbenchError as error:
        yield BuildFailed(error, time.monotonic() - started)
        return

    yield BuildStarted(tuple(command))
    env = tool_env(environment)
    deadline = time.monotonic() + limit
    succeeded = False
    try:
        if wasi_deps is not None:
            yield BuildLog("stdout", f"Installing {wasi_deps[-1]} for WASI into wasi_deps/")
            pip = _Step()
            async for event in _run_step(wasi_deps, project, env, deadline, pip):
                yield event
            if pip.returncode != 0:
                yield BuildFailed(_wasi_deps_error(project, pip, limit), _since(started))
                return
        componentize = _Step()
        readable = ReadableStderr(project.python_paths)
        async for event in _run_step(command, project, env, deadline, componentize, readable):
            yield event
        returncode = componentize.returncode
        if returncode is None:
            yield BuildFailed(_timeout(limit), _since(started))
            return
        if returncode != 0 or not partial.is_file():
            yield BuildFailed(
                _build_error(project, componentize.stderr, returncode or 1), _since(started)
            )
            return
        try:
            os.replace(partial, project.output)
            atomic_write(_key_file(project), json.dumps({"key": key}))
        except OSError as error:
            yield BuildFailed(_cannot_write(error, project), _since(started))
            return
        succeeded = True
        yield BuildSucceeded(project.output, _since(started), cached=False)
    except OSError as error:
        yield BuildFailed(cannot_start(error), _since(started))
    finally:
        if not succeeded:
            _discard(partial)


def _since(started: float) -> float:
    return time.monotonic() - started


def _timeout(limit: float) -> BuildTimeout:
    return BuildTimeout(
        f"The build took longer than {limit:g} s and was stopped; look for module-level "
        "code that never finishes (it runs during the build), or raise `timeout` under "
        "[build] in workbench.toml."
    )


def _wasi_deps_error(project: SkillProject, pip: _Step, limit: float) -> WorkbenchError:
    if pip.returncode is None:
        return _timeout(limit)
    last = next((line.strip() for line in reversed(pip.stderr) if line.strip()), "")
    return ToolError(
        f"pip could not install pydantic-core for WASI into {project.wasi_deps} (exit code "
        f"{pip.returncode}){': ' + last if last else ''}; the build log has pip's output, "
        "and `workbench env` can repair the environment."
    )


def _discard(path: Path) -> None:
    """Remove a partial component; a folder that cannot be written has none to remove."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _cannot_read(error: OSError, project: SkillProject) -> BuildFolderError:
    where = error.filename or project.root
    return BuildFolderError(
        f"Cannot read {where} to build the skill ({error.strerror or error}); make the "
        "project's files readable (and regular files, not pipes or devices)."
    )


def _cannot_write(error: OSError, project: SkillProject) -> BuildFolderError:
    return BuildFolderError(
        f"Cannot write the component into {project.output.parent} ({error.strerror or error}); "
        "make that folder writable, or build elsewhere with `workbench build --output FILE`."
    )


def _build_error(
    project: SkillProject, stderr_lines: Sequence[str], returncode: int
) -> WorkbenchError:
    stderr = "\n".join(stderr_lines)
    if "AssertionError:" not in stderr and "Caused by:" not in stderr:
        last = next((line.strip() for line in reversed(stderr_lines) if line.strip()), "")
        said = f": {last}" if last else ""
        return ToolError(
            f"componentize-py crashed (exit code {returncode}){said}; the build "
            "log has its full output, and reinstalling componentize-py may help."
        )
    diagnostics = parse_build_errors(stderr, project.python_paths, project.root)
    hint = sdk_hint(project, stderr) if project.is_sdk else None
    if hint is not None:
        return BuildError(f"The build failed: {hint}", diagnostics)
    first = diagnostics[0].format(project.root)
    more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
    return BuildError(f"The build failed: {first}{more}; fix it and build again.", diagnostics)


async def write_bindings(project: SkillProject, target: Path | None = None) -> Path:
    """Write componentize-py's stub bindings (the `skill` package) for editors and type checkers."""
    if project.is_sdk:
        raise UsageError(
            f"{project.root} uses pharia-skill, which ships its own bindings "
            "(`pharia_skill.bindings`); point your editor at the project's environment instead."
        )
    target = target or project.root
    command = [*world_options(project), "bindings", str(target)]
    try:
        process = await Subprocess.start(command, cwd=project.root, env=tool_env(None))
    except OSError as error:
        raise cannot_start(error) from error
    step = _Step()
    try:
        step.stderr = [line async for stream, line in process.lines() if stream == "stderr"]
        step.returncode = await process.wait()
    finally:
        await process.stop()
    if step.returncode != 0:
        raise _build_error(project, step.stderr, step.returncode or 1)
    return target / project.world_module
