"""Model providers against real HTTP servers on loopback that speak the OpenAI and Aleph
Alpha APIs, including every failure a user can meet."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from tests.servers.model_api import (
    AlephAlphaApi,
    ModelServerState,
    OpenAIApi,
    model_server,
    reply_for,
)
from workbench.cancel import CancelToken
from workbench.csi.host import CsiHost
from workbench.errors import ModelError, RunCancelled, RunTimeout
from workbench.models.aleph_alpha import AlephAlphaProvider
from workbench.models.http import HttpSettings, Sampling
from workbench.models.openai import OpenAIProvider
from workbench.models.providers import ProviderSettings, open_provider
from workbench.models.replay import REPLAY_FILE, ReplayProvider
from workbench.run.runtime import RunLimits

SEED_MODEL = "luminous-extended-control"
SAMPLING = Sampling(max_tokens=64, temperature=0.5, stop=("\n\n",))


def openai(
    base_url: str, *, mode: str = "chat", key: str | None = "sk-test", timeout: float = 5.0
) -> OpenAIProvider:
    return OpenAIProvider(
        "local",
        HttpSettings(base_url, key, timeout=timeout, backoff=0.01, sampling=SAMPLING),
        mode=mode,
    )  # type: ignore[arg-type]


def aleph_alpha(base_url: str, key: str | None = "aa-token") -> AlephAlphaProvider:
    return AlephAlphaProvider(
        "aa", HttpSettings(base_url, key, timeout=5, backoff=0.01, sampling=SAMPLING)
    )


@pytest.mark.parametrize("mode", ["chat", "completions"])
def test_openai_request_and_reply_shapes(mode: str) -> None:
    with model_server(OpenAIApi(), ModelServerState(api_key="sk-test")) as server:
        completion = openai(server.base_url, mode=mode).complete_text("Hi there", SEED_MODEL)
        (request,) = server.state.requests
    assert completion.text == reply_for(SEED_MODEL, "Hi there")
    assert completion.model == f"{SEED_MODEL}-0125"
    assert (completion.prompt_tokens, completion.completion_tokens) == (2, 7)
    assert request.headers["Authorization"] == "Bearer sk-test"
    expected = {"model": SEED_MODEL, "max_tokens": 64, "temperature": 0.5, "stop": ["\n\n"]}
    if mode == "chat":
        assert request.path == "/v1/chat/completions"
        assert request.body == {**expected, "messages": [{"role": "user", "content": "Hi there"}]}
    else:
        assert request.path == "/v1/completions"
        assert request.body == {**expected, "prompt": "Hi there"}


def test_aleph_alpha_request_and_reply_shapes() -> None:
    with model_server(AlephAlphaApi(), ModelServerState(api_key="aa-token")) as server:
        completion = aleph_alpha(server.base_url).complete_text("Hi", SEED_MODEL)
        (request,) = server.state.requests
        models = aleph_alpha(server.base_url).list_models()
    assert completion.text == reply_for(SEED_MODEL, "Hi")
    assert (completion.model, completion.completion_tokens) == ("2022-04", 9)
    assert request.path == "/complete"
    assert request.body == {
        "model": SEED_MODEL,
        "prompt": "Hi",
        "maximum_tokens": 64,
        "temperature": 0.5,
        "stop_sequences": ["\n\n"],
    }
    assert models == sorted(ModelServerState().models)


def test_model_lists() -> None:
    with model_server(OpenAIApi()) as server:
        assert openai(server.base_url, key=None).list_models() == sorted(ModelServerState().models)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("api", [OpenAIApi(), AlephAlphaApi()], ids=["openai", "aleph-alpha"])
@pytest.mark.parametrize(
    ("failures", "key", "model", "phrases"),
    [
        (
            ["always:401"],
            "sk-test",
            SEED_MODEL,
            ["refused the API key", "(401)", "workbench key set", "WORKBENCH_API_KEY"],
        ),
        ([], "wrong", SEED_MODEL, ["refused the API key", "(401)"]),
        (["always:403"], "sk-test", SEED_MODEL, ["refused the API key", "(403)"]),
        (
            [],
            "sk-test",
            "no-such-model",
            ["has no model 'no-such-model' (404)", "workbench models --provider"],
        ),
        (["always:429"], "sk-test", SEED_MODEL, ["rate limiting", "(429, 4 tries)"]),
        (
            ["always:500"],
            "sk-test",
            SEED_MODEL,
            ["failed for model", "with 500 (4 tries)", "try again later"],
        ),
        (["malformed"], "sk-test", SEED_MODEL, ["malformed JSON", "base URL"]),
    ],
    ids=["401", "wrong-key", "403", "404-model", "429", "500", "malformed-json"],
)
def test_failures_are_one_clear_sentence(api, failures, key, model, phrases) -> None:
    state = ModelServerState(api_key="sk-test" if key == "wrong" else None, failures=list(failures))
    with model_server(api, state) as server:
        provider = (
            openai(server.base_url, key=key)
            if isinstance(api, OpenAIApi)
            else aleph_alpha(server.base_url, key=key)
        )
        with pytest.raises(ModelError) as caught:
            provider.complete_text("p", model)
    message = str(caught.value)
    assert provider.settings.base_url in message and "\n" not in message
    for phrase in phrases:
        assert phrase in message


@pytest.mark.parametrize("failures", [["429"], ["503", "502"]])
def test_429_and_5xx_are_retried_with_backoff(failures: list[str]) -> None:
    with model_server(OpenAIApi(), ModelServerState(failures=list(failures))) as server:
        completion = openai(server.base_url).complete_text("p", SEED_MODEL)
        assert len(server.state.requests) == len(failures) + 1
    assert completion.text == reply_for(SEED_MODEL, "p")


def test_connection_refused_and_timeout() -> None:
    port = free_port()
    with pytest.raises(ModelError, match=r"Cannot reach .* \(connection refused\); start the"):
        openai(f"http://127.0.0.1:{port}/v1").complete_text("p", SEED_MODEL)
    slow = ModelServerState(slow_seconds=2)
    with (
        model_server(OpenAIApi(), slow) as server,
        pytest.raises(ModelError, match=r"did not answer for model .* within 0.3 s"),
    ):
        openai(server.base_url, timeout=0.3).complete_text("p", SEED_MODEL)


def test_the_run_uses_the_chosen_model_and_the_trace_keeps_both(runtime, haiku_project):
    with model_server(OpenAIApi()) as server:
        host = CsiHost(openai(server.base_url), model_override="gpt-4o-mini")
        result = runtime.run(haiku_project.output, "oak trees", host)
    assert result.ok, result.error
    (call,) = result.csi_calls
    assert (call.model_requested, call.model_served) == (SEED_MODEL, "gpt-4o-mini-0125")
    assert (call.prompt_tokens, call.completion_tokens) == (8, 7)
    assert call.provider == "local"


def test_a_failed_model_call_ends_the_run_and_stays_in_the_trace(runtime, haiku_project):
    with model_server(OpenAIApi(), ModelServerState(failures=["always:401"])) as server:
        result = runtime.run(haiku_project.output, "oak trees", CsiHost(openai(server.base_url)))
    assert isinstance(result.error, ModelError)
    assert "refused the API key" in str(result.error)
    (call,) = result.csi_calls
    assert call.response is None and "refused the API key" in (call.error or "")


def test_cancel_during_a_slow_model_call_returns_within_half_a_second(runtime, haiku_project):
    runtime.load(haiku_project.output)  # a first compile must not eat the 0.5 s before cancel
    with model_server(OpenAIApi(), ModelServerState(slow_seconds=5)) as server:
        token = CancelToken()
        cancelled_at: list[float] = []

        def cancel_soon() -> None:
            time.sleep(0.5)
            cancelled_at.append(time.monotonic())
            token.cancel()

        threading.Thread(target=cancel_soon).start()
        result = runtime.run(
            haiku_project.output,
            "oak trees",
            CsiHost(openai(server.base_url, timeout=30), cancel=token),
        )
        returned = time.monotonic()
    assert isinstance(result.error, RunCancelled)
    assert returned - cancelled_at[0] < 0.5
    assert "stopped while waiting" in (result.csi_calls[0].error or "")


def test_a_slow_model_call_counts_against_the_run_timeout(runtime, haiku_project) -> None:
    runtime.load(haiku_project.output)  # a first compile is not the run's time
    with model_server(OpenAIApi(), ModelServerState(slow_seconds=5)) as server:
        started = time.monotonic()
        result = runtime.run(
            haiku_project.output,
            "oak trees",
            CsiHost(openai(server.base_url, timeout=30)),
            limits=RunLimits(timeout=0.5),
        )
    assert isinstance(result.error, RunTimeout)
    assert time.monotonic() - started < 2
    # A slow model is not the skill's endless loop: the sentence says which it was.
    assert "while it waited for the model 'luminous-extended-control' of local" in str(result.error)
    assert "endless loop" not in str(result.error)


def test_a_hanging_model_is_said_as_such_by_the_worker_pool(haiku_project) -> None:
    from workbench.run.pool import RunnerPool

    pool = RunnerPool()
    try:
        with model_server(OpenAIApi(), ModelServerState(slow_seconds=5)) as server:
            result = pool.run(
                haiku_project.output,
                "oak trees",
                CsiHost(openai(server.base_url, timeout=30)),
                limits=RunLimits(timeout=1),
                expected_world=haiku_project.qualified_world,
            )
    finally:
        pool.close()
    assert isinstance(result.error, RunTimeout)
    assert "while it waited for the model" in str(result.error)


def test_replay_records_then_plays_back_offline(runtime, haiku_project, tmp_path: Path) -> None:
    with model_server(OpenAIApi()) as server:
        settings = ProviderSettings("local", "openai", server.base_url)
        recording = open_provider(settings, project_root=tmp_path, record=True).provider
        live = runtime.run(haiku_project.output, "oak trees", CsiHost(recording))
    assert live.ok and (tmp_path / REPLAY_FILE).exists()

    replay = ReplayProvider(tmp_path / REPLAY_FILE)  # the server is gone now
    again = runtime.run(haiku_project.output, "oak trees", CsiHost(replay))
    assert again.output == live.output
    assert again.csi_calls[0].model_served == live.csi_calls[0].model_served

    missing = runtime.run(haiku_project.output, "pines", CsiHost(replay))
    assert isinstance(missing.error, ModelError)
    assert "No recorded reply for model 'luminous-extended-control'" in str(missing.error)
    assert "Write a haiku about pines" in str(missing.error)


def _eventually(condition, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_the_catalog_closes_the_connections_of_providers_it_drops(tmp_path: Path) -> None:
    from workbench.credentials import SecretStore
    from workbench.models.catalog import ProviderCatalog

    with model_server(OpenAIApi()) as server:
        configured = {"local": ProviderSettings("local", "openai", server.base_url)}
        catalog = ProviderCatalog(configured, SecretStore(), tmp_path)
        live = lambda: server.state.live_connections  # noqa: E731
        catalog.open("local").provider.list_models()
        assert live() == 1, "keep-alive holds the connection open"
        catalog.update(configured)  # new settings: the old provider is done with
        assert _eventually(lambda: live() == 0), "update() left a connection open"
        catalog.open("local").provider.list_models()
        assert live() == 1
        catalog.close()
        assert _eventually(lambda: live() == 0), "close() left a connection open"


def test_a_provider_the_catalog_closed_says_so_when_still_used(tmp_path: Path) -> None:
    """A run holding a provider while its settings are saved gets one sentence, not a crash."""
    from workbench.credentials import SecretStore
    from workbench.models.catalog import ProviderCatalog

    with model_server(OpenAIApi()) as server:
        configured = {"local": ProviderSettings("local", "openai", server.base_url)}
        catalog = ProviderCatalog(configured, SecretStore(), tmp_path)
        held = catalog.open("local").provider
        catalog.update(configured)
        with pytest.raises(ModelError, match=r"was closed \(its settings changed .*; run again"):
            held.complete_text("p", SEED_MODEL)
        assert not server.state.requests
