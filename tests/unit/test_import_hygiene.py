"""Nothing below the terminal app imports Textual (it is slow to import, and the core must
stay usable without a terminal): every module of the package outside `workbench/tui/`, and
the app's own Textual-free state model, imported in a fresh interpreter. And the commands a
user repeats most (a run that meets a syntax error, a build, a publish) import nothing slow
they do not use."""

import ast
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import workbench
from tests.conftest import REPOSITORY

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


#: What a command imports only when it needs it: each is a good part of a fresh process's time.
SLOW_TO_IMPORT = ("wasmtime", "httpx", "oras", "requests", "jsonschema", "keyring")


def slow_imports(*statements: str) -> list[str]:
    """The slow packages that `statements`, run in a fresh interpreter, imported."""
    code = "\n".join(
        [
            "import sys",
            *statements,
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(SLOW_TO_IMPORT)}))",
        ]
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_a_syntax_error_is_said_before_anything_slow_is_imported(tmp_path: Path) -> None:
    project = tmp_path / "haiku"
    shutil.copytree(REPOSITORY / "examples/haiku", project)
    source = project / "haiku.py"
    source.write_text("def broken(:\n" + source.read_text())
    run = f"['run', {str(project)!r}, '--input', 'x']"
    assert slow_imports("from workbench.cli.main import main", f"assert main({run}) == 1") == []


def test_a_build_imports_neither_the_runner_nor_the_network() -> None:
    build = ("from workbench import flows", "import workbench.cli.running", "flows.build")
    assert slow_imports(*build) == []


def test_a_publish_imports_the_registry_client_only() -> None:
    publish = ("from workbench import flows", "import workbench.cli.publishing", "flows.publish")
    assert slow_imports(*publish) == ["oras", "requests"]


def test_every_flow_name_has_one_home_and_is_found_there() -> None:
    from workbench import flows

    assert sorted(flows.__all__) == sorted(flows._HOME_OF)
    for name in flows.__all__:
        assert getattr(flows, name) is not None
