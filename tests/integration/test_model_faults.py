"""Model servers on a bad day, each a real server on loopback: a slow drip, a 2 GB reply, a
redirect, an error that echoes the API key; and credentials in a base URL. Each ends in one
sentence, in bounded time and memory, and no secret reaches the user."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import pytest

from tests.conftest import copy_project
from tests.conftest import run_workbench as workbench
from tests.servers.raw_http import drip, echo_headers_in_error, endless_body, raw_server, redirect
from workbench.errors import ModelError
from workbench.models.http import MAX_REPLY_BYTES, HttpSettings
from workbench.models.openai import OpenAIProvider

KEY = "sk-live-5ecret-0f-the-user"


def provider(base_url: str, timeout: float = 60.0, key: str | None = KEY) -> OpenAIProvider:
    return OpenAIProvider("local", HttpSettings(base_url=base_url, api_key=key, timeout=timeout))


def test_a_server_that_drips_one_byte_at_a_time_is_given_up_on_at_the_timeout() -> None:
    with raw_server(drip(every=0.2)) as url:
        slow = provider(url, timeout=1.0)
        started = time.monotonic()
        with pytest.raises(ModelError, match=r"did not answer within 1 s"):
            slow.list_models()
        assert time.monotonic() - started < 2.0, "one deadline for the whole request"
        slow.close()


def test_workbench_models_gives_up_on_a_dripping_server(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    with raw_server(drip(every=0.2)) as url:
        config.write_text(f'[providers.drip]\nkind = "openai"\nbase-url = "{url}"\ntimeout = 1\n')
        started = time.monotonic()
        listed = workbench("models", "--provider", "drip", env={"WORKBENCH_CONFIG": str(config)})
    assert listed.returncode == 1 and "did not answer within 1 s" in listed.stderr
    assert time.monotonic() - started < 10


def test_a_huge_reply_is_cut_off_without_filling_memory() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with raw_server(endless_body()) as url:
        greedy = provider(url)
        with pytest.raises(ModelError, match=f"more than {MAX_REPLY_BYTES >> 20} MiB"):
            greedy.complete_text("hi", "m")
        greedy.close()
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) << 10
    assert grown < 4 * MAX_REPLY_BYTES, f"grew by {grown >> 20} MiB for a 2 GB reply"


def test_a_redirect_is_said_as_a_redirect() -> None:
    with raw_server(redirect("https://elsewhere.example/v1/models")) as url:
        moved = provider(url)
        with pytest.raises(ModelError) as caught:
            moved.list_models()
        moved.close()
    assert "redirected the request (301) to https://elsewhere.example/v1/models" in str(
        caught.value
    )
    assert "malformed JSON" not in str(caught.value)


def test_an_error_that_echoes_the_key_never_shows_it(haiku_project, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    trace = tmp_path / "trace.jsonl"
    with raw_server(echo_headers_in_error) as url:
        config.write_text(f'[providers.echoing]\nkind = "openai"\nbase-url = "{url}"\n')
        env = {"WORKBENCH_CONFIG": str(config), "WORKBENCH_API_KEY": KEY}
        project = copy_project(haiku_project.root, tmp_path / "haiku")  # built: no build here
        ran = workbench(
            "run",
            project,
            "-i",
            "oak",
            "--provider",
            "echoing",
            "--json",
            "--trace",
            trace,
            env=env,
        )
        listed = workbench("models", "--provider", "echoing", env=env)
    assert ran.returncode == 1 and listed.returncode == 1
    result = json.loads(ran.stdout)
    assert "rejected the request" in result["error"]["message"]
    for shown in (ran.stdout, ran.stderr, listed.stderr, trace.read_text()):
        assert KEY not in shown
    assert "Bearer •••" in listed.stderr


def test_credentials_in_a_base_url_are_not_echoed() -> None:
    with_password = provider("http://me:hunter2-password@127.0.0.1:1/v1", key=None)
    with pytest.raises(ModelError) as caught:
        with_password.list_models()
    with_password.close()
    assert "hunter2-password" not in str(caught.value)
    assert "http://•••@127.0.0.1:1/v1" in str(caught.value)
