"""Publishing from the app: log in (keyring), publish with a progress bar, see the digest,
list the tags; against a real docker-registry on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, ProgressBar, Static

from tests.servers.oci_registry import PASSWORD, USER, RunningRegistry, oci_registry
from tests.tui.conftest import SIZE, app_for, notifications, settle
from workbench import flows
from workbench.publish.registry import RegistryCredentials
from workbench.publish.steps import registry_credentials
from workbench.tui.screens.publish import PublishScreen


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with oci_registry(tmp_path_factory.mktemp("tui-registry")) as running:
        yield running


def status(screen) -> str:
    return str(screen.query_one("#publish-status", Static).content)


async def test_log_in_publish_see_digest_and_tags(
    secret_service, registry, haiku_copy: Path
) -> None:
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        screen.query_one("#registry", Input).value = registry.host
        screen.query_one("#repository", Input).value = "tui/skills"
        screen.query_one("#insecure", Checkbox).value = True

        screen.query_one("#login", Button).press()
        screen.query_one("#user", Input).value = USER
        screen.query_one("#token", Input).value = "wrong"
        screen.query_one("#save-login", Button).press()
        await settle(pilot)
        assert "refused the credentials" in status(screen)
        screen.query_one("#token", Input).value = PASSWORD
        screen.query_one("#save-login", Button).press()
        await settle(pilot)
        assert f"Logged in to {registry.host} as {USER}" in status(screen)
        assert screen.query_one("#token", Input).value == ""

        screen.query_one("#publish", Button).press()
        await settle(pilot)
        shown = status(screen)
        reference = f"{registry.host}/tui/skills/haiku:latest"
        assert reference in shown and "sha256:" in shown
        assert "Warning: Current Pharia Kernels will refuse this skill" in shown
        bar = screen.query_one("#upload", ProgressBar)
        assert bar.total and bar.progress == bar.total

        screen.query_one("#tags", Button).press()
        await settle(pilot)
        assert status(screen) == f"Tags of {registry.host}/tui/skills/haiku: latest"
        await pilot.press("escape")
    assert registry_credentials(registry.host) == RegistryCredentials(USER, PASSWORD)
    saved = (haiku_copy / "workbench.toml").read_text()
    assert f'registry = "{registry.host}"' in saved and PASSWORD not in saved


async def test_publishing_saves_unsaved_edits_and_builds_them_first(
    registry, haiku_copy: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SKILL_REGISTRY_USER", USER)
    monkeypatch.setenv("SKILL_REGISTRY_TOKEN", PASSWORD)
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        area = app.screen.editor.text_area
        area.move_cursor((0, 0))
        await pilot.press(*"# published edit", "enter")
        await pilot.press("f12")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "registry", "typing goes there"
        app.focused.value = ""
        await pilot.press(*registry.host)
        screen = app.screen
        assert screen.query_one("#registry", Input).value == registry.host
        screen.query_one("#repository", Input).value = "edits"
        screen.query_one("#insecure", Checkbox).value = True
        screen.query_one("#publish", Button).press()
        await settle(pilot)
        assert f"{registry.host}/edits/haiku:latest" in status(screen), status(screen)
    source = (haiku_copy / "haiku.py").read_text()
    assert source.startswith("# published edit\n"), "the edit was saved before publishing"
    from workbench.build.builder import is_up_to_date
    from workbench.project.model import load_project

    assert is_up_to_date(load_project(haiku_copy)), "and the component was built from it"


async def test_a_worker_that_fails_in_a_dialog_says_so_and_the_app_stays(
    haiku_copy: Path, monkeypatch
) -> None:
    async def broken_tags(*args, **kwargs):
        raise RuntimeError("injected fault")  # no real part can be made to have this bug
        yield  # pragma: no cover

    monkeypatch.setattr(flows, "tags", broken_tags)
    app = app_for(haiku_copy)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#registry", Input).value = "127.0.0.1:1"
        screen.query_one("#repository", Input).value = "x"
        screen.query_one("#tags", Button).press()
        await settle(pilot)
        assert app.is_running and app.screen is screen
        said = "The tag list failed unexpectedly (RuntimeError: injected fault)"
        assert said in status(screen)
        assert any(said in m for m in notifications(messages))
