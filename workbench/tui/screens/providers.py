"""F8: add, edit and test model providers. Settings go to the config file; the API key goes
to the OS keyring (never shown again, never written to a file)."""

from __future__ import annotations

import asyncio
import codecs

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from workbench.config.toml import TomlTable
from workbench.config.user import UserConfig, parse_provider, save_provider
from workbench.credentials import provider_account
from workbench.errors import UsageError, WorkbenchError
from workbench.models.catalog import ProviderCatalog
from workbench.models.providers import KINDS, ProviderSettings, open_provider
from workbench.tui.screens.base import ReportsWorkerFailures
from workbench.tui.text import plain, shown

NEW = "+ new provider"
_FIELDS = ("name", "base-url", "max-tokens", "temperature", "stop", "timeout", "api-key")


def _options(names: list[str]) -> list[Option]:
    """One option per provider name, shown as text (a name from the config file may hold
    "[", which a str prompt would read as markup); the id is the name itself."""
    return [Option(plain(name), id=name) for name in names]


class ProvidersScreen(ReportsWorkerFailures, ModalScreen[UserConfig | None]):
    """Dismisses with the updated config if anything was saved, else None."""

    BINDINGS = [Binding("escape", "close", "Close", id="providers.close")]
    AUTO_FOCUS = "#provider-list"

    def __init__(self, config: UserConfig, catalog: ProviderCatalog) -> None:
        super().__init__(classes="dialog")
        self.config = config
        self.catalog = catalog
        self.changed = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="providers-body"):
            yield OptionList(*_options([*self.config.providers, NEW]), id="provider-list")
            with VerticalScroll(id="provider-form"):
                yield Label("Name")
                yield Input(id="name", placeholder="e.g. ollama")
                yield Label("Kind")
                yield Select(
                    [(k, k) for k in KINDS if k != "echo"],
                    value="openai",
                    allow_blank=False,
                    id="kind",
                    compact=True,
                )
                yield Label("Base URL")
                yield Input(id="base-url", placeholder="http://localhost:11434/v1")
                yield Label("OpenAI endpoint")
                yield Select(
                    [("chat/completions", "chat"), ("completions", "completions")],
                    value="chat",
                    allow_blank=False,
                    id="mode",
                    compact=True,
                )
                yield Label("Max tokens · temperature · timeout (s)")
                with Horizontal(classes="form-row"):
                    yield Input("256", id="max-tokens", type="integer")
                    yield Input(id="temperature", placeholder="default", type="number")
                    yield Input("60", id="timeout", type="number")
                yield Label("Stop sequences (comma separated, \\n for a newline)")
                yield Input(id="stop")
                yield Label("API key (saved in the OS keyring; blank keeps the stored one)")
                yield Input(id="api-key", password=True)
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Test connection", id="test")
                    yield Button("Save", id="save", variant="primary")
                    yield Button("Documents & tools", id="backends")
                    yield Button("Close", id="close")
                yield Static("", id="provider-result", markup=False)

    def on_mount(self) -> None:
        self.query_one("#provider-list", OptionList).highlighted = 0
        self._show(next(iter(self.config.providers.values()), None))

    @on(OptionList.OptionHighlighted, "#provider-list")
    def _chosen(self, event: OptionList.OptionHighlighted) -> None:
        self._show(self.config.providers.get(event.option.id or ""))

    def _show(self, settings: ProviderSettings | None) -> None:
        values = {
            "name": "",
            "base-url": "",
            "max-tokens": "256",
            "temperature": "",
            "stop": "",
            "timeout": "60",
            "api-key": "",
        }
        if settings is not None:
            values.update(
                {
                    "name": settings.name,
                    "base-url": settings.base_url or "",
                    "max-tokens": str(settings.sampling.max_tokens),
                    "temperature": ""
                    if settings.sampling.temperature is None
                    else str(settings.sampling.temperature),
                    "stop": ", ".join(
                        s.encode("unicode_escape").decode() for s in settings.sampling.stop
                    ),
                    "timeout": f"{settings.timeout:g}",
                }
            )
            self.query_one("#kind", Select).value = settings.kind
            self.query_one("#mode", Select).value = settings.mode
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = value
        self.query_one("#provider-result", Static).update("")

    def _form(self) -> tuple[ProviderSettings, str]:
        """The settings in the form, checked as the config file would be; and the key."""
        value = {f: self.query_one(f"#{f}", Input).value.strip() for f in _FIELDS}
        name = value["name"]
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise UsageError("Give the provider a name of letters, digits, - and _.")
        table: dict[str, object] = {
            "kind": self.query_one("#kind", Select).value,
            "mode": self.query_one("#mode", Select).value,
        }
        if value["base-url"]:
            table["base-url"] = value["base-url"]
        try:
            table["max-tokens"] = int(value["max-tokens"] or 256)
            table["timeout"] = float(value["timeout"] or 60)
            if value["temperature"]:
                table["temperature"] = float(value["temperature"])
        except ValueError:
            raise UsageError("Max tokens, temperature and timeout must be numbers.") from None
        table["stop"] = [
            codecs.decode(s.strip(), "unicode_escape")
            for s in value["stop"].split(",")
            if s.strip()
        ]
        return parse_provider(name, TomlTable(table, "the form", UsageError)), value["api-key"]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self._save()
        elif event.button.id == "test":
            self._test()
        elif event.button.id == "backends":
            self._open_backends()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(self.config if self.changed else None)

    def _open_backends(self) -> None:
        from workbench.tui.screens.backends import BackendsScreen

        def saved(config: UserConfig | None) -> None:
            if config is not None:
                self.config, self.changed = config, True

        self.app.push_screen(BackendsScreen(self.config, self.catalog.secrets), saved)

    def show_status(self, text: str, error: bool = False) -> None:
        self._say(text, error)

    def _say(self, text: str, error: bool = False) -> None:
        result = self.query_one("#provider-result", Static)
        result.update(shown(text))
        result.set_class(error, "-error")

    @work(exclusive=True, group="providers", exit_on_error=False, description="save")
    async def _save(self) -> None:
        try:
            settings, key = self._form()
            if key:
                await asyncio.to_thread(
                    self.catalog.secrets.set, provider_account(settings.name), key
                )
            self.config = await asyncio.to_thread(save_provider, self.config, settings)
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        self.changed = True
        self.query_one("#api-key", Input).value = ""
        options = self.query_one("#provider-list", OptionList)
        options.set_options(_options([*self.config.providers, NEW]))
        self._say(f"Saved {settings.name}" + (" and its key." if key else "."))

    @work(exclusive=True, group="providers", exit_on_error=False, description="connection test")
    async def _test(self) -> None:
        self._say("Testing…")
        try:
            settings, key = self._form()
            resolved = await asyncio.to_thread(
                open_provider, settings, secrets=self.catalog.secrets
            )
            provider = resolved.provider
            try:
                if key and hasattr(provider, "use_api_key"):
                    provider.use_api_key(key)
                models = await asyncio.to_thread(provider.list_models)
            finally:
                provider.close()  # a test opens its own connection: never leave it open
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        self._say(
            f"It answers: {len(models)} model{'' if len(models) == 1 else 's'}\n"
            + "\n".join(models[:20])
        )
