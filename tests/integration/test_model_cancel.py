"""Cancelling reaches the model provider: against a real model server on loopback, a
cancelled call returns at once, drops its connection, and sends nothing more."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from tests.servers.model_api import ModelServerState, OpenAIApi, RunningServer, model_server
from workbench.cancel import CancelToken
from workbench.csi.host import CsiHost
from workbench.errors import RunCancelled
from workbench.models.http import HttpSettings
from workbench.models.openai import OpenAIProvider

#: The provider's first backoff after a 503 (then 2x, 4x): long enough to cancel inside it.
BACKOFF = 0.5


def provider_for(server: RunningServer, *, timeout: float = 30.0) -> OpenAIProvider:
    return OpenAIProvider(
        "local", HttpSettings(server.base_url, "sk-test", timeout=timeout, backoff=BACKOFF)
    )


def eventually(condition: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def cancel_after_first_request(server: RunningServer, token: CancelToken) -> list[float]:
    """Cancel `token` as soon as the server has seen a request; returns when it did."""
    cancelled_at: list[float] = []

    def watch() -> None:
        eventually(lambda: bool(server.state.requests), within=30)
        cancelled_at.append(time.monotonic())
        token.cancel()

    threading.Thread(target=watch, daemon=True).start()
    return cancelled_at


def test_no_model_request_is_sent_after_the_run_is_cancelled(runtime, behaviours_project):
    with model_server(OpenAIApi(), ModelServerState(failures=["always:503"])) as server:
        token = CancelToken()
        cancelled_at = cancel_after_first_request(server, token)
        host = CsiHost(provider_for(server), cancel=token)
        result = runtime.run(behaviours_project.output, "a prompt", host)
        assert isinstance(result.error, RunCancelled)
        time.sleep(2.5 * BACKOFF)  # past the retry the abandoned call would have made
        after = [r for r in server.state.requests if r.at > cancelled_at[0]]
    assert not after, f"{len(after)} request(s) reached the server after the cancel"


def test_a_cancelled_provider_call_returns_at_once_and_drops_its_connection() -> None:
    with model_server(OpenAIApi(), ModelServerState(slow_seconds=1.5)) as server:
        provider = provider_for(server)
        token = CancelToken()
        cancelled_at = cancel_after_first_request(server, token)
        with pytest.raises(RunCancelled):
            provider.complete_text("p", "gpt-4o-mini", cancel=token)
        assert time.monotonic() - cancelled_at[0] < 0.3
        # The half-answered connection is closed, not kept for the next call.
        assert eventually(lambda: server.state.live_connections == 0, within=3)
        provider.close()
    assert len(server.state.requests) == 1
