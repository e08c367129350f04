"""F1: every key, as currently mapped (the user's keymap included)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from workbench.tui.text import plain, shown


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss(None)", "Close", id="help.close")]

    def __init__(self, rows: list[tuple[str, str, str]], config_file: str) -> None:
        super().__init__(classes="dialog")
        self.rows = rows
        self.config_file = config_file

    def compose(self) -> ComposeResult:
        with Vertical(id="help-body"):
            yield Label(
                shown(f"Every key. Remap one by its id under [keymap] in {self.config_file}"),
                id="help-title",
                markup=False,
            )
            table = DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            table.add_columns("key", "what it does", "id")
            for row in self.rows:
                table.add_row(*map(plain, row))  # keys come from the user's keymap
            yield table
