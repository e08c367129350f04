"""Just enough WIT reading to find a file's package and worlds (componentize-py checks the rest)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ProjectError

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_PACKAGE = re.compile(r"^\s*package\s+([^;\s]+)\s*;", re.MULTILINE)
_WORLD = re.compile(r"^\s*world\s+(%?[a-z][a-z0-9-]*)\s*\{", re.MULTILINE)


@dataclass(frozen=True)
class WitSummary:
    package: str | None
    worlds: tuple[str, ...]


def wit_files(path: Path) -> list[Path]:
    """A WIT path is a file or a folder of `.wit` files (as componentize-py's `-d` takes it)."""
    if path.is_dir():
        return sorted(path.glob("*.wit"))
    return [path]


def read_wit(path: Path) -> WitSummary:
    if not path.exists():
        raise ProjectError(
            f"The WIT file {path} does not exist; create it or fix `wit` in workbench.toml."
        )
    package: str | None = None
    worlds: list[str] = []
    for file in wit_files(path):
        try:
            text = _COMMENTS.sub("", file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise ProjectError(f"Cannot read the WIT file {file} ({error}).") from error
        found = _PACKAGE.search(text)
        if found and package is None:
            package = found.group(1)
        worlds += [name.lstrip("%") for name in _WORLD.findall(text)]
    return WitSummary(package=package, worlds=tuple(worlds))
