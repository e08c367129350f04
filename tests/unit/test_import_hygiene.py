"""Nothing below the terminal app imports Textual (it is slow to import, and the core must
stay usable without a terminal): every module of the package outside `workbench/tui/`, and
the app's own Textual-free state model, imported in a fresh interpreter."""

import pkgutil
import subprocess
import sys

import workbench

TEXTUAL_FREE_IN_TUI = ("workbench.tui.state",)


def core_modules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(workbench.__path__, "workbench.")
        if not info.name.startswith("workbench.tui") and not info.name.endswith("__main__")
    ]
    return sorted(names) + list(TEXTUAL_FREE_IN_TUI)


def test_the_walk_finds_every_core_folder() -> None:
    found = set(core_modules())
    for module in (
        "workbench.flows",
        "workbench.fs",
        "workbench.credentials",
        "workbench.config.user",
        "workbench.publish.registry",
        "workbench.publish.artifact",
        "workbench.models.catalog",
        "workbench.cli.publishing",
    ):
        assert module in found


def test_core_modules_import_without_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in core_modules())
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
