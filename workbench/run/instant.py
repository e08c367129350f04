"""Instant runs: an edit reaches the output in milliseconds, still as a real component.

A development runtime is a component built once with componentize-py for the skill's world,
whose main module (loaders/workbench_loader.py) imports the skill's own modules afresh on
each run from the run's input: the workbench wraps the input in an envelope that carries
them. The skill sees no file system, environment or network, as in a component run, and
runs under the same host, limits and CSI. Its dependencies (`python-path` folders, the SDK
and its WASI wheels) are baked into the runtime and imported there at build time; a change
to them makes a new runtime (its key changes), a change to the skill's own modules never does.

Where the two paths can differ: a module's top-level code runs when the component is built
in a real build and at run time in an instant run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from importlib import resources
from pathlib import Path

from workbench.build.builder import BuildEvent, BuildFailed, BuildLog, BuildStarted, BuildSucceeded
from workbench.build.commands import (
    build_command,
    componentize_py_command,
    tool_env,
    tool_version,
)
from workbench.build.diagnostics import Diagnostic, parse_build_errors
from workbench.build.environment import find_environment
from workbench.build.exclusive import one_at_a_time
from workbench.build.process import Subprocess
from workbench.errors import BuildError
from workbench.fs import atomic_write, ensure_writable_folder, walk_project
from workbench.project.kinds import ProjectKind
from workbench.project.model import BUILD_DIR, SkillProject
from workbench.run.loaders import LOADER_MODULE

#: Bump when the loader or the way it is built changes: older runtimes go stale.
LOADER_VERSION = "1"
RUNTIME_DIR = "dev-runtime"

_SEED = """import skill


class Skill(skill.Skill):
    def run(self, in_: str) -> str:
        module, given = _open(in_)
        return module.Skill().run(given)
"""
_FUNCTION = """from {bindings} import exports


class SkillHandler(exports.SkillHandler):
    def run(self, input: bytes) -> bytes:
        module, given = _open(input.decode("utf-8"))
        return module.SkillHandler().run(given.encode("utf-8"))

    def metadata(self):
        raise RuntimeError("A development runtime does not describe the skill.")
"""
_MESSAGE_STREAM = """from {bindings} import exports


class MessageStream(exports.MessageStream):
    def run(self, input: bytes, output) -> None:
        module, given = _open(input.decode("utf-8"))
        return module.MessageStream().run(given.encode("utf-8"), output)
