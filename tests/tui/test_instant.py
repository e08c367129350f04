"""F5 after an edit runs the skill's modules instantly and says so; F6 builds the component,
which F5 then runs."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.tui.conftest import SIZE, app_for, settle
from workbench.build.builder import is_up_to_date
from workbench.project.model import load_project
from workbench.run import instant
from workbench.tui.screens.main import MainScreen


async def test_f5_after_an_edit_runs_instantly_and_f6_builds_the_component(
    haiku_copy: Path, runtime
) -> None:
    module = haiku_copy / "haiku.py"
    module.write_text(module.read_text().replace("Write a haiku", "Write a short haiku"))
    app = app_for(haiku_copy, runtime)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("f5")
        await settle(pilot, rounds=200)
        (record,) = screen.history.records
        assert record.result.path == "instant" and record.result.ok, record.result.error
        assert "Write a short haiku about oak trees" in (record.result.output or "")
        assert instant.runtime_path(screen.project).is_file()
        assert "(instant)" in str(screen.query_one("#status", Static).content)
        assert not is_up_to_date(load_project(haiku_copy))
        await pilot.press("f6")
        await settle(pilot, rounds=200)
        assert is_up_to_date(load_project(haiku_copy))
        await pilot.press("f5")  # nothing changed since: the component runs
        await settle(pilot, rounds=200)
        assert screen.history.records[-1].result.path == "component"
