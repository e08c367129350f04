"""F8's second form: what serves a skill's CSI besides the model. The document index (the
project's own documents, or a remote Document Index whose token goes to the OS keyring) and
the MCP servers tools come from. Settings go to the config file (`[documents]`, `[tools]`)."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from workbench.config.user import DocumentSettings, UserConfig, save_backends
from workbench.credentials import DOCUMENT_INDEX_ACCOUNT, SecretStore
from workbench.errors import UsageError, WorkbenchError
from workbench.tui.screens.base import ReportsWorkerFailures
from workbench.tui.text import shown

#: Said in the form, as in the trace: local search is not the Document Index's search.
LOCAL_NOTE = (
    "Local: text and Markdown files in documents/NAMESPACE/COLLECTION/ of the project "
    "(metadata in NAME.meta.json; `workbench docs add` puts them there), ranked by BM25 "
    "full-text search, not by embeddings as a Document Index ranks."
)


class BackendsScreen(ReportsWorkerFailures, ModalScreen[UserConfig | None]):
    """Dismisses with the updated config if it was saved, else None."""

    BINDINGS = [Binding("escape", "close", "Close", id="backends.close")]
    AUTO_FOCUS = "#documents-backend"

    def __init__(self, config: UserConfig, secrets: SecretStore) -> None:
        super().__init__(classes="dialog")
        self.config = config
        self.secrets = secrets
        self.changed = False

    def compose(self) -> ComposeResult:
        documents = self.config.documents
        with VerticalScroll(id="backends-form"):
            yield Label("Documents a skill searches and reads")
            yield Select(
                [("the project's documents/ (offline)", "local"), ("a Document Index", "remote")],
                value=documents.backend,
                allow_blank=False,
                id="documents-backend",
                compact=True,
            )
            yield Static(LOCAL_NOTE, id="documents-note", markup=False)
            yield Label("Document Index URL (for a Document Index)")
            yield Input(documents.url or "", id="documents-url", placeholder="https://…")
            yield Label("Document Index token (saved in the OS keyring; blank keeps it)")
            yield Input(id="documents-token", password=True)
            yield Label("MCP servers the skill's tools come from (comma separated URLs)")
            yield Input(
                ", ".join(self.config.mcp_servers),
                id="mcp-servers",
                placeholder="http://127.0.0.1:8000/mcp",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("List tools", id="list-tools")
                yield Button("Save", id="save", variant="primary")
                yield Button("Close", id="close")
            yield Static("", id="backends-result", markup=False)

    def _form(self) -> tuple[DocumentSettings, list[str], str]:
        backend = self.query_one("#documents-backend", Select).value
        url = self.query_one("#documents-url", Input).value.strip() or None
        if backend == "remote" and not url:
            raise UsageError("Give the Document Index's URL, or keep the project's documents.")
        servers = [
            s.strip() for s in self.query_one("#mcp-servers", Input).value.split(",") if s.strip()
        ]
        token = self.query_one("#documents-token", Input).value.strip()
        return DocumentSettings(backend, url), servers, token  # type: ignore[arg-type]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self._save()
        elif event.button.id == "list-tools":
            self._list_tools()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(self.config if self.changed else None)

    def show_status(self, text: str, error: bool = False) -> None:
        result = self.query_one("#backends-result", Static)
        result.update(shown(text))
        result.set_class(error, "-error")

    @work(exclusive=True, group="backends", exit_on_error=False, description="save")
    async def _save(self) -> None:
        try:
            documents, servers, token = self._form()
            if token:
                await asyncio.to_thread(self.secrets.set, DOCUMENT_INDEX_ACCOUNT, token)
            self.config = await asyncio.to_thread(save_backends, self.config, documents, servers)
        except WorkbenchError as error:
            self.show_status(str(error), error=True)
            return
        self.changed = True
        self.query_one("#documents-token", Input).value = ""
        self.show_status("Saved" + (" and the token." if token else "."))

    @work(exclusive=True, group="backends", exit_on_error=False, description="tool listing")
    async def _list_tools(self) -> None:
        from workbench.tools import ToolBox

        self.show_status("Asking the MCP servers…")
        try:
            _documents, servers, _token = self._form()
            if not servers:
                self.show_status("No MCP servers: a skill's list-tools finds none.")
                return
            with ToolBox(servers, timeout=10) as box:
                tools = await asyncio.to_thread(box.list_tools)
        except WorkbenchError as error:
            self.show_status(str(error), error=True)
            return
        names = ", ".join(tool["name"] for tool in tools) or "none"
        self.show_status(f"{len(tools)} tool{'' if len(tools) == 1 else 's'}: {names}")
