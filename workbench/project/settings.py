"""The `[run]` and `[publish]` tables of workbench.toml, and the sizes they are written in."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.config.toml import TomlTable
from workbench.fs import atomic_write

if TYPE_CHECKING:
    from workbench.project.model import SkillProject

DEFAULT_TIMEOUT = 30.0
#: A build that takes longer is stopped: module-level code can loop for ever.
DEFAULT_BUILD_TIMEOUT = 300.0
DEFAULT_MEMORY_LIMIT = 1 << 30
#: How much of a skill's prints a run keeps (stdout and stderr together).
DEFAULT_MAX_PRINTS = 1 << 20
#: The skill's interpreter alone starts at 12.25 MiB of linear memory.
MINIMUM_MEMORY_LIMIT = 16 << 20
#: A wasm32 linear memory cannot grow past 4 GiB, whatever the limit says.
MAXIMUM_MEMORY_LIMIT = 4 << 30

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str | int) -> int:
    """`"1GiB"`, `"512M"`, `"64mb"` or a number of bytes; units are binary."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str):
        raise TypeError(f"{text!r} is not a size; write it like 512MiB or 1GiB")
    found = _SIZE.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a size; write it like 512MiB or 1GiB")
    unit = (found.group(2) or "").lower()[:1]
    return int(float(found.group(1)) * _UNITS[unit])


def format_size(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class RunDefaults:
    input: str | None = None
    model: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    memory_limit: int = DEFAULT_MEMORY_LIMIT
    max_prints: int = DEFAULT_MAX_PRINTS


@dataclass(frozen=True)
class PublishSettings:
    """`[publish]` in workbench.toml: where this skill goes (never credentials)."""

    registry: str | None = None
    repository: str | None = None
    name: str | None = None
    tag: str | None = None
    insecure: bool = False
    ca_file: Path | None = None


def publish_settings(table: TomlTable, root: Path) -> PublishSettings:
    ca_file = table.string("ca-file")
    return PublishSettings(
        registry=table.string("registry"),
        repository=table.string("repository"),
        name=table.string("name"),
        tag=table.string("tag"),
        insecure=table.boolean("insecure", False),
        ca_file=root / ca_file if ca_file else None,
    )


def run_defaults(run: TomlTable) -> RunDefaults:
    timeout = run.positive_number("timeout", DEFAULT_TIMEOUT, "number of seconds")
    try:
        memory_limit = parse_size(run.data.get("memory-limit", DEFAULT_MEMORY_LIMIT))
    except (ValueError, TypeError) as error:
        raise run.fail("memory-limit", f"is not a size ({error})") from None
    if memory_limit < MINIMUM_MEMORY_LIMIT:
        raise run.fail(
            "memory-limit",
            f"must be at least {format_size(MINIMUM_MEMORY_LIMIT)}; the interpreter alone "
            "needs 12 MiB",
        )
    if memory_limit > MAXIMUM_MEMORY_LIMIT:
        raise run.fail(
            "memory-limit",
            f"must be at most {format_size(MAXIMUM_MEMORY_LIMIT)}: a 32-bit WebAssembly skill "
            "cannot use more",
        )
    try:
        max_prints = parse_size(run.data.get("max-prints", DEFAULT_MAX_PRINTS))
    except (ValueError, TypeError) as error:
        raise run.fail("max-prints", f"is not a size ({error})") from None
    return RunDefaults(
        input=run.string("input"),
        model=run.string("model"),
        timeout=timeout,
        memory_limit=memory_limit,
        max_prints=max_prints,
    )


def save_publish_settings(project: SkillProject, settings: PublishSettings) -> None:
    """Write `[publish]` into workbench.toml, keeping the rest of the file as it was."""
    import tomlkit

    path = project.config_path
    document = (
        tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else (tomlkit.document())
    )
    table = tomlkit.table()
    for key, value in (
        ("registry", settings.registry),
        ("repository", settings.repository),
        ("name", settings.name),
        ("tag", settings.tag),
    ):
        if value:
            table[key] = value
    if settings.insecure:
        table["insecure"] = True
    if settings.ca_file:
        table["ca-file"] = os.path.relpath(settings.ca_file, project.root)
    document["publish"] = table
    atomic_write(path, tomlkit.dumps(document))
