"""Building an SDK project the way `pharia-skill build` does: pydantic-core's WASI wheel
into `wasi_deps/` with the environment's pip and the wheels its pharia-skill ships, then
the environment's componentize-py, activated, for the world `skill` or
`message-stream-skill` with `-p . -p wasi_deps`. The SDK's WIT is found by componentize-py
itself, through `pharia_skill/componentize-py.toml` in the activated environment."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from workbench.build.environment import Environment
from workbench.errors import ToolError
from workbench.project.kinds import MESSAGE_STREAM_WORLD, SKILL_WORLD
from workbench.project.model import SkillProject

#: What the SDK's wheel of pydantic-core is built for (`pharia-skill build` asks pip the same).
_WASI_PLATFORM = ("--platform", "any", "--platform", "wasi_0_0_0_wasm32")
_WASI_PYTHON = "3.12"
_WASI_WHEEL = re.compile(r"^pydantic_core-([^-]+)-.*wasi.*\.whl$")


def sdk_build_command(project: SkillProject, environment: Environment, output: Path) -> list[str]:
    """`componentize-py -w WORLD componentize MODULE -o OUT -p . -p wasi_deps [-p extra...]`."""
    command = [str(environment.componentize_py_path)]
    if project.features:
        command += ["--features", ",".join(project.features)]
    command += ["-w", project.world, "componentize", project.module, "-o", str(output)]
    for path in project.python_paths:
        command += ["-p", str(path)]
    return command


def wasi_pydantic_core(environment: Environment) -> str:
    """The version of the WASI pydantic-core wheel the environment's pharia-skill ships
    (the one matching its own pydantic-core when it ships several)."""
    try:
        versions = sorted(
            found.group(1)
            for wheel in environment.wasi_wheels.iterdir()
            if (found := _WASI_WHEEL.match(wheel.name))
        )
    except OSError:
        versions = []
    if environment.pydantic_core in versions:
        return environment.pydantic_core
    if versions:
        return versions[-1]
    raise ToolError(
        f"The environment {environment.root} has no WASI wheel of pydantic-core in "
        f"{environment.wasi_wheels} (pharia-skill ships one); reinstall pharia-skill there, "
        "for instance by removing it and running `workbench env`."
    )


def prepare_wasi_deps(project: SkillProject, environment: Environment) -> list[str] | None:
    """The pip command that fills `wasi_deps/`, or None when it already holds the same
    pydantic-core. A `wasi_deps/` for another version is removed first, as the SDK does."""
    version = wasi_pydantic_core(environment)
    folder = project.wasi_deps
    if (folder / f"pydantic_core-{version}.dist-info").is_dir():
        return None
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)
    return [
        str(environment.python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--target",
        str(folder),
        "--only-binary",
        ":all:",
        *_WASI_PLATFORM,
        "--python-version",
        _WASI_PYTHON,
        "--find-links",
        str(environment.wasi_wheels),
        f"pydantic-core=={version}",
    ]


def sdk_hint(project: SkillProject, stderr: str) -> str | None:
    """What an SDK build's failure means, where the SDK's CLI knows a better sentence than
    the traceback (a world that does not fit the decorator, outbound HTTP)."""
    module = f"{project.module}.py"
    if "No module named 'pharia_skill.bindings.exports.message_stream'" in stderr:
        return _world_hint(module, "@message_stream", MESSAGE_STREAM_WORLD, project.world)
    if "No module named 'pharia_skill.bindings.exports.skill_handler'" in stderr:
        return _world_hint(module, "@skill", SKILL_WORLD, project.world)
    if "No module named 'zlib'" in stderr:
        return (
            "the skill imports a library that makes outbound HTTP requests (it needs zlib), "
            "which a skill cannot do; remove that import and build again."
        )
    return None


def _world_hint(module: str, decorator: str, needed: str, built: str) -> str:
    return (
        f"{module} uses {decorator}, which needs the world `{needed}`, but the build targets "
        f'`{built}`; set `world = "{needed}"` in workbench.toml, or remove `world` there to '
        "pick it from the code."
    )
