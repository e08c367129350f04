"""F5 after an edit runs the skill's modules instantly and says so; F6 builds the component,
which F5 then runs."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.tui.conftest import SIZE, app_for, settle, until
from workbench.build.builder import is_up_to_date
from workbench.project.model import load_project
from workbench.run import instant
from workbench.tui.screens.main import MainScreen


async def test_f5_after_an_edit_runs_instantly_and_f6_builds_the_component(
    haiku_copy: Path,
) -> None:
    module = haiku_copy / "haiku.py"
    module.write_text(module.read_text().replace("Write a haiku", "Write a short haiku"))
    app = app_for(haiku_copy)
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


async def test_the_app_prepares_the_runtime_builds_behind_and_confirms_in_watch_mode(
    haiku_copy: Path,
) -> None:
    """On open the runtime is built; an instant result has the component built behind it;
    with confirm-instant, watch mode runs the component too and says whether they agree.
    A module's top-level code runs at build time in the component and at run time in an
    instant run: a value it takes then (the clock) makes the two differ, and it is said."""
    module = haiku_copy / "haiku.py"
    module.write_text(module.read_text().replace("Write a haiku", "Write a short haiku"))
    app = app_for(haiku_copy, prepare_runtime=True, build_behind_instant=True, confirm_instant=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        # The development runtime is built once the screen shows.
        await until(lambda: instant.runtime_path(screen.project).is_file(), within=300)
        await settle(pilot, rounds=200)
        await pilot.press("f2", "f5")
        await settle(pilot, rounds=400)  # the run, the build behind it, the confirmation
        first, confirmed = screen.history.records
        assert (first.note, first.result.path) == ("instant", "instant"), first.result.error
        assert (confirmed.note, confirmed.result.path) == ("same as #1", "component")
        assert confirmed.result.output == first.result.output
        assert is_up_to_date(load_project(haiku_copy))
        assert "confirms instant run #1" in str(screen.query_one("#status", Static).content)

        module.write_text(
            "import time\n\nLOADED = time.time_ns()\n\n"
            + module.read_text().replace("{in_}\n", "{in_} {LOADED}\n")
        )
        # The disk watcher sees the change and runs it; the build and confirmation follow.
        await until(lambda: len(screen.history) == 4, within=240)
        instant_run, component_run = screen.history.records[2:]
        assert instant_run.note == "instant" and instant_run.result.ok, instant_run.result.error
        assert component_run.note == "differs from #3", component_run.result.error
        assert instant_run.result.output != component_run.result.output
        status = str(screen.query_one("#status", Static).content)
        assert "differs from instant run #3 in the output, CSI call 1" in status
