"""`workbench new`: a skill project from the template (the seed's haiku and its skill.wit)."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from workbench.errors import ProjectError
from workbench.project import BUILD_DIR, CONFIG_FILE
from workbench.resources import template_module, template_wit

_GITIGNORE = f"""\
{BUILD_DIR}/
__pycache__/
# stub bindings from `workbench bindings`
/skill/
/componentize_py_*
/poll_loop.py
"""

_CONFIG = """\
[skill]
module = "{module}"
wit = "skill.wit"
world = "skill"

[run]
input = "oak trees"
"""


def module_name(name: str) -> str:
    module = re.sub(r"\W", "_", name.strip()).lower()
    if not module or module[0].isdigit() or keyword.iskeyword(module) or module == "skill":
        raise ProjectError(
            f"{name!r} cannot name a Python module; use letters, digits and "
            "underscores, not starting with a digit (and not `skill`)."
        )
    return module


def create_project(
    name: str, directory: Path | None = None, *, into_existing: bool = False
) -> Path:
    """Write a new project into `directory` (default `./NAME`), which must be empty or new;
    with `into_existing`, a folder with other files is fine as long as none is overwritten."""
    module = module_name(name)
    directory = (directory or Path(name)).resolve()
    names = (f"{module}.py", "skill.wit", CONFIG_FILE, ".gitignore")
    if directory.exists() and any(directory.iterdir()):
        clashes = [n for n in names if (directory / n).exists()]
        if not into_existing or clashes:
            raise ProjectError(f"{directory} is not empty; pick a new folder for the project.")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{module}.py").write_text(
        template_module().read_text(encoding="utf-8"), encoding="utf-8"
    )
    (directory / "skill.wit").write_text(
        template_wit().read_text(encoding="utf-8"), encoding="utf-8"
    )
    (directory / CONFIG_FILE).write_text(_CONFIG.format(module=module), encoding="utf-8")
    (directory / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")
    return directory
