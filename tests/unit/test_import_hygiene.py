"""The core and the headless CLI must never import Textual (it is slow to import and the
core must stay usable without a terminal)."""

import subprocess
import sys

CORE = [
    "workbench.builder",
    "workbench.cancel",
    "workbench.cli",
    "workbench.csi",
    "workbench.diagnostics",
    "workbench.errors",
    "workbench.models",
    "workbench.pipeline",
    "workbench.project",
    "workbench.runtime",
    "workbench.scaffold",
    "workbench.wit",
    "workbench.worlds",
]


def test_core_modules_import_without_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
