"""The output area: tabs for the result, the build log, the skill's prints, the CSI trace and
the run history. Workers feed it; it never starts work itself."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Log, OptionList, Static, TabbedContent, TabPane, Tabs
from textual.widgets.option_list import Option

from workbench.build.diagnostics import Diagnostic
from workbench.run.csi import CsiCall
from workbench.run.runtime import RunResult
from workbench.tui.state import RunRecord
from workbench.tui.text import plain, shown


def _short(text: str, width: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _milliseconds(seconds: float) -> str:
    # Below 10 ms the figure is thread scheduling noise, not the model's time.
    return "<10" if seconds < 0.01 else f"{seconds * 1000:.0f}"


def _tokens(call: CsiCall) -> str:
    """prompt→completion tokens, when the server reported them."""
    if call.prompt_tokens is None and call.completion_tokens is None:
        return ""
    return f"{call.prompt_tokens or 0}→{call.completion_tokens or 0}"


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
        self._calls: list[CsiCall] = []
        self.history: list[RunRecord] = []

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs", initial="tab-output"):
            with TabPane("Output", id="tab-output"):
                yield Static("Run the skill to see its output here.", id="output", markup=False)
            with TabPane("Build", id="tab-build"):
                yield OptionList(id="diagnostics")
                yield Log(id="build-log", highlight=False)
            with TabPane("Prints", id="tab-prints"):
                yield Log(id="prints", highlight=False)
            with TabPane("CSI trace", id="tab-trace"):
                yield DataTable(id="trace", cursor_type="row", zebra_stripes=True)
                yield Static("", id="trace-detail", markup=False)
            with TabPane("History", id="tab-history"):
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#trace", DataTable).add_columns(
            "#", "function", "model asked", "served", "ms", "tokens", "prompt", "reply"
        )
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
    def start_run(self) -> None:
        self.query_one("#prints", Log).clear()
        self.query_one("#trace", DataTable).clear()
        self.query_one("#trace-detail", Static).update("")
        self._calls = []

    def add_print(self, stream: str, text: str) -> None:
        log = self.query_one("#prints", Log)
        prefix = "! " if stream == "stderr" else ""
        text = shown(text)  # Log drops only some controls, and keeps lone surrogates
        log.write(
            "".join(prefix + line for line in text.splitlines(keepends=True)) if prefix else text
        )

    def add_call(self, call: CsiCall) -> None:
        self._calls.append(call)
        served = call.model_served if call.model_served != call.model_requested else "="
        reply = call.reply if call.reply is not None else f"error: {call.error}"
        # DataTable reads a str cell as markup: every cell is Text, so "[/]" is just text.
        self.query_one("#trace", DataTable).add_row(
            str(len(self._calls)),
            plain(call.function),
            plain(call.model_requested),
            plain(served),
            _milliseconds(call.duration),
            _tokens(call),
            plain(_short(str(call.arguments.get("prompt", "")))),
            plain(_short(reply)),
        )

    @property
    def calls(self) -> list[CsiCall]:
        """The CSI calls of the run on screen."""
        return list(self._calls)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "trace" and 0 <= event.cursor_row < len(self._calls):
            call = self._calls[event.cursor_row]
            self.query_one("#trace-detail", Static).update(
                shown(
                    f"prompt ({call.model_requested} → {call.model_served}):\n"
                    f"{call.arguments.get('prompt', '')}\n\nreply:\n{call.reply or call.error}"
                )
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "history" and 0 <= event.cursor_row < len(self.history):
            self.post_message(self.HistoryChosen(self.history[event.cursor_row]))

    def show_result(self, result: RunResult) -> None:
        output = self.query_one("#output", Static)
        self.remove_class("-stale")
        if result.error is None:
            output.update(shown(result.output or ""))
            output.remove_class("-error")
        else:
            details = getattr(result.error, "details", "")
            output.update(plain(f"{result.error}\n\n{details}".rstrip()))
            output.add_class("-error")
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
            plain(_short(record.input, 20)),
            plain(record.provider),
            plain(record.model or "(skill's)"),
            plain(record.status),
            f"{record.result.timings.run * 1000:.0f}",
            plain(_short(record.result.output or str(record.result.error or ""))),
        )

    def selected_history(self) -> RunRecord | None:
        table = self.query_one("#history", DataTable)
        if not self.history:
            return None
        return self.history[min(table.cursor_row, len(self.history) - 1)]
