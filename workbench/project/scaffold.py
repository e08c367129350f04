"""`workbench new`: a skill project from a template.

* seed: the seed's haiku and its skill.wit, built with the workbench's own componentize-py.
* skill: a pharia-skill `@skill` haiku (pydantic Input and Output, `csi.chat`).
* message-stream: a pharia-skill `@message_stream` haiku that streams a `csi.chat_stream`.

The SDK templates name pharia-skill in requirements.txt; `workbench env` makes their
environment.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from workbench.errors import ProjectError, UsageError
from workbench.fs import atomic_write
from workbench.project.kinds import WASI_DEPS
from workbench.project.model import BUILD_DIR, CONFIG_FILE

#: The template ships inside the package: a user's edits to the bundled example never
#: become every new project's template.
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: `workbench new --template NAME`; the first is the default.
TEMPLATE_NAMES = ("seed", "skill", "message-stream")
#: The pharia-skill release the SDK templates are written for (and pin).
SDK_TEMPLATE_VERSION = "0.20.0"

_GITIGNORE = f"""\
{BUILD_DIR}/
__pycache__/
# stub bindings from `workbench bindings`
/skill/
/componentize_py_*
/poll_loop.py
"""

_SDK_GITIGNORE = f"""\
# the environment `workbench env` makes, and pydantic-core for WASI (made by each build)
.venv/
{WASI_DEPS}/
{BUILD_DIR}/
__pycache__/
"""

_CONFIG = """\
[skill]
module = "{module}"
wit = "skill.wit"
world = "skill"

[run]
input = "oak trees"
"""

_SDK_CONFIG = """\
[skill]
module = "{module}"
# The world comes from the code: @skill builds `skill`, @message_stream builds
# `message-stream-skill`. The environment is the project's .venv (`workbench env`).

[run]
input = '{{"topic": "oak trees"}}'
"""


def module_name(name: str) -> str:
    module = re.sub(r"\W", "_", name.strip()).lower()
    if not module or module[0].isdigit() or keyword.iskeyword(module) or module == "skill":
        raise ProjectError(
            f"{name!r} cannot name a Python module; use letters, digits and "
            "underscores, not starting with a digit (and not `skill`)."
        )
    return module


def template_files(module: str, template: str = "seed") -> dict[str, str]:
    """The files of a new project from `template`, by name."""
    if template == "seed":
        return {
            f"{module}.py": _read("haiku.py"),
            "skill.wit": _read("skill.wit"),
            CONFIG_FILE: _CONFIG.format(module=module),
            ".gitignore": _GITIGNORE,
        }
    sources = {"skill": "sdk_skill.py", "message-stream": "sdk_message_stream.py"}
    if template not in sources:
        raise UsageError(
            f"There is no template {template!r}; pick one of {', '.join(TEMPLATE_NAMES)}."
        )
    return {
        f"{module}.py": _read(sources[template]),
        "requirements.txt": f"pharia-skill=={SDK_TEMPLATE_VERSION}\n",
        CONFIG_FILE: _SDK_CONFIG.format(module=module),
        ".gitignore": _SDK_GITIGNORE,
    }


def _read(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def create_project(
    name: str,
    directory: Path | None = None,
    *,
    into_existing: bool = False,
    template: str = "seed",
) -> Path:
    """Write a new project from `template` into `directory` (default `./NAME`), which must
    be empty or new; with `into_existing`, a folder with other files is fine as long as
    none is overwritten."""
    module = module_name(name)
    directory = (directory or Path(name)).resolve()
    files = template_files(module, template)
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
