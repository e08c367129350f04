"""Small modal dialogs: a question with buttons, and the side-by-side run comparison."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from workbench.tui.state import ComparedLine, RunRecord, compare_lines
from workbench.tui.text import plain, shown


class Choice(ModalScreen[str]):
    """Ask one question; dismisses with the id of the button pressed ("cancel" on escape)."""

    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel", id="dialog.cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(shown(self.question), classes="dialog-question", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for choice_id, label in self.choices:
                    variant = "primary" if choice_id == self.choices[0][0] else "default"
                    yield Button(label, id=choice_id, variant=variant)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


class NewProject(ModalScreen[str | None]):
    """Offer to create a skill from the template in a folder that has none."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")]

    AUTO_FOCUS = "#new-name"

    def __init__(self, folder: str, problem: str = "") -> None:
        super().__init__(classes="dialog")
        self.folder = folder
        #: Why the last try failed, shown above the name.
        self.problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(
                shown(
                    f"There is no skill in {self.folder}/ yet.\n\nCreate one from the "
                    "template (the seed's haiku)? Name it:"
                ),
                classes="dialog-question",
                markup=False,
            )
            if self.problem:
                yield Label(shown(self.problem), classes="dialog-error", markup=False)
            yield Input("haiku", placeholder="skill name", id="new-name")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", id="create", variant="primary")
                yield Button("Quit", id="quit")

    def on_input_submitted(self) -> None:
        self._create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self._create()
        else:
            self.dismiss(None)

    def _create(self) -> None:
        name = self.query_one("#new-name", Input).value.strip()
        if name:
            self.dismiss(name)


class CompareTexts(ModalScreen[None]):
    """Two texts side by side, every line that has no equal on the other side marked."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Close", id="dialog.close")]

    def __init__(self, left: tuple[str, str], right: tuple[str, str]) -> None:
        """Each side is (title, text)."""
        super().__init__(classes="dialog")
        self.sides = (left, right)

    def compose(self) -> ComposeResult:
        (left_title, left), (right_title, right) = self.sides
        marked = compare_lines(left, right)
        with Horizontal(id="compare"):
            for title, lines in zip((left_title, right_title), marked, strict=True):
                column = VerticalScroll(classes="compare-column")
                column.border_title = plain(title)  # a border title is markup
                with column:
                    yield Static(_marked(lines))


class CompareRuns(CompareTexts):
    """Two runs of History side by side: input, provider, model, output, prints, timings."""

    def __init__(self, left: RunRecord, right: RunRecord) -> None:
        super().__init__(
            (f"run #{left.number}", left.describe()), (f"run #{right.number}", right.describe())
        )
        self.runs = (left, right)


def _marked(lines: list[ComparedLine]) -> Text:
    text = Text()
    for line in lines:
        if line.differs:
            text.append("▌ ", style="bold red")
            text.append(shown(line.text), style="bold")
        else:
            text.append("  " + shown(line.text))
        text.append("\n")
    return text


class RunDetails(ModalScreen[None]):
    """A past run in full: input, provider, model, output, prints, CSI calls and timings."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Close", id="dialog.close")]

    def __init__(self, record: RunRecord) -> None:
        super().__init__(classes="dialog")
        self.record = record

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="run-details"):
            yield Static(shown(self.record.describe()), markup=False, id="run-details-text")
