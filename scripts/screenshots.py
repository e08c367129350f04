"""Save SVG screenshots of the app's main states into screenshots/ (shown in the README).

    python scripts/screenshots.py

Builds copies of examples/haiku, the raw message-stream skill and the raw 0.4 skill of
tests/data/skills once (real componentize-py), then drives the app by keys into each state of
tests/tui/states.py, with a throwaway HOME.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="workbench-screenshots-"))
    os.environ["HOME"] = str(work / "home")
    os.environ["XDG_CONFIG_HOME"] = str(work / "home/.config")

    from tests.conftest import DATA, built, copy_project

    sources = {
        "haiku": REPOSITORY / "examples/haiku",
        "stream": DATA / "skills/raw_v0_4_stream",
        "skill": DATA / "skills/raw_v0_4",
    }
    projects = {
        kind: built(copy_project(source, work / "built" / source.name, with_wit=False), {}).root
        for kind, source in sources.items()
    }
    asyncio.run(save_states(work, projects))
    shutil.rmtree(work, ignore_errors=True)


async def save_states(work: Path, projects: dict[str, Path]) -> None:
    from tests.conftest import copy_project
    from tests.tui.conftest import SIZE, app_for
    from tests.tui.states import STATES, empty_folder

    target = REPOSITORY / "screenshots"
    target.mkdir(exist_ok=True)
    for name, (folder_kind, state) in STATES.items():
        scratch = work / name
        scratch.mkdir()
        if folder_kind == "empty":
            folder = empty_folder(scratch)
        else:
            built = projects[folder_kind]
            folder = copy_project(built, scratch / built.name, with_wit=False)
        app = app_for(folder)
        async with app.run_test(size=SIZE) as pilot:
            await state(pilot)
            app.save_screenshot(filename=f"{name}.svg", path=str(target))
        print(f"screenshots/{name}.svg")


if __name__ == "__main__":
    main()
