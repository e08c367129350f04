"""What kind of skill project a folder holds, and which module and world it builds, read
from its code the way a person would.

* seed: a WIT file of the project's own (the seed's unversioned `pharia:skill`, or any
  other) and a module that defines `class Skill`; built with the workbench's componentize-py.
* wit: a copy of one of the kernel's versioned worlds (`package pharia:skill@0.4.0;`, in a
  `wit/` folder) and a module that defines `class SkillHandler` or `class MessageStream`;
  built the same way, with `--features` when the world is `@unstable`.
* sdk: code written with the official SDK, `pharia-skill` (`@skill`, `@message_stream`);
  built like `pharia-skill build`, with the componentize-py of the project's own
  environment and the SDK's own WIT.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from workbench.config.toml import read_toml
from workbench.errors import ProjectError


class ProjectKind(StrEnum):
    SEED = "seed"
    WIT = "wit"
    SDK = "sdk"


#: The SDK's name on PyPI, and what `workbench env` installs when the project pins nothing.
SDK_DISTRIBUTION = "pharia-skill"
#: SDK projects' WIT package; its version is the environment's pharia-skill's.
SDK_PACKAGE = "pharia:skill"
SKILL_WORLD = "skill"
MESSAGE_STREAM_WORLD = "message-stream-skill"
SDK_WORLDS = (SKILL_WORLD, MESSAGE_STREAM_WORLD)
#: Where an SDK build puts pydantic-core's WASI wheel (the second `-p` path, as the SDK does).
WASI_DEPS = "wasi_deps"
#: Files that can name the SDK as a dependency.
REQUIREMENT_FILES = ("requirements.txt", "pyproject.toml")

_SDK_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+|import[ \t]+)pharia_skill\b", re.M)
_SDK_DECORATOR = re.compile(r"^@(?:pharia_skill\.)?(skill|message_stream)\b", re.M)
_SKILL_CLASS = re.compile(r"^class\s+(Skill|SkillHandler|MessageStream)\b", re.M)
#: `pharia-skill`, `pharia_skill==0.20.0`, but not `pharia-skill-cli`.
_REQUIREMENT = re.compile(r"^\s*pharia[-_.]skill(?![-_.\w])(.*)$", re.I)
#: The world a raw skill's class implements, by the class's name.
_CLASS_WORLDS = {"SkillHandler": SKILL_WORLD, "MessageStream": MESSAGE_STREAM_WORLD}


def root_modules(root: Path) -> list[Path]:
    """The `.py` files at the project's root that are regular files (reading a FIFO would
    block), in a stable order."""
    return [file for file in sorted(root.glob("*.py")) if file.is_file()]


def source_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise ProjectError(
            f"Cannot read {file} ({error.strerror or error}); make it readable."
        ) from None


def sdk_requirement(root: Path) -> str | None:
    """How the project names pharia-skill (`pharia-skill==0.20.0`) in requirements.txt or
    pyproject.toml's `[project] dependencies`, or None."""
    requirements = root / "requirements.txt"
    if requirements.is_file():
        for line in source_text(requirements).splitlines():
            found = _REQUIREMENT.match(line.split("#", 1)[0])
            if found:
                return f"{SDK_DISTRIBUTION}{found.group(1).strip()}"
    pyproject = read_toml(root / "pyproject.toml", ProjectError)
    dependencies = pyproject.get("project", {}).get("dependencies", [])
    for entry in dependencies if isinstance(dependencies, list) else []:
        found = _REQUIREMENT.match(entry) if isinstance(entry, str) else None
        if found:
            return f"{SDK_DISTRIBUTION}{found.group(1).strip()}"
    return None


def uses_sdk(root: Path) -> bool:
    """True when a module at the root imports pharia_skill, or the project depends on it."""
    if any(_SDK_IMPORT.search(source_text(file)) for file in root_modules(root)):
        return True
    return sdk_requirement(root) is not None


def detect_sdk_module(root: Path) -> str:
    """The one module at the root that decorates a function with `@skill` or `@message_stream`."""
    candidates = [
        file.stem for file in root_modules(root) if _SDK_DECORATOR.search(source_text(file))
    ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ProjectError(
            f"No Python file in {root} has a function decorated with @skill or @message_stream "
            "(the project uses pharia-skill); write one, or set `module` in workbench.toml."
        )
    raise ProjectError(
        f"Several files use @skill or @message_stream ({', '.join(candidates)}); set `module` "
        "in workbench.toml."
    )


def sdk_world(module_file: Path) -> str:
    """`message-stream-skill` for a module with `@message_stream`, else `skill`."""
    used = set(_SDK_DECORATOR.findall(source_text(module_file)))
    if used == {"skill", "message_stream"}:
        raise ProjectError(
            f"{module_file.name} uses both @skill and @message_stream, but a component is one or "
            "the other; move one of them to a module of its own."
        )
    return MESSAGE_STREAM_WORLD if "message_stream" in used else SKILL_WORLD


def check_sdk_world(world: str, config_path: Path) -> str:
    if world not in SDK_WORLDS:
        raise ProjectError(
            f"{config_path}: `skill.world` is {world!r}, but a pharia-skill project builds "
            f"`{SKILL_WORLD}` (@skill) or `{MESSAGE_STREAM_WORLD}` (@message_stream); fix it "
            "or remove it to pick the world from the code."
        )
    return world


def detect_module(root: Path) -> str:
    """The one module at the root that defines the skill's class."""
    candidates = [
        file.stem for file in root_modules(root) if _SKILL_CLASS.search(source_text(file))
    ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ProjectError(
            f"No Python file in {root} defines `class Skill` (or `SkillHandler`, "
            "`MessageStream`, or uses pharia-skill's @skill); create one with `workbench new` "
            "or set `module` in workbench.toml."
        )
    raise ProjectError(
        f"Several files define `class Skill` or its kin ({', '.join(candidates)}); set "
        "`module` in workbench.toml."
    )


def class_world(module_file: Path, worlds: tuple[str, ...]) -> str | None:
    """The world a raw skill's class implements (`class MessageStream` implements
    `message-stream-skill`), when the WIT declares it and the module has just one such class."""
    found = {
        _CLASS_WORLDS[name]
        for name in _SKILL_CLASS.findall(source_text(module_file))
        if name in _CLASS_WORLDS
    }
    if len(found) == 1 and (world := found.pop()) in worlds:
        return world
    return None
