"""The Python environment an SDK project builds with: a virtual environment holding
pharia-skill, the componentize-py it pins (0.17.x: the workbench's own cannot build SDK
skills), the SDK's WIT and its WASI wheel of pydantic-core.

Where it is, in this order: `[skill] environment` in workbench.toml (only there, when set),
the project's `.venv`, else the active virtual environment (`$VIRTUAL_ENV`) if it has
pharia-skill. Reading one never starts a process: versions come from the names of the
`*.dist-info` folders pip wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from workbench.errors import EnvironmentFailed, NoEnvironment
from workbench.project.model import SkillProject
from workbench.project.wit import read_wit

#: The folder `workbench env` makes inside the project.
VENV_DIR = ".venv"
#: pharia-skill needs Python ~=3.11.0.
SDK_PYTHON = (3, 11)
#: The variable an activated virtual environment sets (componentize-py reads it too).
VIRTUAL_ENV = "VIRTUAL_ENV"

#: Where the environment was found: named in workbench.toml, the project's .venv, the active one.
Origin = Literal["configured", "project", "active"]

_VERSION = re.compile(r"^\s*version(?:_info)?\s*=\s*(\d+\.\d+(?:\.\d+)?)", re.MULTILINE)


@dataclass(frozen=True)
class Environment:
    root: Path
    site_packages: Path
    python_version: str
    pharia_skill: str | None
    componentize_py: str | None
    pydantic_core: str | None
    origin: Origin

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def componentize_py_path(self) -> Path:
        return self.bin / "componentize-py"

    @property
    def wit_path(self) -> Path:
        """The SDK's own WIT (`pharia_skill/wit`), found by componentize-py through
        `pharia_skill/componentize-py.toml` on the activated environment's path."""
        return self.site_packages / "pharia_skill" / "wit"

    @property
    def wasi_wheels(self) -> Path:
        """The wheels the SDK ships for the skill's side (pydantic-core built for WASI)."""
        return self.site_packages / "wasi_wheels"

    @property
    def package(self) -> str | None:
        """The WIT package its pharia-skill builds, e.g. `pharia:skill@0.3.11`."""
        return read_wit(self.wit_path).package if self.wit_path.is_dir() else None

    @property
    def is_complete(self) -> bool:
        """It has pharia-skill and a componentize-py to build with."""
        return bool(self.pharia_skill and self.componentize_py) and (
            self.componentize_py_path.is_file()
        )

    def describe(self) -> str:
        """`pharia-skill 0.20.0, componentize-py 0.17.2, Python 3.11.7`."""
        parts = [
            f"pharia-skill {self.pharia_skill or 'missing'}",
            f"componentize-py {self.componentize_py or 'missing'}",
            f"Python {self.python_version}",
        ]
        return ", ".join(parts)

    def activated(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` as `source bin/activate` would leave it: the environment's bin/ first on
        PATH, VIRTUAL_ENV set, PYTHONHOME unset."""
        env = {k: v for k, v in base.items() if k != "PYTHONHOME"}
        env[VIRTUAL_ENV] = str(self.root)
        env["PATH"] = os.pathsep.join(p for p in (str(self.bin), base.get("PATH", "")) if p)
        return env


def read_environment(root: Path, origin: Origin = "project") -> Environment | None:
    """The virtual environment at `root`, or None when there is none (no pyvenv.cfg)."""
    config = root / "pyvenv.cfg"
    sites = sorted(root.glob("lib/python3*/site-packages"))
    if not config.is_file() or not sites:
        return None
    site = sites[-1]
    try:
        found = _VERSION.search(config.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        found = None
    python_version = found.group(1) if found else site.parent.name.removeprefix("python")
    return Environment(
        root=root,
        site_packages=site,
        python_version=python_version,
        pharia_skill=_installed(site, "pharia_skill"),
        componentize_py=_installed(site, "componentize_py"),
        pydantic_core=_installed(site, "pydantic_core"),
        origin=origin,
    )


def _installed(site: Path, name: str) -> str | None:
    """The version of `name` (normalized: underscores) that pip installed into `site`."""
    for info in sorted(site.glob(f"{name}-*.dist-info")):
        version = info.name.removeprefix(f"{name}-").removesuffix(".dist-info")
        if version and info.is_dir():
            return version
    return None


def find_environment(project: SkillProject) -> Environment | None:
    """The environment the SDK project builds with, or None (see the module's doc)."""
    if project.environment is not None:
        configured = read_environment(project.environment, "configured")
        return configured if configured is not None and configured.is_complete else None
    candidates: list[tuple[Path, Origin]] = [(project.root / VENV_DIR, "project")]
    active = os.environ.get(VIRTUAL_ENV)
    if active:
        candidates.append((Path(active), "active"))
    for root, origin in candidates:
        environment = read_environment(root, origin)
        if environment is not None and environment.is_complete:
            return environment
    return None


def require_environment(project: SkillProject) -> Environment:
    """The environment the SDK project builds with; NoEnvironment says how to make one."""
    environment = find_environment(project)
    if environment is not None:
        return environment
    if project.environment is not None:
        raise NoEnvironment(
            f"The environment {project.environment} named in workbench.toml has no pharia-skill "
            "with its componentize-py; install pharia-skill there or remove `environment` "
            "from [skill] to use the project's own."
        )
    raise NoEnvironment(
        f"The SDK project {project.root} has no environment with pharia-skill; create one "
        "with `workbench env`."
    )


def sdk_python(
    executable: str = sys.executable,
    version: tuple[int, int] = (sys.version_info.major, sys.version_info.minor),
    path: str | None = None,
) -> Path:
    """A Python 3.11 to make the environment with: the workbench's own when it is one,
    else `python3.11` on PATH (`path`, default $PATH)."""
    if version == SDK_PYTHON:
        return Path(executable)
    found = shutil.which("python{}.{}".format(*SDK_PYTHON), path=path)
    if found:
        return Path(found)
    raise EnvironmentFailed(
        "pharia-skill needs Python 3.11, and the workbench runs on Python {}.{} with no "
        "python3.11 on PATH; install Python 3.11 and run `workbench env` again.".format(*version)
    )
