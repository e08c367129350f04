"""The app survives any text: whatever the skill, the model, the user's files, the config or
an error says is shown as itself, never read as markup, never sent to the terminal as a
control sequence. Before, `oak [/] trees` as the input crashed the app at F5 (MarkupError in
a DataTable cell), and an unsaved edit was lost with it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rich.text import Text
from textual.app import App
from textual.message import Message
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Label, Log, OptionList, Static
from textual.widgets._data_table import default_cell_formatter
from textual.widgets._toast import Toast

from tests.tui.conftest import SIZE, abbreviates, app_for, notifications, settle, until
from workbench.build.diagnostics import Diagnostic
from workbench.csi.readable import one_line
from workbench.csi.record import CsiCall
from workbench.errors import RunError
from workbench.flows import RunRequest
from workbench.run.results import RunResult
from workbench.tui.screens.dialogs import Choice, CompareRuns, RunDetails
from workbench.tui.screens.main import MainScreen
from workbench.tui.state import RunHistory
from workbench.tui.text import shown
from workbench.tui.widgets.file_list import FileList
from workbench.tui.widgets.output import OutputTabs

#: What must never reach the terminal: controls (ESC, BEL, C1…) and lone surrogates.
UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def output_text(app: App) -> str:
    return str(app.screen.query_one("#output", Static).content)


def cell_text(cell: object) -> str:
    """A DataTable cell as the table itself renders it (its own formatter)."""
    renderable = default_cell_formatter(cell)
    assert isinstance(renderable, Text)
    return renderable.plain


def widget_text(widget: Widget) -> str:
    """What a Static, Label or Toast shows, as text."""
    return widget.render().plain  # type: ignore[union-attr]


def screen_chars(app: App) -> str:
    """Every character the active screen's widgets put on their visible lines."""
    chars = []
    for widget in app.screen.query("*"):
        if widget.display and widget.size.height:
            for y in range(widget.size.height):
                chars.extend(segment.text for segment in widget.render_line(y))
    return "".join(chars)


def assert_nothing_unshowable(app: App) -> None:
    assert not UNSHOWABLE.search(screen_chars(app))


# The crashes of the issue, reproduced ----------------------------------------------------------


async def test_markup_like_input_runs_and_an_unsaved_edit_survives(haiku_copy: Path) -> None:
    app = app_for(haiku_copy, save_before_build="ask")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.editor.text_area.move_cursor((0, 0))
        await pilot.press("#", "space")  # an unsaved edit
        screen.run_panel.input_text = ""
        screen.query_one("#run-input").focus()
        await pilot.press(*"oak [/] trees")
        assert screen.run_panel.input_text == "oak [/] trees"
        await pilot.press("f5")
        await until(lambda: isinstance(app.screen, Choice))
        await pilot.click("#skip")  # build the saved files; keep the edit unsaved
        await settle(pilot)
        await pilot.pause()

        assert app.is_running and app.screen is screen
        assert "Write a haiku about oak [/] trees" in output_text(app)
        trace = screen.query_one("#trace", DataTable)
        assert trace.row_count == 1
        request = cell_text(trace.get_row_at(0)[6])
        assert abbreviates(request, "Write a haiku about oak [/] trees ### Response:")
        detail = widget_text(screen.query_one("#trace-detail", Static))
        assert "\n    Write a haiku about oak [/] trees\n" in detail
        history = screen.query_one("#history", DataTable)
        assert cell_text(history.get_row_at(0)[1]) == "oak [/] trees"
        assert screen.editor.dirty_files() == [haiku_copy / "haiku.py"]
        assert screen.editor.text_area.text.startswith("# ")


async def test_markup_like_model_and_prompt_show_literally(behaviours_copy: Path) -> None:
    app = app_for(behaviours_copy)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        # The skill passes any other input as the prompt, and asks "behaviour-model"; the
        # override is the model served, shown in the trace and History.
        screen.run_panel.input_text = "[@click=app.quit]x[/] [bold]"
        screen.run_panel.model = "[/bold]x"
        await pilot.press("f5")
        await settle(pilot)
        await pilot.pause()

        assert app.is_running
        assert "[@click=app.quit]x[/] [bold]" in output_text(app)
        assert "model '[/bold]x'" in output_text(app)
        trace = screen.query_one("#trace", DataTable)
        row = [cell_text(cell) for cell in trace.get_row_at(0)]
        assert abbreviates(row[2], "behaviour-model") and row[3] == "[/bold]x"
        assert abbreviates(row[6], "[@click=app.quit]x[/] [bold]")
        screen.output.show("trace")
        trace.focus()
        await pilot.pause()
        detail = widget_text(screen.query_one("#trace-detail", Static))
        assert "model asked: behaviour-model · served: [/bold]x\n" in detail
        assert "  prompt: [@click=app.quit]x[/] [bold]" in detail
        history = screen.query_one("#history", DataTable)
        cells = [cell_text(c) for c in history.get_row_at(0)[1:4]]
        assert cells == ["[@click=app.quit]x[…", "echo", "[/bold]x"]  # the input, shortened

        # A markup-like error message in a notification and the status line.
        screen.notify("no model [/bold]x", severity="error")
        screen.show_status("failed: [/]")
        await pilot.pause()
        assert app.is_running
        assert "no model [/bold]x" in notifications(messages)
        assert screen.run_panel.status_text == "failed: [/]"


# Any text, through every path that shows the skill's, the model's or a file's text ------------

