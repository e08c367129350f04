"""`workbench new`: a skill project from the template (the seed's haiku and its skill.wit)."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from workbench.errors import ProjectError
from workbench.fs import atomic_write
from workbench.project.model import BUILD_DIR, CONFIG_FILE

#: The template ships inside the package: a user's edits to the bundled example never
#: become every new project's template.
TEMPLATES = Path(__file__).resolve().parent / "templates"

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
    files = {
        f"{module}.py": (TEMPLATES / "haiku.py").read_text(encoding="utf-8"),
        "skill.wit": (TEMPLATES / "skill.wit").read_text(encoding="utf-8"),
        CONFIG_FILE: _CONFIG.format(module=module),
        ".gitignore": _GITIGNORE,
    }
    try:
        if directory.exists() and any(directory.iterdir()):
            clashes = [n for n in files if (directory / n).exists() or (directory / n).is_symlink()]
            if not into_existing or clashes:
                raise ProjectError(f"{directory} is not empty; pick a new folder for the project.")
        for name, text in files.items():
            atomic_write(directory / name, text)
    except OSError as error:
        raise ProjectError(
            f"Cannot create the project in {directory} ({error.strerror or error}); "
            "pick a folder you can write to."
        ) from None
    return directory
