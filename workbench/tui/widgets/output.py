"""The output area: tabs for the result (a message stream's messages as they are written),
the build log, the skill's prints, the CSI trace, the run history, what the skill is, and
the requests of the local server (Serve). Workers feed it; it never starts work itself."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Log, OptionList, Static, TabbedContent, TabPane, Tabs
from textual.widgets.option_list import Option

from workbench.build.diagnostics import Diagnostic
from workbench.csi.readable import one_line
from workbench.csi.record import CsiCall
from workbench.run.results import RunResult
from workbench.tui.state import RunRecord
from workbench.tui.text import plain, shown
from workbench.tui.widgets.messages import MessageView
from workbench.tui.widgets.requests import RequestsView
from workbench.tui.widgets.skill_info import SkillPanel
from workbench.tui.widgets.trace import TracePane


class OutputTabs(Vertical):
    class DiagnosticChosen(Message):
        def __init__(self, diagnostic: Diagnostic) -> None:
            super().__init__()
            self.diagnostic = diagnostic

    class HistoryChosen(Message):
        def __init__(self, record: RunRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._diagnostics: list[Diagnostic] = []
        self.history: list[RunRecord] = []

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs", initial="tab-output"):
            with TabPane("Output", id="tab-output"):
                yield MessageView(id="messages")
                yield Static("Run the skill to see its output here.", id="output", markup=False)
            with TabPane("Build", id="tab-build"):
                yield OptionList(id="diagnostics")
                yield Log(id="build-log", highlight=False)
            with TabPane("Prints", id="tab-prints"):
                yield Log(id="prints", highlight=False)
            with TabPane("CSI trace", id="tab-trace"):
                yield TracePane(id="trace-pane")
            with TabPane("History", id="tab-history"):
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            with TabPane("Skill", id="tab-skill"):
                yield SkillPanel(id="skill-panel")
            with TabPane("Serve", id="tab-serve"):
                yield RequestsView(id="serve-view")

    def on_mount(self) -> None:
        self.query_one(MessageView).display = False
        self.query_one("#history", DataTable).add_columns(
            "#", "input", "provider", "model", "status", "run ms", "output"
        )
        self.query_one("#diagnostics", OptionList).display = False

    def show(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = f"tab-{tab}"

    def focus_tab(self) -> None:
        """Focus what the active tab shows, or its tab bar (arrows then switch tabs)."""
        tabs = self.query_one("#tabs", TabbedContent)
        pane = tabs.get_pane(tabs.active)
        focusable = [widget for widget in pane.query("*") if widget.focusable and widget.display]
        if focusable:
            focusable[0].focus()
        else:
            tabs.query_one(Tabs).focus()

    # Build -------------------------------------------------------------------------------
    def start_build(self, command: str) -> None:
        log = self.query_one("#build-log", Log)
        log.clear()
        log.write_line(shown(f"$ {command}"))
        self.show_diagnostics([])

    def add_build_line(self, line: str) -> None:
        self.query_one("#build-log", Log).write_line(shown(line))

    def show_diagnostics(self, diagnostics: list[Diagnostic], root: object = None) -> None:
        self._diagnostics = list(diagnostics)
        options = self.query_one("#diagnostics", OptionList)
        options.clear_options()
        relative = root if root is not None else None
        for index, diagnostic in enumerate(diagnostics):
            options.add_option(Option(plain(diagnostic.format(relative)), id=str(index)))  # type: ignore[arg-type]
        options.display = bool(diagnostics)
        if diagnostics:
            options.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "diagnostics" and event.option.id is not None:
            self.post_message(self.DiagnosticChosen(self._diagnostics[int(event.option.id)]))

    # Run ---------------------------------------------------------------------------------
    @property
    def trace(self) -> TracePane:
        return self.query_one(TracePane)

    @property
    def messages(self) -> MessageView:
        return self.query_one(MessageView)

    @property
    def skill_panel(self) -> SkillPanel:
        return self.query_one(SkillPanel)

    @property
    def requests(self) -> RequestsView:
        return self.query_one(RequestsView)

    def start_run(self) -> None:
        self.query_one("#prints", Log).clear()
        self.trace.clear()
        self.messages.clear()

    def add_print(self, stream: str, text: str) -> None:
        log = self.query_one("#prints", Log)
        prefix = "! " if stream == "stderr" else ""
        text = shown(text)  # Log drops only some controls, and keeps lone surrogates
        log.write(
            "".join(prefix + line for line in text.splitlines(keepends=True)) if prefix else text
        )

    def add_call(self, call: CsiCall) -> None:
        self.trace.add(call)

    def add_message(self, event: dict[str, Any]) -> None:
        """One event of a message stream: the message grows on the Output tab."""
        messages = self.messages
        if not messages.display:
            output = self.query_one("#output", Static)
            output.update("")
            output.display = False
            self.remove_class("-stale")
        messages.add(event)

    @property
    def calls(self) -> list[CsiCall]:
        """The CSI calls of the run on screen."""
        return self.trace.calls

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "history" and 0 <= event.cursor_row < len(self.history):
            self.post_message(self.HistoryChosen(self.history[event.cursor_row]))

    def show_result(self, result: RunResult) -> None:
        output = self.query_one("#output", Static)
        self.remove_class("-stale")
        streamed = result.skill_kind == "message-stream" and bool(result.messages)
        if streamed:
            self.messages.show_events(result.messages)
        else:
            self.messages.clear()
        if result.error is None:
            output.update("" if streamed else shown(result.output or ""))
            output.remove_class("-error")
        else:
            details = getattr(result.error, "details", "")
            output.update(plain(f"{result.error}\n\n{details}".rstrip()))
            output.add_class("-error")
        output.display = not streamed or result.error is not None
        self.show("output")

    def show_refusal(self, sentence: str) -> None:
        """The input was refused before the run: say why, in place of the output."""
        self.messages.clear()
        output = self.query_one("#output", Static)
        output.update(plain(sentence))
        output.add_class("-error")
        output.display = True
        self.remove_class("-stale")
        self.show("output")

    def mark_stale(self, reason: str) -> None:
        """Keep the last good output on screen, but say it no longer matches the source."""
        self.add_class("-stale")
        # A border title is markup: keep a reason that quotes an error as plain text.
        self.query_one("#tab-output", TabPane).border_title = plain(f"stale: {reason}")

    def add_history(self, record: RunRecord) -> None:
        self.history.append(record)
        self.query_one("#history", DataTable).add_row(
            str(record.number),
            plain(one_line(record.input, 20)),
            plain(record.provider),
            plain(record.model or "(skill's)"),
            plain(f"{record.status} · {record.note}" if record.note else record.status),
            f"{record.result.timings.run * 1000:.0f}",
            plain(one_line(record.result.output or str(record.result.error or ""), 40)),
        )

    def selected_history(self) -> RunRecord | None:
        table = self.query_one("#history", DataTable)
        if not self.history:
            return None
        return self.history[min(table.cursor_row, len(self.history) - 1)]
