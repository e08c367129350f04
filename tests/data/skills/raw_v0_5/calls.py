"""A raw (no SDK) skill for world `skill` of pharia:skill@0.5.0, used by the test suite.

The 0.5 world is `@unstable(feature = alpha)`, so it builds only with componentize-py
`--features alpha` (or `--all-features`). Its interfaces are those of 0.4. For the input
`{"call": "complete" | "chat" | "completion-stream" | "chat-stream", "text": ..., "model": ...}`
it calls that inference
function and answers with JSON describing what the host returned; `fail` returns an
`internal` error, anything else `invalid-input`.
"""

import json

from componentize_py_types import Err
from skill import exports
from skill.exports.skill_handler import Error_Internal, Error_InvalidInput, SkillMetadata
from skill.imports import inference as inf


def wit_name(case) -> str:
    """An enum case as WIT spells it: FinishReason.TOOL_CALLS -> "tool-calls"."""
    return case.name.lower().replace("_", "-")


def usage(used: inf.TokenUsage) -> dict:
    return {"prompt": used.prompt, "completion": used.completion}


def complete(model: str, text: str) -> dict:
    params = inf.CompletionParams(
        max_tokens=32, temperature=0.0, top_k=None, top_p=None, stop=[],
        return_special_tokens=False, frequency_penalty=None, presence_penalty=None,
        logprobs=inf.Logprobs_Top(2), echo=True,
    )
    (done,) = inf.complete([inf.CompletionRequest(model, f"Hello {text}", params)])
    return {
        "text": done.text,
        "finish_reason": wit_name(done.finish_reason),
        "logprobs": len(done.logprobs),
        "usage": usage(done.usage),
    }


def chat_params() -> inf.ChatParams:
    return inf.ChatParams(
        max_tokens=None, max_completion_tokens=64, temperature=None, top_p=None,
        frequency_penalty=None, presence_penalty=None, logprobs=inf.Logprobs_No(),
        tools=None, tool_choice=None, parallel_tool_calls=None,
        response_format=None, reasoning_effort=inf.ReasoningEffort.LOW,
    )


def greeting(text: str) -> list:
    return [
        inf.Message_Other(inf.OtherMessage("system", "You greet people.")),
        inf.Message_Other(inf.OtherMessage("user", text)),
    ]


def chat(model: str, text: str) -> dict:
    (done,) = inf.chat([inf.ChatRequest(model, greeting(text), chat_params())])
    return {
        "content": done.message.content,
        "finish_reason": wit_name(done.finish_reason),
        "usage": usage(done.usage),
    }


def completion_stream(model: str, text: str) -> dict:
    params = inf.CompletionParams(
        max_tokens=8, temperature=None, top_k=None, top_p=None, stop=[],
        return_special_tokens=False, frequency_penalty=None, presence_penalty=None,
        logprobs=inf.Logprobs_No(), echo=False,
    )
    result: dict = {"text": "", "appends": 0}
    with inf.CompletionStream(inf.CompletionRequest(model, text, params)) as stream:
        while (event := stream.next()) is not None:
            if isinstance(event, inf.CompletionEvent_Append):
                result["text"] += event.value.text
                result["appends"] += 1
            elif isinstance(event, inf.CompletionEvent_End):
                result["finish_reason"] = wit_name(event.value)
            elif isinstance(event, inf.CompletionEvent_Usage):
                result["usage"] = usage(event.value)
    return result


def chat_stream(model: str, text: str) -> dict:
    params = chat_params()
    messages = greeting(text)
    result: dict = {"role": None, "reasoning": "", "content": "", "appends": 0, "tool_calls": []}
    with inf.ChatStream(inf.ChatRequest(model, messages, params)) as stream:
        while (event := stream.next()) is not None:
            if isinstance(event, inf.ChatEvent_MessageBegin):
                result["role"] = event.value
            elif isinstance(event, inf.ChatEvent_Reasoning):
                result["reasoning"] += event.value
            elif isinstance(event, inf.ChatEvent_MessageAppend):
                result["content"] += event.value.content
                result["appends"] += 1
            elif isinstance(event, inf.ChatEvent_ToolCall):
                result["tool_calls"] += [vars(chunk) for chunk in event.value]
            elif isinstance(event, inf.ChatEvent_MessageEnd):
                result["finish_reason"] = wit_name(event.value)
            elif isinstance(event, inf.ChatEvent_Usage):
                result["usage"] = usage(event.value)
    return result


CALLS = {
    "complete": complete,
    "chat": chat,
    "completion-stream": completion_stream,
    "chat-stream": chat_stream,
}


class SkillHandler(exports.SkillHandler):
    def run(self, input: bytes) -> bytes:
        try:
            request = json.loads(input)
            call = request["call"]
        except (ValueError, TypeError, KeyError) as error:
            raise Err(Error_InvalidInput(f"expected a JSON object with a 'call': {error!r}"))
        text = request.get("text", "Homer")
        model = request.get("model", "llama-3.1-8b-instruct")
        print(f"calls 0.5: {call} with {model}")
        if call == "fail":
            raise Err(Error_Internal(f"asked to fail for {text}"))
        if call not in CALLS:
            raise Err(Error_InvalidInput(f"unknown call {call!r}"))
        return json.dumps({"call": call, **CALLS[call](model, text)}).encode()

    def metadata(self) -> SkillMetadata:
        return SkillMetadata(
            description="Calls one 0.5 inference function and describes what came back.",
            input_schema=json.dumps({"type": "object", "required": ["call"]}).encode(),
            output_schema=json.dumps({"type": "object"}).encode(),
        )
