"""The serve key: the open skill served over the kernel's HTTP API from the app, its URL and
each request on the Serve tab, stopped by the key again and when the app quits."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
from textual.widgets import TabbedContent

from tests.tui.conftest import SIZE, app_for, settle, until
from workbench.tui.screens.serving import ServeActions


def calls(url: str) -> list[httpx.Response]:
    with httpx.Client(base_url=url, timeout=120) as client:
        return [
            client.get("/health"),
            client.post("/v1/skills/local/haiku/run", json="oak trees"),
            client.post("/v1/skills/local/haiku/run", json={"topic": "oak"}),  # not a string
        ]


def refused(url: str, within: float = 20) -> bool:
    """Whether the server at `url` stops answering within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=2)
        except httpx.ConnectError:
            return True
        time.sleep(0.1)
    return False


async def test_the_serve_key_serves_the_skill_lists_its_requests_and_stops_it(
    haiku_copy, monkeypatch
):
    monkeypatch.setattr(ServeActions, "serve_port", 0)  # a free port: 8081 may be in use
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        view = screen.output.requests
        assert view.heading.startswith("Not serving: Ctrl+N serves this skill")

        assert app.focused is screen.editor.text_area  # the editor does not take the key
        await pilot.press("ctrl+n")
        await until(lambda: screen.serving is not None, within=30)
        url = screen.serving.url
        assert url.startswith("http://127.0.0.1:") and view.url == url
        assert f"Serving at {url} (models: echo)" in view.heading
        assert f"POST {url}/v1/skills/local/haiku/run" in view.heading
        assert screen.query_one("#tabs", TabbedContent).active == "tab-serve"
        assert screen.run_panel.status_text == f"Serving at {url}"

        health, run, refusal = await asyncio.to_thread(calls, url)
        assert (health.status_code, health.text) == (200, "ok")
        assert run.status_code == 200, run.text
        assert "Write a haiku about oak trees" in run.json()
        assert refusal.status_code == 400
        table = view.table
        await until(lambda: table.row_count == 3)
        first, second, third = (table.get_row_at(row) for row in range(3))
        assert first[1:4] == ["GET", "/health", "200"] and first[5] == ""
        assert second[1:4] == ["POST", "/v1/skills/local/haiku/run", "200"]
        assert second[5] == "ok, 1 CSI call"
        assert str(second[6]).startswith("127.0.0.1:") and str(second[6]).endswith("no token")
        assert int(str(second[4])) >= 0
        assert third[3:4] == ["400"]
        assert third[5] == "The skill had trouble interpreting the input:"

        # A span as DevCsi exports it (OTLP/HTTP, here in its JSON mapping) joins the list.
        span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "chat m", "kind": 1}
        span |= {
            "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000000250000000",
        }
        body = {"resourceSpans": [{"scopeSpans": [{"scope": {"name": "dev"}, "spans": [span]}]}]}
        posted = await asyncio.to_thread(httpx.post, f"{url}/v1/traces", json=body, timeout=10)
        assert posted.status_code == 200, posted.text
        await until(lambda: table.row_count == 4)
        fourth = table.get_row_at(3)
        assert fourth[1:5] == ["span", "chat m", "unset", "250"]

        await pilot.press("ctrl+n")
        await until(lambda: screen.serving is None and not screen.serve_busy, within=20)
        assert view.url is None
        assert view.heading.startswith(f"Stopped serving at {url}. Not serving: Ctrl+N")
        assert await asyncio.to_thread(refused, url, 1)
        assert table.row_count == 4  # the requests stay listed


async def test_a_taken_port_gives_a_free_one_and_quitting_stops_the_server(haiku_copy, monkeypatch):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        monkeypatch.setattr(ServeActions, "serve_port", port)
        app = app_for(haiku_copy)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            view = screen.output.requests
            assert f"at http://127.0.0.1:{port} (or on a free port" in view.heading
            await pilot.press("ctrl+n")
            await until(lambda: screen.serving is not None, within=30)
            url = screen.serving.url
            assert not url.endswith(f":{port}")
            assert view.heading.startswith(f"Port {port} is taken")
            health = await asyncio.to_thread(httpx.get, f"{url}/health", timeout=10)
            assert health.status_code == 200
        assert await asyncio.to_thread(refused, url)
