"""How the main states look (pytest-textual-snapshot; `--snapshot-update` to accept a change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.conftest import SIZE, app_for
from tests.tui.states import STATES, empty_folder


@pytest.mark.parametrize("name", list(STATES))
def test_state_looks_right(
    name: str, snap_compare, haiku_copy: Path, runtime, tmp_path: Path
) -> None:
    folder_kind, state = STATES[name]
    folder = haiku_copy if folder_kind == "haiku" else empty_folder(tmp_path)
    assert snap_compare(app_for(folder, runtime), run_before=state, terminal_size=SIZE)
