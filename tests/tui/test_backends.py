"""F8's documents & tools form: the MCP servers listed against a real MCP server on
loopback, the Document Index's URL in the config and its token in a real Secret Service."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select, Static

from tests.servers.mcp_server import mcp_server, tools
from tests.tui.conftest import SIZE, app_for, config_file, settle
from workbench.config.user import load_config
from workbench.credentials import DOCUMENT_INDEX_ACCOUNT, SecretStore
from workbench.tui.screens.backends import BackendsScreen
from workbench.tui.screens.providers import ProvidersScreen

TOKEN = "di-tui-token-5521"


async def test_documents_and_tools_are_set_next_to_the_providers(
    secret_service, haiku_copy: Path
) -> None:
    with mcp_server(tools) as server:
        app = app_for(haiku_copy)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f8")
            await pilot.pause()
            assert isinstance(app.screen, ProvidersScreen)
            await pilot.click("#backends")
            await pilot.pause()
            form = app.screen
            assert isinstance(form, BackendsScreen)
            assert "BM25" in str(form.query_one("#documents-note", Static).content)
            form.query_one("#mcp-servers", Input).value = server.url
            await pilot.click("#list-tools")
            await settle(pilot)
            said = str(form.query_one("#backends-result", Static).content)
            assert "add" in said and "fail" in said, said
            form.query_one("#documents-backend", Select).value = "remote"
            await pilot.click("#save")
            await settle(pilot)
            assert "Give the Document Index's URL" in str(
                form.query_one("#backends-result", Static).content
            )
            form.query_one("#documents-url", Input).value = "https://di.example.com"
            form.query_one("#documents-token", Input).value = TOKEN
            await pilot.pause(0.3)  # a button takes no second click while it shows the first
            await pilot.click("#save")
            await settle(pilot)
            said = str(form.query_one("#backends-result", Static).content)
            assert said == "Saved and the token.", said
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, ProvidersScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen.config.mcp_servers == (server.url,)  # the next run uses them
    config = load_config(config_file())
    assert config.documents.backend == "remote"
    assert config.documents.url == "https://di.example.com"
    assert config.mcp_servers == (server.url,)
    assert TOKEN not in config_file().read_text()
    assert SecretStore().get(DOCUMENT_INDEX_ACCOUNT) == TOKEN
    SecretStore().delete(DOCUMENT_INDEX_ACCOUNT)
    config_file().unlink()
