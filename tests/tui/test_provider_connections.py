"""The app closes the HTTP connections of the model providers it opened, counted on a real
model server on loopback that keeps connections alive as real ones do."""

from __future__ import annotations

import asyncio

from textual.widgets import Select

from tests.servers.model_api import ModelServerState, OpenAIApi, model_server
from tests.tui.conftest import SIZE, app_for, config_file, settle
from workbench.models.providers import ProviderSettings
from workbench.tui.screens.providers import ProvidersScreen


async def closed_within(state: ModelServerState, seconds: float = 3.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if state.live_connections == 0:
            return True
        await asyncio.sleep(0.02)
    return state.live_connections == 0


async def test_saving_provider_settings_closes_the_connections_opened_before(haiku_copy) -> None:
    with model_server(OpenAIApi()) as server:
        local = ProviderSettings("local", "openai", server.base_url)
        app = app_for(haiku_copy, providers={"local": local})
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.screen.query_one("#run-provider", Select).value = "local"
            await pilot.press("ctrl+t")  # lists the models: a keep-alive connection stays
            await settle(pilot)
            assert server.state.live_connections > 0
            await pilot.press("f8")
            await pilot.pause()
            assert isinstance(app.screen, ProvidersScreen)
            await pilot.click("#save")  # the shown provider, saved as it is: settings changed
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert await closed_within(server.state), "the replaced provider kept its connection"
    config_file().unlink()


async def test_leaving_the_app_closes_provider_connections(haiku_copy) -> None:
    with model_server(OpenAIApi()) as server:
        local = ProviderSettings("local", "openai", server.base_url)
        app = app_for(haiku_copy, providers={"local": local})
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.screen.query_one("#run-provider", Select).value = "local"
            await pilot.press("ctrl+t")
            await settle(pilot)
            assert server.state.live_connections > 0
        assert await closed_within(server.state), "the app exited with a connection open"
