"""Choosing, testing and configuring model providers in the app, against real model servers
on loopback and a real Secret Service."""

from __future__ import annotations

import time
from pathlib import Path

from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static

from tests.servers.model_api import ModelServerState, OpenAIApi, model_server, reply_for
from tests.tui.conftest import SIZE, abbreviates, app_for, config_file, notifications, settle, until
from workbench.config.user import load_config
from workbench.credentials import SecretStore, provider_account
from workbench.models import EchoProvider
from workbench.models.providers import ProviderSettings
from workbench.tui.screens.providers import ProvidersScreen

PROMPT = "Write a haiku about oak trees\n\n### Response:"
MODEL = "luminous-extended-control"
KEY = "sk-tui-test-4417a"


def output_text(app) -> str:
    return str(app.screen.query_one("#output", Static).content)


async def test_choose_provider_and_model_then_run_fills_the_trace(haiku_copy: Path):
    with model_server(OpenAIApi()) as server:
        local = ProviderSettings("local", "openai", server.base_url)
        app = app_for(haiku_copy, providers={"local": local})
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await settle(pilot)
            screen = app.screen
            screen.query_one("#run-provider", Select).value = "local"
            await pilot.press("ctrl+t")  # test connection: lists the server's models
            await settle(pilot)
            assert any("serves 3 models" in m for m in notifications(messages))
            screen.run_panel.model = "gpt-4o-mini"
            await pilot.press("f5")
            await settle(pilot)
            assert output_text(app) == reply_for("gpt-4o-mini", PROMPT)
            trace = screen.query_one("#trace", DataTable)
            row = trace.get_row_at(0)
            assert abbreviates(row[2], "luminous-extended-control")
            assert abbreviates(row[3], "gpt-4o-mini-0125")
            detail = str(screen.query_one("#trace-detail", Static).content)
            assert "model asked: luminous-extended-control · served: gpt-4o-mini-0125" in detail


async def test_escape_during_a_slow_model_call(haiku_copy: Path) -> None:
    with model_server(OpenAIApi(), ModelServerState(slow_seconds=5)) as server:
        slow = ProviderSettings("slow", "openai", server.base_url, timeout=30)
        app = app_for(haiku_copy, providers={"slow": slow}, default_provider="slow")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f5")
            # The skill's completion, not the app's model listing: the run is past its load.
            await until(
                lambda: any(r.path.endswith("completions") for r in server.state.requests),
                within=30,  # a cold load: ~5 s
            )
            asked = time.monotonic()  # the model answers 5 s from now
            panel = app.screen.run_panel
            # Not pilot.press: it would also wait out the 2 s "Cancelled." notification.
            app.simulate_key("escape")
            await until(lambda: panel.status_text == "Cancelled.")
            # Runs on one runtime take turns: an offline run right after can only finish
            # once the cancelled one stopped waiting for the model.
            app.screen.query_one("#run-provider", Select).value = "echo"
            app.simulate_key("f5")
            await until(lambda: panel.status_text == "Run #1 finished: 1 CSI call.")
            assert time.monotonic() - asked < 1.5, "the run must stop waiting at once"
            assert output_text(app) == EchoProvider().complete_text(PROMPT, MODEL).text


async def test_add_a_provider_with_its_key_in_the_keyring(secret_service, haiku_copy: Path) -> None:
    with model_server(OpenAIApi(), ModelServerState(api_key=KEY)) as server:
        app = app_for(haiku_copy)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f8")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ProvidersScreen)
            screen.query_one("#name", Input).value = "mine"
            screen.query_one("#base-url", Input).value = server.base_url
            screen.query_one("#api-key", Input).value = KEY
            await pilot.click("#test")
            await settle(pilot)
            assert "It answers: 3 models" in str(screen.query_one("#provider-result").content)
            await pilot.click("#save")
            await settle(pilot)
            await pilot.press("escape")
            await pilot.pause()
            main = app.screen
            main.query_one("#run-provider", Select).value = "mine"
            await pilot.press("f5")
            await settle(pilot)
            assert output_text(app) == reply_for("luminous-extended-control", PROMPT)
    assert SecretStore().get(provider_account("mine")) == KEY
    assert load_config(config_file()).providers["mine"].base_url == server.base_url
    assert KEY not in config_file().read_text()
    SecretStore().delete(provider_account("mine"))
    config_file().unlink()


async def test_the_trace_exports_as_json_lines(haiku_copy: Path) -> None:
    import json

    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("f9")
        await pilot.pause()
    (line,) = (haiku_copy / "traces/run-1.jsonl").read_text().splitlines()
    call = json.loads(line)
    assert call["request"]["prompt"] == PROMPT and call["provider"] == "echo"
