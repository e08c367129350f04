"""Choosing a world from a component's imports and exports, with tiny WAT components
(no Python build needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from wasmtime import wat2wasm

from workbench.cancel import CancelToken
from workbench.errors import ComponentError, ModelError, RunCancelled
from workbench.models import EchoProvider, open_provider, settings_for
from workbench.run.csi import CsiHost
from workbench.run.runtime import SkillRuntime
from workbench.run.worlds import SEED_WORLD

WRONG_SIGNATURE = """(component
  (core module $m (func (export "f") (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func (export "run") (result u32) (canon lift (core func $i "f"))))"""
UNKNOWN_IMPORT = """(component
  (import "acme:other/thing" (instance))
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 16)
    (func (export "run") (param i32 i32) (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (func (export "run") (param "in" string) (result string)
    (canon lift (core func $i "run") (memory $mem) (realloc (core func $i "realloc")))))"""


@pytest.fixture(scope="module")
def runtime() -> SkillRuntime:
    return SkillRuntime()


def wasm(tmp_path: Path, wat: str) -> Path:
    path = tmp_path / "c.wasm"
    path.write_bytes(wat2wasm(wat))
    return path


@pytest.mark.parametrize(
    ("wat", "phrase"),
    [
        ("(component)", "does not export `run`"),
        (WRONG_SIGNATURE, "its `run` export has another signature"),
        (UNKNOWN_IMPORT, "it imports `acme:other/thing`, which this world does not provide"),
    ],
)
def test_component_of_another_world_says_expected_and_found(runtime, tmp_path, wat, phrase):
    result = runtime.run(
        wasm(tmp_path, wat), "x", CsiHost(EchoProvider()), expected_world="pharia:skill/skill"
    )
    assert isinstance(result.error, ComponentError)
    message = str(result.error)
    assert "does not target the world `pharia:skill/skill`" in message
    assert phrase in message
    assert "exports run: func(in: string) -> string" in message


def test_seed_world_host_table_serves_complete_text() -> None:
    host = CsiHost(EchoProvider(), model_override="other")
    function = SEED_WORLD.host_imports["pharia:skill/csi"]["complete-text"](host)
    reply = function(None, "hi", "asked")
    assert "'other'" in reply
    (call,) = host.calls
    assert (call.model_requested, call.model_served, call.arguments["prompt"]) == (
        "asked",
        "other",
        "hi",
    )


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
