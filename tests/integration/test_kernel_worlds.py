"""Skills of the kernel's worlds (pharia:skill 0.2 to 0.5), built for real (the SDK's
`@skill` and `@message_stream` with pharia-skill from PyPI, raw componentize-py skills for
0.2, 0.3, 0.4 and 0.5) and run for real in worker processes, against echo and loopback
servers speaking the OpenAI and Aleph Alpha APIs: every inference function of every world,
message streams, the skill's errors, and the input schema."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import collect
from tests.servers.model_api import AlephAlphaApi, OpenAIApi, model_server
from workbench import flows
from workbench.errors import (
    CsiUnavailable,
    InputRejected,
    ModelError,
    SkillInternalError,
    SkillInvalidInput,
)
from workbench.models.aleph_alpha import AlephAlphaProvider
from workbench.models.base import ModelProvider
from workbench.models.echo import EchoProvider
from workbench.models.http import HttpSettings
from workbench.models.openai import OpenAIProvider
from workbench.models.replay import RecordingProvider, ReplayProvider
from workbench.project.model import SkillProject
from workbench.run.pool import RunnerPool
from workbench.run.runtime import RunResult

MODEL = "luminous-base"


@pytest.fixture(scope="module")
def pool() -> Iterator[RunnerPool]:
    runner = RunnerPool()
    yield runner
    runner.close()


def run(
    pool: RunnerPool,
    target: SkillProject | Path,
    text: str | dict[str, Any],
    provider: ModelProvider | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> RunResult:
    request = flows.RunRequest(text if isinstance(text, str) else json.dumps(text))
    events = asyncio.run(
        collect(flows.run_component(target, request, provider or EchoProvider(), runner=pool))
    )
    if on_event is not None:
        for event in events:
            on_event(event)
    finished = events[-1]
    assert isinstance(finished, flows.RunFinished)
    return finished.result


def output(result: RunResult) -> Any:
    assert result.ok, (result.error, getattr(result.error, "details", ""), result.stderr)
    return json.loads(result.output or "")


def openai(url: str) -> OpenAIProvider:
    return OpenAIProvider("local", HttpSettings(url, "sk-test", timeout=10, backoff=0.01))


def aleph_alpha(url: str) -> AlephAlphaProvider:
    return AlephAlphaProvider("aa", HttpSettings(url, "aa-token", timeout=10, backoff=0.01))


# Every inference function of every world, on echo -------------------------------------------
EVERY_FUNCTION = [
    ("raw_v0_2", "complete", "complete"),
    ("raw_v0_2", "complete-return-special-tokens", "complete-return-special-tokens"),
    ("raw_v0_2", "complete-all", "complete-all"),
    ("raw_v0_2", "chat", "chat"),
    ("raw_v0_4", "complete", "complete"),
    ("raw_v0_4", "chat", "chat"),
    ("raw_v0_4", "completion-stream", "completion-stream"),
    ("raw_v0_4", "chat-stream", "chat-stream"),
    ("raw_v0_5", "complete", "complete"),
    ("raw_v0_5", "chat", "chat"),
    ("raw_v0_5", "completion-stream", "completion-stream"),
    ("raw_v0_5", "chat-stream", "chat-stream"),
]


@pytest.mark.parametrize(("skill", "call", "function"), EVERY_FUNCTION)
def test_every_inference_function_of_the_raw_worlds_runs(pool, raw_build, skill, call, function):
    project = raw_build(skill)
    result = run(pool, project, {"call": call, "text": "oak trees", "model": MODEL})
    answer = output(result)
    assert answer["call"] == call
    assert [c.function for c in result.csi_calls] == [function]
    (record,) = result.csi_calls
    assert record.error is None and record.model_requested == MODEL
    assert "oak trees" in json.dumps(record.request)
    assert (
        result.world
        == f"pharia:skill@{skill[5:].replace('_', '.')}"
        + {
            "raw_v0_2": ".10/skill",
            "raw_v0_4": ".0/skill",
            "raw_v0_5": ".0/skill",
        }[skill]
    )
    assert "echo" in json.dumps(answer)


def test_the_0_3_complete_without_echo_answers_with_logprobs(pool, raw_build) -> None:
    result = run(pool, raw_build("raw_v0_3"), {"text": "oak trees", "model": MODEL})
    answer = output(result)
    assert "oak trees" in answer["text"] and answer["logprobs"] == answer["usage"] > 0
    (call,) = result.csi_calls
    assert call.function == "complete" and call.request[0]["params"]["echo"] is False


SDK_CALLS = ["complete", "chat", "explain", "completion-stream", "chat-stream"]


@pytest.mark.parametrize("call", SDK_CALLS)
def test_every_inference_function_of_an_sdk_skill_runs(pool, sdk_skill_build, call) -> None:
    project, _component = sdk_skill_build
    result = run(pool, project, {"call": call, "text": "oat milk", "model": MODEL})
    answer = output(result)["answer"]
    functions = {"complete": "complete-v2"}
    assert [c.function for c in result.csi_calls] == [functions.get(call, call)]
    assert result.stdout == f"calling {call}\n"
    if call != "explain":
        assert ("oat" in answer and answer.endswith("|stop")) or "|stop|" in answer
    assert result.world == "pharia:skill@0.3.11/skill"


# Against real servers on loopback -----------------------------------------------------------
def test_an_sdk_skill_chats_and_streams_through_an_openai_compatible_server(
    pool, sdk_skill_build
) -> None:
    project, _ = sdk_skill_build
    with model_server(OpenAIApi()) as server:
        chat = run(pool, project, {"call": "chat", "model": "gpt-4o-mini"}, openai(server.base_url))
        stream = run(
            pool, project, {"call": "chat-stream", "model": "gpt-4o-mini"}, openai(server.base_url)
        )
        explain = run(
            pool, project, {"call": "explain", "model": "gpt-4o-mini"}, openai(server.base_url)
        )
        bodies = [r.body for r in server.state.requests if r.method == "POST"]
    assert output(chat)["answer"].endswith("|stop")
    assert output(stream)["answer"].count("/") >= 1
    sent = bodies[0]
    assert sent["max_tokens"] == 32 and sent["temperature"] == 0.1
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert bodies[1]["stream"] is True
    assert chat.csi_calls[0].model_served == "gpt-4o-mini-0125"
    assert isinstance(explain.error, ModelError)
    assert "Explain needs an Aleph Alpha provider" in str(explain.error)
    assert explain.csi_calls[0].error  # the failed call stays in the trace


def test_an_sdk_skill_completes_and_explains_through_aleph_alpha(pool, sdk_skill_build) -> None:
    project, _ = sdk_skill_build
    with model_server(AlephAlphaApi()) as server:
        provider = aleph_alpha(server.base_url)
        complete = run(pool, project, {"call": "complete", "model": MODEL}, provider)
        explain = run(pool, project, {"call": "explain", "model": MODEL}, provider)
        stream = run(pool, project, {"call": "completion-stream", "model": MODEL}, provider)
        bodies = [(r.path, r.body) for r in server.state.requests if r.method == "POST"]
    assert output(complete)["answer"].endswith("|stop|" + output(complete)["answer"].split("|")[-1])
    path, body = bodies[0]
    assert path == "/complete"
    assert body["maximum_tokens"] == 16 and body["top_k"] == 3 and body["top_p"] == 0.9
    assert body["stop_sequences"] == ["\n\n"] and body["log_probs"] == 2 and body["tokens"] is True
    assert json.loads(output(explain)["answer"])  # scores came back
    assert bodies[1][0] == "/explain"
    assert bodies[2][1]["stream"] is True and output(stream)["answer"]


def test_a_0_4_chat_sends_tools_and_the_response_format(pool, raw_build) -> None:
    with model_server(OpenAIApi()) as server:
        result = run(
            pool,
            raw_build("raw_v0_4"),
            {"call": "chat", "text": "weather in Bonn?", "model": "gpt-4o-mini"},
            openai(server.base_url),
        )
        (body,) = [r.body for r in server.state.requests if r.method == "POST"]
    assert output(result)["call"] == "chat"
    assert body["tools"][0]["type"] == "function"
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["reasoning_effort"] == "low"
    assert result.csi_calls[0].notes == ()  # nothing the server could not honour


def test_a_parameter_the_provider_cannot_honour_is_in_the_trace(pool, sdk_skill_build) -> None:
    project, _ = sdk_skill_build
    with model_server(OpenAIApi()) as server:
        result = run(
            pool, project, {"call": "complete", "model": "gpt-4o-mini"}, openai(server.base_url)
        )
    assert result.ok, result.error
    (call,) = result.csi_calls
    assert any("top_k" in note for note in call.notes)


# Each skill from the command line, against each server --------------------------------------
CLI_RUNS = [
    ("raw_v0_2", {"call": "chat"}, "chat"),
    ("raw_v0_2", {"call": "complete"}, "complete"),
    ("raw_v0_4", {"call": "chat-stream"}, "chat-stream"),
    ("raw_v0_5", {"call": "chat"}, "chat"),
    ("raw_v0_5", {"call": "completion-stream"}, "completion-stream"),
    ("sdk_skill", {"call": "chat"}, "chat"),
    ("sdk_skill", {"call": "completion-stream"}, "completion-stream"),
    ("sdk_stream", {"topic": "oat milk"}, "chat-stream"),
]


@pytest.mark.parametrize("api", ["echo", "openai", "aleph-alpha"])
@pytest.mark.parametrize(("skill", "request_", "function"), CLI_RUNS)
def test_each_skill_runs_from_the_cli_against_each_server(
    request, api, skill, request_, function
) -> None:
    from tests.conftest import run_workbench

    if skill.startswith("sdk"):
        project, _ = request.getfixturevalue(f"{skill}_build")
    else:
        project = request.getfixturevalue("raw_build")(skill)
    model = "gpt-4o-mini" if api == "openai" else MODEL
    server_api = AlephAlphaApi() if api == "aleph-alpha" else OpenAIApi()
    with model_server(server_api) as server:
        where = [] if api == "echo" else ["--base-url", server.base_url]
        done = run_workbench(
            "run",
            project.root,
            "--input",
            json.dumps({**request_, "model": model}),
            "--provider",
            api,
            *where,
            "--json",
            env={"WORKBENCH_API_KEY": "sk-test"},
        )
        paths = [r.path for r in server.state.requests if r.method == "POST"]
    lines = done.stdout.splitlines()
    result = json.loads(lines[-1] if lines and lines[-1].startswith("{") else done.stdout)
    assert done.returncode == 0, (done.stderr, result.get("error"))
    assert [c["function"] for c in result["csi_calls"]] == [function]
    call = result["csi_calls"][0]
    assert call["provider"] == api and call["error"] is None
    assert "sk-test" not in done.stdout
    if api == "echo":
        assert paths == []  # offline
        return
    completions = "/v1/completions" if api == "openai" else "/complete"
    chat = "/v1/chat/completions" if api == "openai" else "/chat/completions"
    assert paths == [chat if "chat" in function else completions]


# Message streams --------------------------------------------------------------------------
def test_a_message_stream_skill_streams_its_messages(pool, sdk_stream_build) -> None:
    project, _ = sdk_stream_build
    seen: list[Any] = []
    result = run(pool, project, {"topic": "oat milk", "model": MODEL}, on_event=seen.append)
    assert result.ok, result.error
    messages = [e.event for e in seen if isinstance(e, flows.MessageWritten)]
    assert messages == result.messages
    assert messages[0] == {"type": "begin", "role": "assistant"}
    assert messages[-1]["type"] == "end" and messages[-1]["payload"]["words"] > 0
    assert "".join(m["text"] for m in messages if m["type"] == "append") == result.output
    assert result.skill_kind == "message-stream"
    assert [c.function for c in result.csi_calls] == ["chat-stream"]


def test_a_0_4_message_stream_writes_reasoning(pool, raw_build) -> None:
    result = run(pool, raw_build("raw_v0_4_stream"), {"text": "Homer", "model": MODEL})
    assert result.ok, result.error
    kinds = [m["type"] for m in result.messages]
    assert kinds[0] == "begin" and "reasoning" in kinds and kinds[-1] == "end"


def test_the_cli_streams_text_and_json_lines(sdk_stream_build) -> None:
    from tests.conftest import run_workbench

    _project, component = sdk_stream_build
    text = run_workbench("run", component, "--input", '{"topic": "oat milk"}')
    assert text.returncode == 0, text.stderr
    assert "Tell me about oat milk" in text.stdout and '{"words":' in text.stdout
    lines = run_workbench("run", component, "--input", '{"topic": "oat"}', "--json")
    assert lines.returncode == 0, lines.stderr
    parsed = [json.loads(line) for line in lines.stdout.splitlines()]
    assert parsed[0] == {"type": "begin", "role": "assistant"}
    assert parsed[-1]["ok"] is True and parsed[-1]["messages"] == parsed[:-1]


def test_the_cli_runs_a_prebuilt_component_file(sdk_skill_build) -> None:
    from tests.conftest import run_workbench

    _, component = sdk_skill_build
    done = run_workbench("run", component, "--input", '{"call": "chat"}', "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["world"] == "pharia:skill@0.3.11/skill"
    assert result["csi_calls"][0]["function"] == "chat"
    missing = run_workbench("run", component.with_name("nothing.wasm"), "--input", "{}")
    assert missing.returncode != 0 and "There is no component at" in missing.stderr


# Errors, each one sentence, the trace kept ---------------------------------------------------
def test_an_input_against_the_schema_is_refused_before_the_run(pool, sdk_skill_build) -> None:
    project, _ = sdk_skill_build
    result = run(pool, project, {"cal": "chat"})
    assert isinstance(result.error, InputRejected)
    assert str(result.error) == (
        "The input does not match the skill's input schema: the input: 'call' is a required "
        "property; fix the input."
    )
    assert result.csi_calls == [] and result.stdout == ""  # the skill never ran
    wrong_type = run(pool, project, {"call": 3})
    assert "input.call: 3 is not of type 'string'" in str(wrong_type.error)


def test_the_skills_own_errors_are_reported_as_such(pool, sdk_skill_build, raw_build) -> None:
    project, _ = sdk_skill_build
    internal = run(pool, project, {"call": "fail", "model": MODEL})
    assert isinstance(internal.error, SkillInternalError)
    assert (
        str(internal.error) == "The skill reported an error: ValueError: cannot handle 'oat milk'."
    )
    assert f'File "{project.root / "calls.py"}"' in internal.error.details  # real paths
    assert "/pharia_skill/skill.py" in internal.error.details
    assert 'File "/' + "2/" not in internal.error.details  # the SDK's own files too
    assert [c.function for c in internal.csi_calls] == ["complete-v2"]  # the trace is kept
    invalid = run(pool, raw_build("raw_v0_4"), {"call": "dance"})
    assert isinstance(invalid.error, SkillInvalidInput)
    assert str(invalid.error).startswith("The skill rejected its input as invalid: ")


def test_a_csi_function_without_a_backend_names_itself(pool, sdk_skill_build) -> None:
    project, _ = sdk_skill_build
    asked = {"namespace": "n", "collection": "c", "long": "x", "size": 4, "query": "q"}
    result = run(pool, project, {"call": "everything", "text": json.dumps(asked)})
    assert isinstance(result.error, CsiUnavailable)
    assert str(result.error).startswith(
        "The skill called `search`, but no document index is set up"
    )
    chunked, searched = result.csi_calls
    assert chunked.error is None  # chunking needs no backend: served as the kernel does
    assert searched.function == "search" and searched.error == str(result.error)


def test_a_non_json_input_is_refused_for_a_json_world(pool, raw_build) -> None:
    result = run(pool, raw_build("raw_v0_2"), "oak trees")
    assert isinstance(result.error, InputRejected)
    assert "The input is not JSON (Expecting value at line 1, column 1)" in str(result.error)


# Replay -------------------------------------------------------------------------------------
def test_every_function_is_recorded_and_replayed_offline(pool, sdk_skill_build, tmp_path) -> None:
    project, _ = sdk_skill_build
    file = tmp_path / "replies.json"
    inputs = [{"call": call, "model": "gpt-4o-mini"} for call in ("chat", "chat-stream")]
    with model_server(OpenAIApi()) as server:
        live = [
            run(pool, project, i, RecordingProvider(openai(server.base_url), file)) for i in inputs
        ]
    again = [run(pool, project, i, ReplayProvider(file)) for i in inputs]  # the server is gone
    assert [output(r) for r in again] == [output(r) for r in live]
    assert all("replay file" in r.csi_calls[0].notes[0] for r in again)
    missing = run(pool, project, {"call": "chat", "model": "other"}, ReplayProvider(file))
    assert isinstance(missing.error, ModelError)
    assert "No recorded answer for this `chat` call in replies.json" in str(missing.error)
