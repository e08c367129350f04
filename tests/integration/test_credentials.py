"""API keys in a real Secret Service (gnome-keyring on a private D-Bus), the no-keyring and
locked-keyring cases, and a whole run that must leave the key nowhere but the keyring."""

from __future__ import annotations

import json
from pathlib import Path

import keyring.backends.fail
import keyring.backends.SecretService
import pytest

from tests.conftest import copy_project, keyring_daemon, session_bus
from tests.conftest import run_workbench as workbench
from tests.servers.model_api import ModelServerState, OpenAIApi, model_server, reply_for
from workbench.credentials import API_KEY_ENV, SecretStore, provider_account
from workbench.errors import CredentialsError, NoKeyring

SECRET = "sk-workbench-test-9f27c1d0e4"


def test_round_trip_in_the_secret_service(secret_service) -> None:
    store = SecretStore()
    assert store.describe() == "SecretService"
    account = provider_account("round-trip")
    assert store.get(account) is None
    store.set(account, SECRET)
    assert store.get(account) == SECRET
    assert store.delete(account) is True
    assert store.get(account) is None
    assert store.delete(account) is False


def test_the_environment_variable_wins_over_the_keyring(secret_service, monkeypatch) -> None:
    store = SecretStore()
    store.set(provider_account("env"), "from-keyring")
    monkeypatch.setenv(API_KEY_ENV, "from-env")
    assert store.get(provider_account("env"), env_override=API_KEY_ENV) == "from-env"
    store.delete(provider_account("env"))


def test_no_keyring_says_to_use_the_environment_variable() -> None:
    # keyring's own "fail" backend is what it picks on a machine without any keyring.
    store = SecretStore(keyring.backends.fail.Keyring())
    with pytest.raises(NoKeyring) as caught:
        store.get(provider_account("x"), env_override=API_KEY_ENV)
    assert str(caught.value) == (
        "There is no OS keyring to read the secret in; set WORKBENCH_API_KEY instead."
    )
    with pytest.raises(NoKeyring):
        store.set(provider_account("x"), SECRET, env_override=API_KEY_ENV)


def test_a_locked_keyring_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    """A second gnome-keyring, started without unlocking, in a fresh HOME: its unlock prompt
    cannot be shown here, as when a user dismisses it."""
    home = tmp_path / "home"
    home.mkdir()
    with session_bus(home) as address, keyring_daemon(home, address, password=None):
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        monkeypatch.setenv("HOME", str(home))
        store = SecretStore(keyring.backends.SecretService.Keyring())
        with pytest.raises(CredentialsError) as caught:
            store.set(provider_account("x"), SECRET, env_override=API_KEY_ENV)
    message = str(caught.value)
    assert "keyring" in message and "WORKBENCH_API_KEY" in message and "\n" not in message


def test_a_configured_provider_with_a_stored_key_leaves_the_key_nowhere_else(
    secret_service, haiku_project, tmp_path: Path, isolated_home: Path
) -> None:
    project = copy_project(haiku_project.root, tmp_path / "haiku")
    trace = tmp_path / "trace.jsonl"
    with model_server(OpenAIApi(), ModelServerState(api_key=SECRET)) as server:
        config = isolated_home / ".config/workbench/config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            f'[providers.local]\nkind = "openai"\nbase-url = "{server.base_url}"\nmax-tokens = 32\n'
        )
        saved = workbench("key", "set", "local", "--stdin", stdin=SECRET + "\n")
        assert saved.returncode == 0, saved.stderr
        assert "SecretService" in saved.stdout

        listed = workbench("models", "--provider", "local")
        ran = workbench(
            "run",
            project,
            "-i",
            "oak trees",
            "--provider",
            "local",
            "--model",
            "gpt-4o-mini",
            "--trace",
            trace,
            "--json",
        )
        assert ran.returncode == 0, ran.stderr
        assert server.state.requests[-1].headers["Authorization"] == f"Bearer {SECRET}"
    assert "gpt-4o-mini" in listed.stdout.split()
    result = json.loads(ran.stdout)
    call = result["csi_calls"][0]
    assert result["output"] == reply_for(
        "gpt-4o-mini", "Write a haiku about oak trees\n\n### Response:"
    )
    assert (call["model_requested"], call["model_served"]) == (
        "luminous-extended-control",
        "gpt-4o-mini-0125",
    )
    assert json.loads(trace.read_text().splitlines()[0]) == call

    config.unlink()  # the tests share one HOME
    outputs = saved.stdout + saved.stderr + listed.stdout + listed.stderr + ran.stdout + ran.stderr
    assert SECRET not in outputs
    for root in (isolated_home, project, tmp_path):
        for file in root.rglob("*"):
            if file.is_file():
                assert SECRET.encode() not in file.read_bytes(), file


def test_key_set_without_a_keyring_points_at_the_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    saved = workbench("key", "set", "openai", "--stdin", stdin=SECRET + "\n")
    assert saved.returncode == 1
    assert saved.stderr == (
        "error: There is no OS keyring to save the secret in; set WORKBENCH_API_KEY instead.\n"
    )
