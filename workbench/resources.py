"""Files shipped with the workbench: the skill template and the TUI's styles.

In a wheel they live inside the package (hatch's force-include); in a source checkout or an
editable install they are read from the repository itself, so there is one copy of each.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPOSITORY = _PACKAGE.parent


def resource(packaged: str, in_repository: str) -> Path:
    inside = _PACKAGE / packaged
    return inside if inside.exists() else _REPOSITORY / in_repository


def template_wit() -> Path:
    return resource("templates/skill.wit", "skill.wit")


def template_module() -> Path:
    return resource("templates/haiku.py", "examples/haiku/haiku.py")


def styles_dir() -> Path:
    return resource("styles", "styles")