MARKUPISH = st.sampled_from(
    [
        "[/]",
        "[bold]",
        "[/bold]x",
        "[@click=app.quit]x[/]",
        "[link=file:///etc]l[/link]",
        "\\[b]",
        "x\\",
        "[",
        "]",
        "\x1b]0;title\x07",
        "\x1b[2J",
        "\x1b[31mred",
        "\x9b2J",
        "\r\n",
        "\r",
        "\t",
        "\ud800",
        "\udfff",
        "\x00",
        "\u2028",
        "é́",
        "表",
        "🤖",
    ]
)
ANY_TEXT = st.lists(st.one_of(MARKUPISH, st.text(max_size=12)), max_size=5).map("".join)


async def show_everywhere(app: App, pilot: Pilot, texts: list[str]) -> None:
    """Put each text through every widget-facing path, check each shows it literally."""
    screen = app.screen
    assert isinstance(screen, MainScreen)
    output = screen.query_one(OutputTabs)
    history = RunHistory()
    records = []
    for index, text in enumerate(texts):
        call = CsiCall(
            function="complete-text",
            csi="complete_text",
            request={"prompt": text, "model": text},
            response=text,
            model_requested=text,
            model_served=text + "!",
            duration=0.1,
            provider=text,
            notes=(text,),
        )
        failed = index % 2 == 1
        result = RunResult(
            input=text,
            component=Path("skill.wasm"),
            output=None if failed else text,
            stdout=text,
            stderr=text,
            csi_calls=[call],
            provider=text,
            error=RunError(text, details=text) if failed else None,
        )
        records.append(history.add(RunRequest(text, model_override=text, provider=text), result))

        output.start_run()
        output.add_print("stdout", text)
        output.add_print("stderr", text)
        output.add_call(call)
        output.add_history(records[-1])
        output.show_result(result)
        output.start_build(text)
        output.add_build_line(text)
        output.show_diagnostics([Diagnostic(text, Path("/p") / "f.py", 1, 2)], Path("/p"))
        output.mark_stale(text)
        # Only its name is used: no file is made ("_" first: a text starting with "/" stays in).
        file = screen.project.root / f"_{text}.py"
        screen.query_one(FileList).show_files([file])
        screen.notify(text, title=text, severity="error")
        screen.show_status(text)
        await pilot.pause()

        expected = shown(text)
        row = screen.query_one("#trace", DataTable).get_row_at(0)
        assert cell_text(row[1]) == "complete-text"
        # A model name is shown on one line: its white space (line breaks too) as spaces.
        assert abbreviates(cell_text(row[2]), shown(one_line(text)))
        assert abbreviates(cell_text(row[3]), shown(one_line(text + "!")))
        history_row = screen.query_one("#history", DataTable).get_row_at(index)
        assert cell_text(history_row[3]) == (expected or "(skill's)")
        said = f"{text}\n\n{text}".rstrip() if failed else text
        assert widget_text(screen.query_one("#output", Static)) == shown(said)
        option = screen.query_one("#diagnostics", OptionList).get_option_at_index(0).prompt
        assert isinstance(option, Text) and option.plain == f"f.py:1:2: {expected}"
        file_label = screen.query_one(FileList).get_option_at_index(0).prompt
        name = shown(file.relative_to(screen.project.root))  # a path collapses "//"
        assert isinstance(file_label, Text) and file_label.plain == name
        assert screen.run_panel.status_text == expected
        prints = "\n".join(screen.query_one("#prints", Log).lines)
        assert not UNSHOWABLE.search(prints)

    # The trace detail of the last call, shown when its row is highlighted.
    output.show("trace")
    screen.query_one("#trace", DataTable).focus()
    await pilot.pause()
    detail = widget_text(screen.query_one("#trace-detail", Static))
    # The prompt, the reply and the note, each line as itself (a prompt's lines indented).
    assert all(line in detail for line in shown(texts[-1]).split("\n"))
    assert f"! {shown(texts[-1])}" in detail

    toasts = [widget_text(toast) for toast in app.screen.query(Toast)]
    for text in texts:
        assert any(shown(text) in toast for toast in toasts)
    assert_nothing_unshowable(app)

    for record in records:
        await app.push_screen(RunDetails(record))
        await pilot.pause()
        assert widget_text(app.screen.query_one("#run-details-text", Static)) == shown(
            record.describe()
        )
        assert_nothing_unshowable(app)
        app.pop_screen()
    if len(records) > 1:
        await app.push_screen(CompareRuns(records[0], records[1]))
        await pilot.pause()
        columns = "\n".join(widget_text(s) for s in app.screen.query(Static))
        for record in records[:2]:
            for line in record.describe().splitlines():
                assert shown(line) in columns
        assert_nothing_unshowable(app)
        app.pop_screen()
    for text in texts:
        await app.push_screen(Choice(text, [("ok", "OK")]))
        await pilot.pause()
        question = app.screen.query_one(".dialog-question", Label)
        assert widget_text(question) == shown(text)
        assert_nothing_unshowable(app)
        app.pop_screen()


@settings(
    max_examples=7,
    deadline=None,
    # Each example starts the app (~1 s): shrinking would take minutes; the failing batch
    # is reported as generated.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(ANY_TEXT, min_size=1, max_size=6))
def test_any_text_is_shown_as_itself(haiku_copy: Path, texts: list[str]) -> None:
    async def check() -> None:
        app = app_for(haiku_copy)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            await show_everywhere(app, pilot, texts)
            await pilot.pause()  # a full refresh: any markup error would surface here
            assert app.is_running and isinstance(app.screen, MainScreen)
            assert_nothing_unshowable(app)
        assert app.return_code in (None, 0)

    asyncio.run(check())
