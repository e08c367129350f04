"""CSI calls as a person reads them: one line asked, one line answered, and the detail with
prompts and messages as text, whatever the function."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.csi.readable import (
    call_detail,
    readable_lines,
    request_summary,
    response_summary,
    stream_parts,
)
from workbench.csi.record import CsiCall


def call(csi: str, request: Any, response: Any = None, **fields: Any) -> CsiCall:
    fields.setdefault("function", csi.replace("_", "-"))
    fields.setdefault("duration", 0.25)
    fields.setdefault("provider", "echo")
    return CsiCall(csi=csi, request=request, response=response, **fields)


CHAT_PARAMS = {"max_tokens": 64, "logprobs": "no", "temperature": 0.5}
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Name a tree."},
    {"role": "assistant", "content": "Oak."},
    {"role": "user", "content": "Another\none?"},
]
CHAT_STREAM_EVENTS = [
    {"event": "message_begin", "data": {"role": "assistant"}},
    {"event": "reasoning", "data": {"content": "Trees, then."}},
    {"event": "message_append", "data": {"content": "Bir", "logprobs": []}},
    {"event": "message_append", "data": {"content": "ch.", "logprobs": []}},
    {"event": "message_end", "data": {"finish_reason": "stop"}},
    {"event": "usage", "data": {"usage": {"prompt": 9, "completion": 2}}},
]


@pytest.mark.parametrize(
    ("made", "asked", "answered"),
    [
        (
            call("complete_text", {"prompt": "A haiku\nabout oak", "model": "m"}, "Leaves fall"),
            "A haiku about oak",
            "Leaves fall",
        ),
        (
            call(
                "complete",
                [{"model": "m", "prompt": "Say hi", "params": {}}],
                [{"text": "hi there", "finish_reason": "stop"}],
            ),
            "Say hi",
            "hi there",
        ),
        (
            call(
                "complete",
                [{"model": "m", "prompt": "one"}, {"model": "m", "prompt": "two"}],
                [{"text": "1"}, {"text": "2"}],
            ),
            "one (+1 more)",
            "1 (+1 more)",
        ),
        (
            call(
                "chat",
                [{"model": "m", "messages": MESSAGES, "params": CHAT_PARAMS}],
                [{"message": {"role": "assistant", "content": "Birch."}, "finish_reason": "stop"}],
            ),
            "Another one?",
            "Birch.",
        ),
        (
            call(
                "chat",
                [{"model": "m", "messages": [{"role": "user", "content": "Add 1 and 2"}]}],
                [
                    {
                        "message": {
                            "content": None,
                            "tool_calls": [{"id": "c1", "name": "add", "arguments": '{"a":1}'}],
                        }
                    }
                ],
            ),
            "Add 1 and 2",
            '→ tool calls: add({"a":1})',
        ),
        (
            call("chat_stream", {"model": "m", "messages": MESSAGES}, CHAT_STREAM_EVENTS),
            "Another one?",
            "Birch.",
        ),
        (
            call(
                "completion_stream",
                {"model": "m", "prompt": "Count"},
                [
                    {"event": "append", "data": {"text": "1 2 ", "logprobs": []}},
                    {"event": "append", "data": {"text": "3", "logprobs": []}},
                    {"event": "end", "data": {"finish_reason": "length"}},
                ],
            ),
            "Count",
            "1 2 3",
        ),
        (
            call(
                "explain",
                [{"prompt": "An apple a day", "target": " keeps", "model": "m"}],
                [
                    [
                        {"start": 0, "length": 2, "score": 0.125},
                        {"start": 3, "length": 5, "score": 2},
                    ]
                ],
            ),
            "An apple a day ⇒ keeps",
            "scores 0+2: 0.125, 3+5: 2",
        ),
        (
            call("chunk", [{"text": "long text", "params": {}}], [["long", "text"]]),
            "long text",
            "2 chunks: long | text",
        ),
        (
            call(
                "chunk_with_offsets",
                [{"text": "ab", "params": {}, "character_offsets": True}],
                [[{"text": "ab", "byte_offset": 0, "character_offset": 0}]],
            ),
            "ab",
            "1 chunk: ab",
        ),
        (
            call("select_language", [{"text": "Guten Tag", "languages": ["eng", "deu"]}], [None]),
            "Guten Tag",
            "none",
        ),
        (
            call(
                "search",
                [{"query": "oat milk", "index_path": {}, "max_results": 2, "filters": []}],
                [[{"document_path": {"name": "oats.md"}, "content": "…", "score": 0.5}]],
            ),
            "oat milk",
            "1 result: oats.md (0.5)",
        ),
        (
            call(
                "invoke_tool",
                {"namespace": "n", "requests": [{"name": "add"}, {"name": "mul"}]},
                [[{"type": "text", "text": "3"}], "no such tool"],
            ),
            "add, mul",
            "3 (+1 more)",
        ),
        (
            call("documents", [{"namespace": "n", "collection": "c", "name": "d"}], None),
            "n/c/d",
            "",
        ),
        (
            call("list_tools", {"namespace": "n"}, [{"name": "add"}, {"name": "mul"}]),
            "n",
            "add, mul",
        ),
        (
            call("frobnicate", {"x": [1, 2]}, {"ok": True}),
            '{"x": [1, 2]}',
            '{"ok": true}',
        ),
    ],
    ids=lambda value: value.csi if isinstance(value, CsiCall) else None,
)
def test_each_function_says_in_one_line_what_was_asked_and_answered(
    made: CsiCall, asked: str, answered: str
) -> None:
    assert request_summary(made) == asked
    assert response_summary(made) == answered


def test_a_failed_call_answers_with_its_error() -> None:
    failed = call("chat", [{"model": "m", "messages": MESSAGES}], error="The model is gone.")
    assert response_summary(failed) == "failed: The model is gone."
    assert "error: The model is gone." in call_detail(failed)
    assert "response:" not in call_detail(failed)


def test_an_unexpected_shape_is_shown_as_json_not_a_crash() -> None:
    odd = call("chat", "not a list", [1, 2])
    assert request_summary(odd) == '"not a list"'
    assert response_summary(odd) == "[1, 2]"
    assert "not a list" in call_detail(odd)


def test_a_stream_joins_its_text_reasoning_and_tool_calls() -> None:
    parts = stream_parts(
        [
            *CHAT_STREAM_EVENTS[:4],
            {"event": "tool_call", "data": {"tool_calls": [{"index": 0, "name": "add"}]}},
            {"event": "tool_call", "data": {"tool_calls": [{"index": 0, "arguments": "{}"}]}},
            "… [900 events, first 200 shown]",
        ]
    )
    assert parts["text"] == "Birch."
    assert parts["reasoning"] == "Trees, then."
    assert parts["tool_calls"] == "add({})"
    assert parts["cut"] == "… [900 events, first 200 shown]"


def test_the_detail_shows_messages_as_text_with_models_tokens_sizes_and_notes() -> None:
    made = call(
        "chat_stream",
        {"model": "llama", "messages": MESSAGES, "params": {**CHAT_PARAMS, "top_p": None}},
        CHAT_STREAM_EVENTS,
        function="chat-stream",
        model_requested="llama",
        model_served="gpt-4o-mini",
        prompt_tokens=9,
        completion_tokens=2,
        notes=("temperature has no effect: the echo provider always gives the same answer.",),
        request_chars=1234,
        response_chars=567,
    )
    detail = call_detail(made)
    lines = detail.splitlines()
    assert lines[0] == "chat-stream (CSI chat_stream) · 250 ms · echo"
    assert "model asked: llama · served: gpt-4o-mini" in lines
    assert "tokens: 9 prompt → 2 completion" in lines
    assert "size: request 1,234 chars · response 567 chars" in lines
    assert "! temperature has no effect: the echo provider always gives the same answer." in lines
    # Messages as `role: content`, a message of two lines as a block: no escaped "\n".
    assert "    system: Be brief." in lines
    assert "    user:" in lines and "      Another" in lines and "      one?" in lines
    assert "\\n" not in detail
    assert '  params: {"max_tokens": 64, "logprobs": "no", "temperature": 0.5}' in lines
    assert "top_p" not in detail, "a parameter left unset is left out"
    assert "  reasoning: Trees, then." in lines
    assert "  text: Birch." in lines
    assert "  finish reason: stop" in lines
    assert "  events: message_begin, reasoning, message_append ×2, message_end, usage" in lines


def test_the_detail_of_a_prompt_keeps_its_lines() -> None:
    made = call(
        "complete",
        [{"model": "m", "prompt": "### Instruction:\nWrite\n\n### Response:", "params": {}}],
        [{"text": "Done.", "finish_reason": "stop", "usage": {"prompt": 3, "completion": 1}}],
        model_requested="m",
        model_served="m",
    )
    lines = call_detail(made).splitlines()
    assert "model asked: m · served: m (as asked)" in lines
    start = lines.index("  prompt:")
    assert lines[start + 1 : start + 5] == [
        "    ### Instruction:",
        "    Write",
        "    ",
        "    ### Response:",
    ]
    assert "  text: Done." in lines
    assert '  usage: {"prompt": 3, "completion": 1}' in lines


def test_any_json_reads_as_indented_lines() -> None:
    value = {"a": 1, "b": {"c": [{"d": "x" * 50}], "e": []}, "f": "", "g": None}
    assert readable_lines(value) == [
        "a: 1",
        "b:",
        "  c:",
        f"    - d: {'x' * 50}",
        "  e: []",
        'f: ""',
        "g: null",
    ]
