"""The run panel: the skill's input, the model override, and a live status line."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static

from workbench.tui.text import plain, shown

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class RunPanel(Vertical):
    #: What is running now ("Building", "Running"), or "" when idle.
    activity: reactive[str] = reactive("")

    def __init__(
        self,
        *,
        input_text: str,
        model: str | None,
        providers: list[str],
        provider: str,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._input_text = input_text
        self._model = model or ""
        self._providers = providers
        self._provider = provider if provider in providers else providers[0]
        self._started = 0.0
        self._frame = 0
        self._settled = "Ready: f5 runs, f6 builds."

    def compose(self) -> ComposeResult:
        yield Label("Input")
        yield Input(self._input_text, placeholder="the skill's input", id="run-input")
        yield Label("Provider")
        yield Select(
            # A str prompt is markup; provider names come from the user's config.
            [(plain(name), name) for name in self._providers],
            value=self._provider,
            allow_blank=False,
            id="run-provider",
            compact=True,
        )
        yield Label("Model override")
        yield Input(self._model, placeholder="the skill's own", id="run-model")
        yield Static(self._settled, id="status", markup=False)

    def on_mount(self) -> None:
        self.set_interval(0.1, self._tick)

    @property
    def input_text(self) -> str:
        return self.query_one("#run-input", Input).value

    @input_text.setter
    def input_text(self, value: str) -> None:
        self.query_one("#run-input", Input).value = value

    def expect_json(self, json_input: bool) -> None:
        """Say in the empty input field whether the skill takes JSON."""
        self.query_one("#run-input", Input).placeholder = (
            "the skill's JSON input" if json_input else "the skill's input"
        )

    def refuse_input(self, sentence: str) -> None:
        """Mark the input as refused (until it is edited); the sentence says why."""
        field = self.query_one("#run-input", Input)
        field.add_class("-refused")
        field.tooltip = plain(sentence)  # a str tooltip would be read as markup

    @property
    def input_refused(self) -> bool:
        return self.query_one("#run-input", Input).has_class("-refused")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "run-input" and event.input.has_class("-refused"):
            event.input.remove_class("-refused")
            event.input.tooltip = None

    @property
    def provider_name(self) -> str:
        return str(self.query_one("#run-provider", Select).value)

    def set_providers(self, names: list[str]) -> None:
        select = self.query_one("#run-provider", Select)
        current = self.provider_name
        select.set_options([(plain(name), name) for name in names])
        select.value = current if current in names else names[0]

    def set_models(self, models: list[str]) -> None:
        """Offer these model names as completions in the model field."""
        self.query_one("#run-model", Input).suggester = SuggestFromList(models)

    @property
    def model(self) -> str | None:
        return self.query_one("#run-model", Input).value.strip() or None

    @model.setter
    def model(self, value: str | None) -> None:
        self.query_one("#run-model", Input).value = value or ""

    def watch_activity(self, activity: str) -> None:
        self.screen.refresh_bindings()  # the cancel key shows only while something runs
        self._started = time.monotonic()
        self.set_class(bool(activity), "-busy")
        if activity:
            self._tick()
        else:
            self.query_one("#status", Static).update(self._settled)

    def say(self, text: str) -> None:
        """Set the settled status: what the last task came to, shown once nothing runs."""
        text = shown(text)  # it may quote an error or a file name
        self._settled = text
        if not self.activity:
            self.query_one("#status", Static).update(text)

    @property
    def status_text(self) -> str:
        return str(self.query_one("#status", Static).content)

    def _tick(self) -> None:
        if not self.activity:
            return
        self._frame = (self._frame + 1) % len(_SPINNER)
        elapsed = time.monotonic() - self._started
        self.query_one("#status", Static).update(
            f"{_SPINNER[self._frame]} {self.activity}… {elapsed:.1f} s  (esc cancels)"
        )
