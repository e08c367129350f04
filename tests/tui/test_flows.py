"""Every flow of the app driven by keys, against real builds and wasmtime runs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual.message import Message
from textual.widgets import DataTable, Log, OptionList, Static

from tests.tui.conftest import SIZE, app_for, config_file, notifications, settle, until
from workbench.config.user import load_config
from workbench.tui.screens.dialogs import Choice, CompareRuns, NewProject, RunDetails
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.main import MainScreen

SEED_PROMPT = "Write a haiku about oak trees\n\n### Response:"


def output_text(app) -> str:
    return str(app.screen.query_one("#output", Static).content)


async def test_edit_and_save_marks_then_clears_dirty(haiku_copy: Path) -> None:
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.editor.text_area.move_cursor((0, 0))
        await pilot.press("#", "space")
        assert screen.editor.dirty_files() == [haiku_copy / "haiku.py"]
        assert "●" in str(screen.query_one("#editor-title", Static).content)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert (haiku_copy / "haiku.py").read_text().startswith("# import skill")
        assert screen.editor.dirty_files() == []
        assert "●" not in str(screen.query_one("#editor-title", Static).content)
        assert not list(haiku_copy.glob(".haiku.py.*")), "atomic save leaves no temp file"


async def test_open_another_file_from_the_list(haiku_copy: Path) -> None:
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o", "down", "enter")
        screen = app.screen
        assert screen.editor.current == haiku_copy / "skill.wit"
        assert "world skill" in screen.editor.text_area.text


async def test_syntax_error_jump_fix_build_and_run(haiku_copy: Path) -> None:
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        area = screen.editor.text_area
        area.move_cursor((4, 25))  # after "class Skill(skill.Skill):"
        await pilot.press("backspace")
        area.move_cursor((0, 0))
        await pilot.press("f6")  # saves, then builds
        await settle(pilot)

        diagnostics = screen.query_one("#diagnostics", OptionList)
        assert diagnostics.display and diagnostics.option_count == 1
        assert "haiku.py:5:25: SyntaxError: expected ':'" in str(
            diagnostics.get_option_at_index(0).prompt
        )
        await pilot.press("enter")  # the diagnostics list has focus: jump
        await pilot.pause()
        assert area.has_focus and area.cursor_location == (4, 24)

        await pilot.press("colon", "f5")  # fix it where we landed, then run (builds first)
        await settle(pilot)
        assert (haiku_copy / "haiku.py").read_text().count("class Skill(skill.Skill):") == 1
        assert SEED_PROMPT in output_text(app)
        trace = screen.query_one("#trace", DataTable)
        assert trace.row_count == 1
        assert trace.get_row_at(0)[1] == "complete-text"
        detail = str(screen.query_one("#trace-detail", Static).content)
        model = "luminous-extended-control"
        assert f"model asked: {model} · served: {model} (as asked)" in detail
        assert screen.run_panel.status_text == "Run #1 finished: 1 CSI call."


async def test_escape_cancels_an_endless_loop_at_once(behaviours_copy: Path) -> None:
    app = app_for(behaviours_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        prints = screen.query_one("#prints", Log)
        screen.run_panel.input_text = "loop-loudly"
        await pilot.press("f5")
        # The skill says it is in its loop (the Prints tab marks stderr with "!").
        await until(lambda: "! looping" in prints.lines, within=30)  # a cold load: ~5 s
        # Not pilot.press: it would also wait out the 2 s "Cancelled." notification.
        app.simulate_key("escape")
        pressed = time.monotonic()
        await until(lambda: screen.run_panel.status_text == "Cancelled.")
        # Runs on one runtime take turns: the next one can only finish once the loop stopped.
        screen.run_panel.input_text = "after"
        app.simulate_key("f5")
        await until(lambda: screen.run_panel.status_text == "Run #1 finished: 1 CSI call.")
        assert time.monotonic() - pressed < 2, "the skill must stop within 2 s"
        assert output_text(app).endswith("received this prompt]\nafter")


async def test_a_run_past_its_timeout_is_stopped_and_says_so(behaviours_copy: Path):
    (behaviours_copy / "workbench.toml").write_text('[run]\ninput = "loop"\ntimeout = 0.5\n')
    app = app_for(behaviours_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert "stopped after 0.5 s" in output_text(app)
        assert app.screen.query_one("#output").has_class("-error")


async def test_history_rerun_and_compare(haiku_copy: Path) -> None:
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("f5")
        await settle(pilot)
        screen.run_panel.input_text = "pines"
        screen.run_panel.model = "luminous-base"
        await pilot.press("f5")
        await settle(pilot)
        history = screen.query_one("#history", DataTable)
        assert history.row_count == 2

        assert history.get_row_at(1)[1:5] == ["pines", "echo", "luminous-base", "ok"]

        screen.output.show("history")
        history.focus()
        await pilot.press("up", "enter")  # Enter opens the first run in full
        await pilot.pause()
        assert isinstance(app.screen, RunDetails)
        shown = str(app.screen.query_one("#run-details-text", Static).content)
        assert "input: oak trees" in shown and "Write a haiku about oak trees" in shown
        await pilot.press("escape")
        await pilot.press("f3")  # F3 re-runs it
        await settle(pilot)
        assert history.row_count == 3
        assert history.get_row_at(2)[1:4] == ["oak trees", "echo", "(skill's)"]
        assert "Write a haiku about oak trees" in output_text(app)

        history.move_cursor(row=1)
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, CompareRuns)
        left, right = app.screen.runs
        assert (left.input, right.input) == ("oak trees", "pines")
        assert right.result.csi_calls[0].model_served == "luminous-base"
        marked = [
            line
            for line in str(app.screen.query(Static).last().content).splitlines()
            if line.startswith("▌")
        ]
        assert "▌ input: pines" in marked and "▌ status: ok" not in marked
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_watch_mode_rebuilds_on_save_and_keeps_stale_output(haiku_copy: Path):
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("f2")
        assert screen.watching
        area = screen.editor.text_area
        area.move_cursor((6, 29))  # after `prompt = f"""Write a `
        await pilot.press("delete", "delete", "delete", "delete", "delete", *"poem")
        await pilot.press("ctrl+s")
        # The disk watcher sees the save and starts the run: wait for its result.
        await until(lambda: len(screen.history) == 1, within=60)
        await settle(pilot)
        assert "Write a poem about oak trees" in output_text(app)

        area.move_cursor((4, 25))
        await pilot.press("backspace", "ctrl+s")
        await until(lambda: screen.output.has_class("-stale"), within=60)
        assert "Write a poem about oak trees" in output_text(app), "last good output stays"


async def test_quit_with_unsaved_edits_asks_first(haiku_copy: Path) -> None:
    before = (haiku_copy / "haiku.py").read_text()
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x", "ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, Choice)
        await pilot.click("#cancel")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#discard")
        await pilot.pause()
    assert app.return_code == 0
    assert (haiku_copy / "haiku.py").read_text() == before


async def test_empty_folder_offers_a_new_project(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "README.md").write_text("notes\n")
    app = app_for(folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, NewProject)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.project.module == "haiku"
    assert (folder / "README.md").read_text() == "notes\n"


async def test_help_lists_every_key_and_the_keymap_remaps(haiku_copy: Path) -> None:
    app = app_for(haiku_copy, keymap={"run": "f12"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = {row[2]: row[0] for row in app.screen.rows}
        assert rows["run"] == "f12" and rows["build"] == "f6"
        assert set(rows) >= {
            "save",
            "run",
            "build",
            "cancel",
            "watch",
            "files",
            "external-editor",
            "rerun",
            "compare",
            "help",
            "quit",
        }
        await pilot.press("escape", "f12")
        await settle(pilot)
        assert SEED_PROMPT in output_text(app)


async def test_chosen_theme_is_remembered(haiku_copy: Path) -> None:
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.theme = "nord"
        for _ in range(100):  # the theme signal reaches its subscriber on a later turn
            await pilot.pause(0.02)
            if config_file().exists() and load_config(config_file()).theme == "nord":
                break
    assert load_config(config_file()).theme == "nord"
    config_file().unlink()


async def test_escape_cancels_a_build_and_leaves_the_last_component(haiku_copy: Path):
    component = haiku_copy / "build/haiku.wasm"
    before = component.read_bytes()
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("#", "f6")
        for _ in range(100):
            await asyncio.sleep(0.05)
            if screen.run_panel.activity == "Building" and _building(haiku_copy):
                break
        assert _building(haiku_copy)
        await pilot.press("escape")
        for _ in range(40):
            await asyncio.sleep(0.05)
            if not _building(haiku_copy):
                break
        assert not _building(haiku_copy), "componentize-py must be stopped"
        assert screen.run_panel.status_text == "Cancelled."
    assert component.read_bytes() == before
    assert not (haiku_copy / "build/.haiku.wasm.partial").exists()


def _building(project: Path) -> bool:
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(project).encode() in status.read_bytes():
                return True
        except OSError:
            continue
    return False


async def test_command_palette_runs_workbench_commands(haiku_copy: Path) -> None:
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Run", "enter")
        await settle(pilot)
        assert SEED_PROMPT in output_text(app)


async def test_a_failing_worker_shows_an_error_and_the_app_stays(
    haiku_copy: Path, monkeypatch
) -> None:
    # A deliberate bug in the screen's event handling stands in for any bug of ours.
    def broken_show(self, event) -> None:
        raise RuntimeError("deliberate bug")

    monkeypatch.setattr(MainScreen, "show_event", broken_show)
    app = app_for(haiku_copy)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, MainScreen)
        assert any(
            "The run failed unexpectedly (RuntimeError: deliberate bug)" in m
            for m in notifications(messages)
        )
        assert app.screen.run_panel.activity == ""
