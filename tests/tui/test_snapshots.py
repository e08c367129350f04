"""How the main states look (pytest-textual-snapshot; `--snapshot-update` to accept a change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_project
from tests.tui.conftest import SIZE, app_for
from tests.tui.states import STATES, empty_folder

#: The built project each kind of state opens (a copy of it).
BUILT = {"haiku": "haiku_project", "stream": "raw_stream_project", "skill": "raw_skill_project"}


@pytest.mark.parametrize("name", list(STATES))
def test_state_looks_right(
    name: str, snap_compare, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder_kind, state = STATES[name]
    if folder_kind == "empty":
        folder = empty_folder(tmp_path)
    else:  # only the project this state needs is built
        project = request.getfixturevalue(BUILT[folder_kind])
        folder = copy_project(project.root, tmp_path / project.root.name, with_wit=False)
    assert snap_compare(app_for(folder), run_before=state, terminal_size=SIZE)
