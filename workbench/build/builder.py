"""Build a skill into a WebAssembly component with componentize-py.

`build()` is an async generator of typed events, so the CLI can print them and the TUI can
show them live. Builds are not byte-reproducible, so the cache is keyed on the inputs
(sources, WIT, world, componentize-py version), never on the output. A failed build never
touches the last good component: the new one is written beside it and renamed into place.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Literal, TypeVar

from workbench.build.diagnostics import Diagnostic, ReadableStderr, parse_build_errors
from workbench.errors import (
    BuildError,
    BuildFolderError,
    BuildTimeout,
    ToolError,
    WorkbenchError,
)
from workbench.fs import atomic_write, ensure_writable_folder
from workbench.project.model import SkillProject

#: Points the workbench at another componentize-py executable.
COMPONENTIZE_PY_ENV = "WORKBENCH_COMPONENTIZE_PY"
#: Bump when the way we call componentize-py changes, so old cache entries go stale.
_RECIPE_VERSION = "1"

T = TypeVar("T")


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


def componentize_py_command() -> list[str]:
    override = os.environ.get(COMPONENTIZE_PY_ENV)
    if override:
        return [override]
    # Prefer the one installed beside this Python (a venv's bin/), then PATH.
    beside = Path(sys.executable).parent / "componentize-py"
    found = str(beside) if beside.exists() else shutil.which("componentize-py")
    if found is None:
        raise ToolError(
            "componentize-py is not installed; install it with "
            "`pip install componentize-py==0.25.1`."
        )
    return [found]


@lru_cache(maxsize=4)
def _tool_version(command: tuple[str, ...]) -> str:
    if not os.environ.get(COMPONENTIZE_PY_ENV):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version("componentize-py")
    import subprocess

    try:
        done = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _cannot_start(error) from error
    return done.stdout.strip() or f"unknown (exit {done.returncode})"


def _cannot_start(error: BaseException) -> ToolError:
    return ToolError(
        f"componentize-py could not be started ({error}); reinstall it with "
        "`pip install componentize-py==0.25.1`."
    )


def input_key(project: SkillProject) -> str:
    """A hash of everything that decides what a build produces."""
    digest = hashlib.sha256()
    tool = _tool_version(tuple(componentize_py_command()))
    for part in (_RECIPE_VERSION, tool, project.world, project.world_module, project.module):
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


def _world_options(project: SkillProject) -> list[str]:
    """componentize-py and the options that pick the project's WIT world."""
    return [
        *componentize_py_command(),
        "-d",
        str(project.wit_path),
        "-w",
        project.world,
        "--world-module",
        project.world_module,
    ]


def build_command(project: SkillProject, output: Path) -> list[str]:
    command = [*_world_options(project), "componentize", project.module]
    for path in project.python_paths:
        command += ["-p", str(path)]
    return [*command, "-o", str(output)]


async def build(
    project: SkillProject, *, force: bool = False, timeout: float | None = None
) -> AsyncIterator[BuildEvent]:
    """Build `project` unless its component is up to date; the last event says how it went.
    A build running longer than `timeout` seconds (default: `[build] timeout`) is stopped."""
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
        command = build_command(project, partial)
    except WorkbenchError as error:
        yield BuildFailed(error, time.monotonic() - started)
        return
    except OSError as error:
        yield BuildFailed(_cannot_read(error, project), time.monotonic() - started)
        return
    try:
        ensure_writable_folder(project.output.parent)
    except OSError as error:
        yield BuildFailed(_cannot_write(error, project), time.monotonic() - started)
        return

    yield BuildStarted(tuple(command))
    env = {**os.environ, "RUST_BACKTRACE": "0"}
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=project.root,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own process group, so stopping the build stops all it started too.
            start_new_session=True,
        )
    except OSError as error:
        _discard(partial)
        yield BuildFailed(_cannot_start(error), time.monotonic() - started)
        return

    deadline = time.monotonic() + limit
    lines: asyncio.Queue[tuple[Literal["stdout", "stderr"], str] | None] = asyncio.Queue()
    pumps = [
        asyncio.create_task(_pump(process.stdout, "stdout", lines)),
        asyncio.create_task(_pump(process.stderr, "stderr", lines)),
    ]
    stderr_lines: list[str] = []
    readable = ReadableStderr(project.python_paths)
    returncode: int | None = None
    try:
        open_streams = len(pumps)
        while open_streams:
            item = await _before(deadline, lines.get())
            if item is _TIMED_OUT:
                break
            if item is None:
                open_streams -= 1
                continue
            assert isinstance(item, tuple)
            if item[0] == "stdout":
                yield BuildLog(*item)
                continue
            stderr_lines.append(item[1])
            for line in readable.feed(item[1]):
                yield BuildLog("stderr", line)
        else:
            for line in readable.flush():
                yield BuildLog("stderr", line)
            waited = await _before(deadline, process.wait())
            returncode = waited if isinstance(waited, int) else None
    finally:
        # Cancelled, timed out, or the consumer stopped listening: the build must not go
        # on alone, nor anything it started.
        for pump in pumps:
            pump.cancel()
        _kill_group(process)
        if process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), 5)
        if returncode != 0:
            _discard(partial)

    duration = time.monotonic() - started
    if returncode is None:
        yield BuildFailed(
            BuildTimeout(
                f"The build took longer than {limit:g} s and was stopped; look for module-level "
                "code that never finishes (it runs during the build), or raise `timeout` under "
                "[build] in workbench.toml."
            ),
            duration,
        )
        return
    if returncode != 0 or not partial.is_file():
        _discard(partial)
        yield BuildFailed(_build_error(project, stderr_lines, returncode or 1), duration)
        return
    try:
        os.replace(partial, project.output)
        atomic_write(_key_file(project), json.dumps({"key": key}))
    except OSError as error:
        _discard(partial)
        yield BuildFailed(_cannot_write(error, project), duration)
        return
    yield BuildSucceeded(project.output, duration, cached=False)


#: What `_before` returns when the deadline passed first.
_TIMED_OUT = object()


async def _before(deadline: float, awaitable: Awaitable[T]) -> T | object:
    try:
        return await asyncio.wait_for(awaitable, max(deadline - time.monotonic(), 0))
    except TimeoutError:
        return _TIMED_OUT


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL componentize-py's whole process group (its pid: it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


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


async def _pump(
    stream: asyncio.StreamReader | None,
    name: Literal["stdout", "stderr"],
    lines: asyncio.Queue[tuple[Literal["stdout", "stderr"], str] | None],
) -> None:
    try:
        if stream is not None:
            async for raw in stream:
                await lines.put((name, raw.decode("utf-8", errors="replace").rstrip("\r\n")))
    finally:
        lines.put_nowait(None)


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
    first = diagnostics[0].format(project.root)
    more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
    return BuildError(f"The build failed: {first}{more}; fix it and build again.", diagnostics)


async def write_bindings(project: SkillProject, target: Path | None = None) -> Path:
    """Write componentize-py's stub bindings (the `skill` package) for editors and type checkers."""
    target = target or project.root
    command = [*_world_options(project), "bindings", str(target)]
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=project.root,
            env={**os.environ, "RUST_BACKTRACE": "0"},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as error:
        raise _cannot_start(error) from error
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise _build_error(
            project, stderr.decode(errors="replace").splitlines(), process.returncode or 1
        )
    return target / project.world_module
