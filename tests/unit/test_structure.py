"""The layout holds: layers checked by import-linter, one exception tree, one atomic write,
and no module that has grown two jobs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPOSITORY

PACKAGE = REPOSITORY / "workbench"
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_import_linter_contracts_are_kept() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_no_module_is_over_the_line_limit() -> None:
    long = {
        str(path.relative_to(REPOSITORY)): count
        for path in modules()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_exception_is_defined_in_errors_py() -> None:
    elsewhere = []
    for path in modules():
        if path == PACKAGE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id.endswith(("Error", "Exception"))
                for base in node.bases
            ):
                elsewhere.append(f"{path.relative_to(REPOSITORY)}: {node.name}")
    assert elsewhere == []


def test_nothing_raises_the_bare_base_class() -> None:
    bare = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "WorkbenchError"
            ):
                bare.append(f"{path.relative_to(REPOSITORY)}:{node.lineno}")
    assert bare == []


def test_files_are_written_only_through_the_one_atomic_write() -> None:
    writers = []
    for path in modules():
        if path == PACKAGE / "fs.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("write_text", "write_bytes"):
                writers.append(f"{path.relative_to(REPOSITORY)}:{node.lineno} {node.attr}")
            if isinstance(node, ast.Name) and node.id == "mkstemp":
                writers.append(f"{path.relative_to(REPOSITORY)}:{node.lineno} mkstemp")
    assert writers == []
