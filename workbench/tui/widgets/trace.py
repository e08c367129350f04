"""The CSI trace: one row per call the skill made (what it asked, of which model, which one
answered, how long, how many tokens, what came back), the highlighted call in full below.

A row is marked `!` when the provider could not honour a parameter of the call, `✗` when the
call failed; the detail says which parameter and why, or the error. The request and response
columns share the width the other columns leave, so both stay on screen; where that is too
little, the model names are shortened first (the detail has them in full).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from workbench.csi.readable import call_detail, one_line, request_summary, response_summary
from workbench.csi.record import CsiCall
from workbench.tui.text import plain, shown_lines

COLUMNS = ("!", "function", "model asked", "served", "ms", "tokens", "request", "response")
NOTES_MARK = "!"
FAILED_MARK = "✗"
#: Where the model columns are, and the narrowest they and the summaries get.
ASKED, SERVED = 2, 3
MIN_MODEL = 11
MIN_SUMMARY = 12


def milliseconds(seconds: float) -> str:
    # Below 10 ms the figure is thread scheduling noise, not the model's time.
    return "<10" if seconds < 0.01 else f"{seconds * 1000:.0f}"


def tokens(call: CsiCall) -> str:
    """prompt→completion tokens, when the server reported them."""
    if call.prompt_tokens is None and call.completion_tokens is None:
        return ""
    return f"{call.prompt_tokens or 0}→{call.completion_tokens or 0}"


def mark(call: CsiCall) -> str:
    if call.error:
        return FAILED_MARK
    return NOTES_MARK if call.notes else ""


def fixed_cells(call: CsiCall) -> list[str]:
    """Every cell of the call's row but the request and the response."""
    served = call.model_served if call.model_served != call.model_requested else "="
    return [
        mark(call),
        call.function,
        one_line(call.model_requested or ""),
        one_line(served or ""),
        milliseconds(call.duration),
        tokens(call),
    ]


@dataclass(frozen=True)
class Layout:
    """How wide the summaries are, and the models at most."""

    summary: int = MIN_SUMMARY
    asked: int | None = None
    served: int | None = None


def fit(widths: list[int], available: int, padding: int) -> Layout:
    """The layout that fits a row with these widest cells (but the summaries) in `available`
    columns: the summaries share what is left, down to MIN_SUMMARY, then the models give way."""
    models = widths[ASKED] + widths[SERVED]
    rest = available - padding * len(COLUMNS) - (sum(widths) - models)
    if rest - models >= 2 * MIN_SUMMARY:
        return Layout((rest - models) // 2)
    budget = max(rest - 2 * MIN_SUMMARY, 2 * MIN_MODEL)
    served = min(widths[SERVED], max(budget // 2, MIN_MODEL))
    asked = min(widths[ASKED], max(budget - served, MIN_MODEL))
    return Layout(max(MIN_SUMMARY, (rest - asked - served) // 2), asked, served)


class TracePane(Vertical):
    """The table of calls and the detail of the highlighted one."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._calls: list[CsiCall] = []
        self._layout = Layout()
        #: The widest cell so far of each column but the last two.
        self._widths = [cell_len(label) for label in COLUMNS[:-2]]

    def compose(self) -> ComposeResult:
        yield DataTable(id="trace", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="trace-detail-scroll"):
            yield Static("", id="trace-detail", markup=False)

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)

    @property
    def table(self) -> DataTable:
        return self.query_one("#trace", DataTable)

    @property
    def calls(self) -> list[CsiCall]:
        return list(self._calls)

    def clear(self) -> None:
        self._calls = []
        self._layout = Layout()
        self._widths = [cell_len(label) for label in COLUMNS[:-2]]
        self.table.clear(columns=True)
        self.table.add_columns(*COLUMNS)
        self.query_one("#trace-detail", Static).update("")

    def add(self, call: CsiCall) -> None:
        self._calls.append(call)
        cells = fixed_cells(call)
        self._widths = [max(w, cell_len(c)) for w, c in zip(self._widths, cells, strict=True)]
        layout = self._fitting()
        if layout != self._layout and len(self._calls) > 1:
            self._layout = layout
            self._show_rows()
        else:
            self._layout = layout
            self._add_row(call)
        if len(self._calls) == 1:
            self.show_detail(0)

    def _add_row(self, call: CsiCall) -> None:
        layout = self._layout
        cells = fixed_cells(call)
        cells[ASKED] = one_line(cells[ASKED], layout.asked)
        cells[SERVED] = one_line(cells[SERVED], layout.served)
        # DataTable reads a str cell as markup: every cell is Text, so "[/]" is just text.
        self.table.add_row(
            *(plain(cell) for cell in cells),
            plain(one_line(request_summary(call), layout.summary)),
            plain(one_line(response_summary(call), layout.summary)),
        )

    def _show_rows(self) -> None:
        """Put every row on screen again (the summaries' width changed)."""
        table = self.table
        row = table.cursor_row
        table.clear(columns=True)  # columns keep the width of their widest cell ever
        table.add_columns(*COLUMNS)
        for call in self._calls:
            self._add_row(call)
        table.move_cursor(row=min(row, len(self._calls) - 1))

    def _fitting(self) -> Layout:
        available = (self.size.width or 120) - 2  # the scrollbar
        return fit(self._widths, available, 2 * self.table.cell_padding)

    def on_resize(self, event: events.Resize) -> None:
        layout = self._fitting()
        if self._calls and layout != self._layout:
            self._layout = layout
            self._show_rows()

    def show_detail(self, index: int) -> None:
        if 0 <= index < len(self._calls):
            detail = call_detail(self._calls[index])
            self.query_one("#trace-detail", Static).update(shown_lines(detail))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "trace":
            event.stop()
            self.show_detail(event.cursor_row)
