"""Small modal dialogs: a question with buttons, and the side-by-side run comparison."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from workbench.tui.widgets.output import RunRecord


class Choice(ModalScreen[str]):
    """Ask one question; dismisses with the id of the button pressed ("cancel" on escape)."""

    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel", id="dialog.cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(self.question, classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                for choice_id, label in self.choices:
                    variant = "primary" if choice_id == self.choices[0][0] else "default"
                    yield Button(label, id=choice_id, variant=variant)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


class NewProject(ModalScreen[str | None]):
    """Offer to create a skill from the template in a folder that has none."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")]

    def __init__(self, folder: str) -> None:
        super().__init__(classes="dialog")
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Label(
                f"There is no skill in {self.folder}/ yet.\n\nCreate one from the "
                "template (the seed's haiku)? Name it:",
                classes="dialog-question",
            )
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


class CompareRuns(ModalScreen[None]):
    """Two runs side by side: input, model, output, prints and timings."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Close", id="dialog.close")]

    def __init__(self, left: RunRecord, right: RunRecord) -> None:
        super().__init__(classes="dialog")
        self.runs = (left, right)

    def compose(self) -> ComposeResult:
        with Horizontal(id="compare"):
            for record in self.runs:
                with VerticalScroll(classes="compare-column"):
                    yield Static(_describe(record), markup=False)


def _describe(record: RunRecord) -> str:
    result = record.result
    timings = result.timings
    body = result.output if result.ok else f"{result.error}"
    calls = (
        "\n".join(
            f"  {c.function}({c.model_requested} → {c.model_served}) {c.duration * 1000:.1f} ms"
            for c in result.csi_calls
        )
        or "  none"
    )
    return (
        f"Run #{record.number}\ninput: {record.input}\nmodel: "
        f"{record.model or '(skill’s own)'}\nstatus: {record.status}\n"
        f"load {timings.load * 1000:.1f} ms · instantiate {timings.instantiate * 1000:.1f} ms"
        f" · run {timings.run * 1000:.1f} ms\n\nCSI calls:\n{calls}\n\noutput:\n{body}\n\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
