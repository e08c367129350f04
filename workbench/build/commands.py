"""The commands a build runs: componentize-py (the workbench's own, or an SDK project's
environment's) with the options that pick the project's world, and the environment it
runs in."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from workbench.build.environment import VIRTUAL_ENV, Environment, require_environment
from workbench.build.sdk import sdk_build_command
from workbench.errors import ToolError
from workbench.project.model import SkillProject

#: Points the workbench at another componentize-py executable.
COMPONENTIZE_PY_ENV = "WORKBENCH_COMPONENTIZE_PY"


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
def tool_version(command: tuple[str, ...]) -> str:
    if not os.environ.get(COMPONENTIZE_PY_ENV):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version("componentize-py")
    import subprocess

    try:
        done = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise cannot_start(error) from error
    return done.stdout.strip() or f"unknown (exit {done.returncode})"


def cannot_start(error: BaseException) -> ToolError:
    return ToolError(
        f"componentize-py could not be started ({error}); reinstall it with "
        "`pip install componentize-py==0.25.1`."
    )


def world_options(project: SkillProject) -> list[str]:
    """componentize-py and the options that pick the project's WIT world (seed and wit)."""
    assert project.wit_path is not None
    features = ["--features", ",".join(project.features)] if project.features else []
    return [
        *componentize_py_command(),
        "-d",
        str(project.wit_path),
        "-w",
        project.world,
        "--world-module",
        project.world_module,
        *features,
    ]


def build_command(project: SkillProject, output: Path) -> list[str]:
    if project.is_sdk:
        return sdk_build_command(project, require_environment(project), output)
    command = [*world_options(project), "componentize", project.module]
    for path in project.python_paths:
        command += ["-p", str(path)]
    return [*command, "-o", str(output)]


def tool_env(environment: Environment | None) -> dict[str, str]:
    """The environment componentize-py runs in: an SDK project's, activated; otherwise
    ours, so that it never finds another environment's WIT (componentize-py adds
    $VIRTUAL_ENV's site-packages to its path, and pharia-skill's would add the SDK's worlds)."""
    env = {**os.environ, "RUST_BACKTRACE": "0"}
    if environment is not None:
        return environment.activated(env)
    if sys.prefix != sys.base_prefix:
        env[VIRTUAL_ENV] = sys.prefix
    else:
        env.pop(VIRTUAL_ENV, None)
    return env
