"""`workbench env`: make an SDK project's environment, `<project>/.venv` with a Python 3.11
and pharia-skill (the version the project pins, else the latest), once; later calls find
it and reuse it.

`make_environment()` is an async generator of typed events, pip's output line by line
among them. It is stopped by closing the stream or by its CancelToken; either way python
and pip are killed with everything they started. A failure raises EnvironmentFailed;
another `workbench env` finishes what a stopped one began.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.build.environment import (
    SDK_PYTHON,
    VENV_DIR,
    Environment,
    find_environment,
    read_environment,
    require_environment,
    sdk_python,
)
from workbench.build.process import Subprocess
from workbench.cancel import CancelToken
from workbench.errors import EnvironmentCancelled, EnvironmentFailed, UsageError
from workbench.project.model import SkillProject


@dataclass(frozen=True)
class EnvironmentStep:
    """A step begins: what it does, in words, and the command that does it."""

    description: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class EnvironmentLog:
    """One line of the step's output (pip's progress)."""

    line: str


@dataclass(frozen=True)
class EnvironmentReady:
    environment: Environment
    #: False when it was there already and nothing was installed.
    created: bool
    duration: float


EnvironmentEvent = EnvironmentStep | EnvironmentLog | EnvironmentReady


async def make_environment(
    project: SkillProject, *, cancel: CancelToken | None = None, python: Path | None = None
) -> AsyncIterator[EnvironmentEvent]:
    """Make (or find) the environment `project` builds with; the last event is
    EnvironmentReady. `python` is the Python 3.11 to make it with (default: `sdk_python()`)."""
    started = time.monotonic()
    token = cancel or CancelToken()
    if not project.is_sdk:
        raise UsageError(
            f"{project.root} is a {project.kind} project, built with the workbench's own "
            "componentize-py; `workbench env` is for projects that use pharia-skill."
        )
    existing = find_environment(project)
    if existing is not None:
        yield EnvironmentReady(existing, created=False, duration=time.monotonic() - started)
        return
    if project.environment is not None:
        require_environment(project)  # says the named one lacks pharia-skill
    target = project.root / VENV_DIR
    _check_target(target)

    interpreter = python or sdk_python()
    make = (str(interpreter), "-m", "venv", str(target))
    yield EnvironmentStep(f"Making {target} with Python {'.'.join(map(str, SDK_PYTHON))}", make)
    async for event in _run(make, project.root, token):
        yield event

    requirement = project.sdk_requirement
    install = (
        str(target / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        requirement,
    )
    yield EnvironmentStep(f"Installing {requirement} (with its componentize-py)", install)
    async for event in _run(install, project.root, token):
        yield event

    made = read_environment(target)
    if made is None or not made.is_complete:
        raise EnvironmentFailed(
            f"pip finished, but {target} has no pharia-skill with its componentize-py; check "
            f"that `{requirement}` names pharia-skill, then run `workbench env` again."
        )
    yield EnvironmentReady(made, created=True, duration=time.monotonic() - started)


def _check_target(target: Path) -> None:
    """`.venv` is made here only if it is missing, empty, or a Python 3.11 environment
    (one a stopped `workbench env` began, or one without pharia-skill yet)."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise EnvironmentFailed(
            f"{target} is not a folder (a link or a file), and builds need a real environment "
            "folder there; move it away and run `workbench env` again."
        )
    if not target.exists() or not any(target.iterdir()):
        return
    existing = read_environment(target)
    if existing is None:
        raise EnvironmentFailed(
            f"{target} is not a virtual environment; move it away and run `workbench env` again."
        )
    wanted = "{}.{}".format(*SDK_PYTHON)
    if existing.python_version.split(".")[:2] != wanted.split("."):
        raise EnvironmentFailed(
            f"{target} uses Python {existing.python_version}, but pharia-skill needs Python "
            f"{wanted}; move it away and run `workbench env` again."
        )


async def _run(
    command: Sequence[str], cwd: Path, cancel: CancelToken
) -> AsyncIterator[EnvironmentLog]:
    """Run one step, streaming its lines; raise when it fails or is cancelled."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    try:
        process = await Subprocess.start(command, cwd=cwd, env=env)
    except OSError as error:
        raise EnvironmentFailed(
            f"{command[0]} could not be started ({error.strerror or error}); check that "
            "Python 3.11 is installed with its venv module."
        ) from None
    remove = cancel.add_listener(process.kill)
    last = ""
    code: int | None = None
    try:
        async for _, line in process.lines():
            if line.strip():
                last = line.strip()
            yield EnvironmentLog(line)
        code = await process.wait()
    finally:
        remove()
        await process.stop()
    if cancel.is_cancelled:
        raise EnvironmentCancelled(
            "Making the environment was stopped; run `workbench env` again to finish it."
        )
    if code != 0:
        tool = "pip" if "pip" in command else "python -m venv"
        raise EnvironmentFailed(
            f"{tool} failed (exit code {code}): {last or 'it said nothing'}; fix that (the "
            "network, the pinned pharia-skill version) and run `workbench env` again."
        )
