"""Choosing a world from a component's exports as the kernel does, matching imports by
major.minor, and the tables' conversions between WIT values and the kernel's CSI JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wasmtime import wat2wasm

from workbench.cancel import CancelToken
from workbench.csi.host import CsiHost
from workbench.errors import ComponentError, InvalidOutput, ModelError, RunCancelled
from workbench.models import EchoProvider, open_provider, settings_for
from workbench.run.runtime import SkillRuntime
from workbench.run.worlds import LINES, SEED, detect_world, interface_of
from workbench.run.worlds.common import message_item, search_requests
from workbench.run.worlds.v0_3 import chat_event as chat_event_v0_3
from workbench.run.worlds.v0_4 import chat_event as chat_event_v0_4
from workbench.run.worlds.v0_4 import chat_request

WRONG_SIGNATURE = """(component
  (core module $m (func (export "f") (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func (export "run") (result u32) (canon lift (core func $i "f"))))"""


@pytest.fixture(scope="module")
def runtime() -> SkillRuntime:
    return SkillRuntime()


def test_a_component_of_no_skill_world_says_what_it_found(runtime, tmp_path: Path) -> None:
    path = tmp_path / "c.wasm"
    path.write_bytes(wat2wasm("(component)"))
    result = runtime.run(path, "x", CsiHost(EchoProvider()), expected_world="pharia:skill/skill")
    assert isinstance(result.error, ComponentError)
    message = str(result.error)
    assert "c.wasm (the project expects `pharia:skill/skill`)" in message
    assert "does not use a pharia:skill world the kernel loads" in message
    assert "exports nothing; imports only WASI" in message


@pytest.mark.parametrize(
    ("export", "line", "kind"),
    [
        ("pharia:skill/skill-handler@0.2.3", "0.2", "function"),
        ("pharia:skill/skill-handler@0.3.6", "0.3", "function"),
        ("pharia:skill/message-stream@0.3.11", "0.3", "message-stream"),
        ("pharia:skill/skill-handler@0.4.0", "0.4", "function"),
        ("pharia:skill/message-stream@0.5.0", "0.5", "message-stream"),
    ],
)
def test_the_world_comes_from_the_versioned_export(export: str, line: str, kind: str) -> None:
    world = detect_world(["wasi:cli/stdout@0.2.0"], {"exports": None, export: None})
    assert (world.line.line, world.kind) == (line, kind)
    assert world.name.startswith(f"pharia:skill@{export.split('@')[1]}/")
    assert world.kernels  # says which kernels load it


@pytest.mark.parametrize(
    ("export", "phrase"),
    [
        ("pharia:skill/skill-handler@0.3.12", "newer than the 0.3.11 the workbench knows"),
        ("pharia:skill/skill-handler@0.1.1", "which kernels no longer load"),
        ("pharia:skill/skill-handler@0.6.0", "newer than any world the workbench knows"),
    ],
)
def test_versions_the_kernel_would_refuse_are_refused_with_a_reason(export, phrase) -> None:
    with pytest.raises(ComponentError, match=phrase):
        detect_world([], {export: None})


def test_the_seed_world_is_a_root_level_run_with_the_unversioned_csi() -> None:
    world = detect_world(["pharia:skill/csi", "wasi:io/streams@0.2.9"], {"run": None})
    assert world.line is SEED and world.kind == "seed" and not world.takes_json
    assert "before 0.4" in world.kernels


def test_imports_are_matched_by_major_minor() -> None:
    world = detect_world([], {"pharia:skill/skill-handler@0.3.11": None})
    assert (
        interface_of(world, "pharia:skill/inference@0.3.6") is LINES["0.3"].interfaces["inference"]
    )
    with pytest.raises(ComponentError, match="cannot use"):
        interface_of(world, "pharia:skill/inference@0.4.0")
    with pytest.raises(ComponentError, match="cannot use"):
        interface_of(world, "acme:other/thing")


def test_only_0_3_has_explain_and_complete_v2() -> None:
    inference = {line: LINES[line].interfaces.get("inference") for line in ("0.3", "0.4", "0.5")}
    assert {"explain", "complete-v2"} <= set(inference["0.3"].functions)
    for line in ("0.4", "0.5"):
        assert not {"explain", "complete-v2"} & set(inference[line].functions)
    assert set(LINES["0.2"].interfaces) == {"csi"}


def test_0_4_chat_messages_and_params_become_the_kernels_json() -> None:
    request = chat_request(
        {
            "model": "m",
            "messages": [
                {"other": {"role": "system", "content": "be brief"}},
                {"assistant": {"content": None, "reasoning_content": "hm", "tool_calls": []}},
                {"tool": {"content": "4", "tool_call_id": "c1"}},
            ],
            "params": {
                "tools": [
                    {
                        "name": "add",
                        "description": None,
                        "parameters": b'{"type": "object"}',
                        "strict": None,
                    }
                ],
                "tool_choice": {"named": "add"},
                "response_format": {
                    "json_schema": {
                        "name": "s",
                        "description": None,
                        "schema": b"{}",
                        "strict": True,
                    }
                },
                "reasoning_effort": "low",
                "logprobs": "no",
            },
        }
    )
    assert request["messages"][0] == {"role": "system", "content": "be brief"}
    assert request["messages"][1]["role"] == "assistant"
    assert request["messages"][2] == {"role": "tool", "content": "4", "tool_call_id": "c1"}
    assert request["params"]["tools"][0]["parameters"] == {"type": "object"}
    assert request["params"]["response_format"]["json_schema"]["schema"] == {}
    assert request["params"]["tool_choice"] == {"named": "add"}


def test_chat_stream_events_follow_each_worlds_cases() -> None:
    reasoning = {"event": "reasoning", "data": {"content": "thinking"}}
    assert chat_event_v0_4(reasoning) == {"reasoning": "thinking"}
    assert chat_event_v0_3(reasoning) is None  # 0.3 has no such event: skipped
    append = {"event": "message_append", "data": {"content": "hi", "logprobs": []}}
    assert chat_event_v0_3(append) == {"message_append": {"content": "hi", "logprobs": []}}
    assert chat_event_v0_4(append) == {"message_append": {"content": "hi"}}
    tools = {"event": "tool_call", "data": {"tool_calls": [{"index": 0, "id": "c", "name": "add"}]}}
    assert chat_event_v0_4(tools) == {
        "tool_call": [{"index": 0, "id": "c", "name": "add", "arguments": None}]
    }
    with pytest.raises(ModelError, match="cannot receive"):
        chat_event_v0_3(tools)


def test_message_items_become_the_kernels_stream_events() -> None:
    assert message_item({"message_begin": {"role": "assistant"}}) == {
        "type": "begin",
        "role": "assistant",
    }
    assert message_item({"reasoning": "hm"}) == {"type": "reasoning", "text": "hm"}
    assert message_item({"message_end": b'{"ok": 1}'}) == {"type": "end", "payload": {"ok": 1}}
    assert message_item({"message_end": None}) == {"type": "end", "payload": None}
    with pytest.raises(InvalidOutput, match="not JSON"):
        message_item({"message_end": b"{nope"})


def test_search_filters_are_written_as_the_document_index_reads_them() -> None:
    (request,) = search_requests(
        [
            {
                "query": "q",
                "filters": [
                    {"with_all": [{"field": "year", "condition": {"greater_than": 2000.0}}]},
                    {"without": [{"field": "draft", "condition": "is_null"}]},
                    {
                        "with_one_of": [
                            {"field": "lang", "condition": {"equal_to": {"string_type": "en"}}}
                        ]
                    },
                ],
            }
        ]
    )
    assert json.loads(json.dumps(request["filters"])) == [
        {"with": [{"metadata": {"field": "year", "greater_than": 2000.0}}]},
        {"without": [{"metadata": {"field": "draft", "is_null": True}}]},
        {"with_one_of": [{"metadata": {"field": "lang", "equal_to": "en"}}]},
    ]


def test_seed_complete_text_goes_through_the_host_with_the_override() -> None:
    host = CsiHost(EchoProvider(), model_override="other")
    reply = host.complete_text("hi", "asked")
    assert "'other'" in reply
    (call,) = host.calls
    assert (call.function, call.model_requested, call.model_served) == (
        "complete-text",
        "asked",
        "other",
    )
    assert call.request == {"prompt": "hi", "model": "asked"}  # what the skill sent


def test_a_cancelled_host_refuses_further_model_calls() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(RunCancelled):
        CsiHost(EchoProvider(), cancel=token).complete_text("p", "m")


def test_echo_is_deterministic_and_unknown_providers_are_refused() -> None:
    echo = open_provider(settings_for("echo", {})).provider
    for _ in range(2):
        reply = echo.complete_text("write a poem", "luminous-base")
        assert reply.text == "[echo: model 'luminous-base' received this prompt]\nwrite a poem"
        assert reply.model == "luminous-base"
    with pytest.raises(ModelError, match="no model provider called 'gpt'"):
        settings_for("gpt", {})