"""


def _kind(project: SkillProject) -> str:
    if project.kind is ProjectKind.SEED:
        return "seed"
    return "message-stream" if project.world == "message-stream-skill" else "function"


def loader_source(project: SkillProject) -> str:
    """The runtime's main module for the project's world."""
    kind = _kind(project)
    bindings = "pharia_skill.bindings" if project.is_sdk else project.world_module
    preload = ["pharia_skill", "pydantic"] if project.is_sdk else [project.world_module]
    body = {
        "seed": _SEED,
        "function": _FUNCTION.format(bindings=bindings),
        "message-stream": _MESSAGE_STREAM.format(bindings=bindings),
    }[kind]
    roots = [f"/{index}" for index in range(1, len(project.python_paths))]
    template = resources.files("workbench.run.loaders").joinpath(f"{LOADER_MODULE}.py.template")
    return (
        template.read_text(encoding="utf-8")
        .replace("@KIND@", kind)
        .replace("@PRELOAD@", json.dumps(preload))
        .replace("@DEPENDENCY_ROOTS@", json.dumps(roots))
        .replace("@CLASS@", body)
    )


def own_sources(project: SkillProject) -> dict[str, str]:
    """The skill's own modules, by the path they have in the sandbox (`/0/...`): the .py
    files of the project folder that are not dependencies (python-path folders)."""
    dependencies = project.python_paths[1:]
    sources = {}
    for file in walk_project(project.root, (".py",)):
        if any(file.is_relative_to(folder) for folder in dependencies):
            continue
        relative = file.relative_to(project.root).as_posix()
        if relative.split("/")[0] in (project.world_module, BUILD_DIR):
            continue  # stub bindings: the runtime has its own
        sources[f"/0/{relative}"] = file.read_text(encoding="utf-8", errors="replace")
    return sources


def runtime_key(project: SkillProject) -> str:
    """A hash of everything that goes into the runtime: the world, the tools, the
    dependencies; never the skill's own modules."""
    digest = hashlib.sha256()
    environment = find_environment(project) if project.is_sdk else None
    tool = environment.describe() if environment else tool_version(tuple(componentize_py_command()))
    parts = [LOADER_VERSION, tool, project.world, project.world_module, *project.features]
    for part in parts:
        digest.update(part.encode() + b"\0")
    digest.update(loader_source(project).encode())
    if project.wit_path is not None:
        for file in (
            sorted(project.wit_path.glob("*.wit"))
            if project.wit_path.is_dir()
            else [project.wit_path]
        ):
            digest.update(file.read_bytes())
    for index, folder in enumerate(project.python_paths[1:], 1):
        for file in walk_project(folder):
            stat = file.stat()
            relative = file.relative_to(folder).as_posix()
            digest.update(f"{index}/{relative}:{stat.st_size}:{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def runtime_path(project: SkillProject) -> Path:
    name = f"{project.module}-{runtime_key(project)[:16]}.wasm"
    return project.root / BUILD_DIR / RUNTIME_DIR / name


def syntax_errors(project: SkillProject, sources: dict[str, str]) -> list[Diagnostic]:
    """Python's own compiler on each of the skill's modules: milliseconds, before anything."""
    found = []
    for origin, text in sources.items():
        try:
            compile(text, origin, "exec", dont_inherit=True)
        except SyntaxError as error:
            path = project.root / origin.removeprefix("/0/")
            found.append(Diagnostic(f"SyntaxError: {error.msg}", path, error.lineno, error.offset))
    return found


def envelope(project: SkillProject, sources: dict[str, str], text: str) -> str:
    """What the runtime's `run` is given: the skill's modules and the user's input."""
    return json.dumps({"module": project.module, "sources": sources, "input": text})


def build_runtime(project: SkillProject) -> AsyncIterator[BuildEvent]:
    """Build the project's development runtime if it does not exist yet (componentize-py,
    like a build); BuildSucceeded names it. One build of it at a time: the app prepares it
    when a project opens, while F5 may need it."""
    target = runtime_path(project)
    return one_at_a_time(target, _build_runtime(project, target))


async def _build_runtime(project: SkillProject, target: Path) -> AsyncIterator[BuildEvent]:
    started = time.monotonic()
    if target.is_file():
        yield BuildSucceeded(target, 0.0, cached=True)
        return
    folder = target.with_suffix("")
    ensure_writable_folder(folder)
    atomic_write(folder / f"{LOADER_MODULE}.py", loader_source(project))
    partial = target.with_name(target.name + ".part")
    loader = replace(project, module=LOADER_MODULE, output=partial)
    command = build_command(loader, partial)
    command[command.index("-p") + 1] = str(folder)  # the loader's folder in the root's place
    yield BuildStarted(tuple(command))
    environment = find_environment(project) if project.is_sdk else None
    # The builder's own tool runner: its own process group, lines as they come, a deadline,
    # and nothing left running if this stream is closed or cancelled.
    process = await Subprocess.start(command, cwd=folder, env=tool_env(environment))
    stderr: list[str] = []
    try:
        async for stream, line in process.lines(started + project.build_timeout):
            if stream == "stderr":
                stderr.append(line)
            yield BuildLog(stream, line)
        returncode = (
            None if process.timed_out else await process.wait(started + project.build_timeout)
        )
    finally:
        await process.stop()
    if returncode != 0 or not partial.is_file():
        text = "\n".join(stderr)
        diagnostics = parse_build_errors(text, project.python_paths, project.root)
        last = text.strip().splitlines()[-1] if text.strip() else f"exit {returncode}"
        yield BuildFailed(
            BuildError(
                f"The development runtime for instant runs did not build ({last}); run with "
                "--component, and report it if the component builds.",
                diagnostics,
            ),
            time.monotonic() - started,
        )
        return
    partial.replace(target)
    for stale in target.parent.glob(f"{project.module}-*.wasm"):
        if stale != target:
            stale.unlink(missing_ok=True)
    yield BuildSucceeded(target, time.monotonic() - started, cached=False)
