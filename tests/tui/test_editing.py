"""No edit is ever lost: quitting by any way asks, files changed on disk are noticed, the open
file is never reloaded under the cursor, and typing does not walk the project."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import TextArea

from tests.tui.conftest import SIZE, app_for, notifications, settle, until
from workbench.project import model as project_model
from workbench.tui.screens.dialogs import Choice, CompareTexts
from workbench.tui.screens.main import MainScreen


async def type_at_start(pilot, text: str) -> None:
    area = pilot.app.screen.editor.text_area
    area.move_cursor((0, 0))
    await pilot.press(*("enter" if char == "\n" else char for char in text))


async def test_quit_from_the_command_palette_asks_about_unsaved_edits(haiku_copy):
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_at_start(pilot, "#")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"quit")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, Choice))
        assert "haiku.py has unsaved edits" in app.screen.question
        await pilot.press("escape")  # keep editing
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, MainScreen)
        assert app.screen.editor.dirty_files() == [haiku_copy / "haiku.py"]


async def test_an_unedited_file_changed_on_disk_is_reloaded_with_a_notice(haiku_copy):
    app = app_for(haiku_copy)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        source = haiku_copy / "haiku.py"
        source.write_text("# changed by git checkout\n" + source.read_text())
        area = app.screen.editor.text_area
        await until(lambda: area.text.startswith("# changed by git checkout"))
        assert any("haiku.py changed on disk; reloaded" in m for m in notifications(messages))
        assert app.screen.editor.dirty_files() == []
        await pilot.press("ctrl+z")  # the reload is one edit: undo brings the old text back
        assert not area.text.startswith("# changed")


@pytest.mark.parametrize("answer", ["mine", "theirs"])
async def test_an_edited_file_changed_on_disk_asks_and_is_never_overwritten_silently(
    haiku_copy, answer
):
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_at_start(pilot, "# mine\n")
        source = haiku_copy / "haiku.py"
        theirs = "# theirs\n" + source.read_text()
        source.write_text(theirs)
        await pilot.press("ctrl+s")  # whether the watcher or the save sees it first, it asks
        await until(lambda: isinstance(app.screen, Choice))
        assert "haiku.py changed on disk" in app.screen.question
        assert source.read_text() == theirs, "nothing is written before the user chose"

        await pilot.click("#compare")
        await until(lambda: isinstance(app.screen, CompareTexts))
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, Choice))
        await pilot.click(f"#{answer}")
        await settle(pilot)
        area = app.screen.editor.text_area
        if answer == "theirs":
            assert area.text == theirs and app.screen.editor.dirty_files() == []
        else:
            assert area.text.startswith("# mine\n")
            await pilot.press("ctrl+s")  # now written on purpose, without asking again
            await until(lambda: source.read_text().startswith("# mine\n"))
            assert not isinstance(app.screen, Choice)


async def test_choosing_the_open_file_again_keeps_undo_history_and_cursor(haiku_copy):
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        area: TextArea = screen.editor.text_area
        area.move_cursor((5, 4))
        await pilot.press(*"xyz")
        cursor = area.cursor_location
        await pilot.press("ctrl+o")
        files = screen.query_one("#files")
        files.highlighted = 0  # haiku.py, the open file
        await pilot.press("enter")
        await pilot.pause()
        assert area.cursor_location == cursor
        screen.editor.open(haiku_copy / "haiku.py", 3, 1)  # what Enter on a build error does
        await pilot.pause()
        assert area.cursor_location == (2, 0)
        area.focus()
        await pilot.press("ctrl+z")
        assert "xyz" not in area.text, "the typing is still in the undo history"


async def test_typing_does_not_walk_the_project(haiku_copy, monkeypatch):
    walks: list[Path] = []
    real_walk = project_model.walk_project

    def counting_walk(root: Path, suffixes=None) -> list[Path]:
        walks.append(root)
        return real_walk(root, suffixes)

    monkeypatch.setattr(project_model, "walk_project", counting_walk)  # a spy: the walk is real
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = len(walks)
        await type_at_start(pilot, "# twenty keystrokes!")
        await pilot.pause()
        assert len(walks) == before
        assert "haiku.py ●" in str(app.screen.query_one("#files").get_option_at_index(0).prompt)


async def test_a_project_that_cannot_be_created_is_said_in_the_dialog():
    # /proc/self has no skill and refuses new files even to root: a real OSError.
    app = app_for(Path("/proc/self"))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: type(app.screen).__name__ == "NewProject")
        assert app.focused is not None and app.focused.id == "new-name"
        await pilot.press("enter")
        await until(lambda: bool(app.screen.query(".dialog-error")))
        problem = str(app.screen.query_one(".dialog-error").content)
        assert problem.startswith("Cannot create the project in /proc/")
        assert app.is_running
