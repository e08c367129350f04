"""Everything is reachable by keys: the output tabs, the output itself, a zoom, dialogs that
take the first keys typed, a help that lists every key, and a keymap whose clashes are said."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message
from textual.widgets import DataTable, Log, TabbedContent

from tests.tui.conftest import SIZE, app_for, notifications, settle, until
from workbench.tui.screens.help import HelpScreen


async def test_a_keymap_that_takes_another_bindings_key_is_reported(haiku_copy):
    app = app_for(haiku_copy, keymap={"build": "f9", "bulid": "f11"})
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        said = " ".join(notifications(messages))
        assert "f9 is bound to build and export-trace" in said
        assert "there is no binding with the id bulid" in said


async def test_each_output_tab_has_a_key_and_the_output_can_be_focused_and_zoomed(haiku_copy):
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        tabs = screen.query_one("#tabs", TabbedContent)
        for key, tab in (
            ("alt+b", "build"),
            ("alt+p", "prints"),
            ("alt+t", "trace"),
            ("alt+h", "history"),
        ):
            await pilot.press(key)
            assert tabs.active == f"tab-{tab}"
        assert isinstance(app.focused, DataTable) and app.focused.id == "history"
        await pilot.press("alt+o")
        assert tabs.active == "tab-output"
        screen.editor.text_area.focus()
        await pilot.press("ctrl+l")
        assert app.focused is not None and screen.output in app.focused.ancestors

        height = screen.output.region.height
        await pilot.press("f10")
        await pilot.pause()
        assert not screen.editor.display or screen.editor.region.height == 0
        assert screen.output.region.height > height * 1.5
        await pilot.press("f10")
        await pilot.pause()
        assert screen.output.region.height == height


async def test_help_lists_every_key_the_palette_and_how_to_move_between_panes(haiku_copy):
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = [row[0] for row in app.screen.rows]
        for key in ("ctrl+p", "tab / shift+tab", "alt+o", "alt+h", "ctrl+l", "f10", "f12"):
            assert key in keys


async def test_providers_dialog_opens_with_its_first_field_focused(haiku_copy):
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "provider-list"


async def test_a_cancelled_run_marks_the_output_it_leaves_on_screen(behaviours_copy: Path):
    app = app_for(behaviours_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("f5")  # a first run, whose output stays on screen
        await settle(pilot)
        assert not screen.output.has_class("-stale")
        screen.run_panel.input_text = "loop-loudly"
        app.simulate_key("f5")
        prints = screen.query_one("#prints", Log)
        await until(lambda: "! looping" in prints.lines, within=30)
        app.simulate_key("escape")
        await until(lambda: screen.run_panel.status_text == "Cancelled.")
        assert screen.output.has_class("-stale")
        assert screen.query_one("#tab-output").border_title == "stale: the last run was cancelled"
