"""A raw (no SDK) skill for world `skill` of pharia:skill@0.4.0, used by the test suite.

It calls one function of the 0.4 `inference` interface, picked by the input
`{"call": ..., "text": ..., "model": ...}`, and answers with JSON describing what the host
returned: `complete` (echo, top-2 logprobs), `chat` (tools, JSON-schema response format,
reasoning effort), `completion-stream` and `chat-stream` (read until the stream ends).
`fail` returns an `internal` error; anything else returns `invalid-input`.
"""

import json

from componentize_py_types import Err
from skill import exports
from skill.exports.skill_handler import Error_Internal, Error_InvalidInput, SkillMetadata
from skill.imports import inference as inf

INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "call": {"type": "string"},
        "text": {"type": "string"},
        "model": {"type": "string"},
    },
    "required": ["call"],
}
OUTPUT_SCHEMA = {"type": "object", "properties": {"call": {"type": "string"}}}
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
GREETING = {"type": "object", "properties": {"greeting": {"type": "string"}}}


def wit_name(case) -> str:
    """An enum case as WIT spells it: FinishReason.TOOL_CALLS -> "tool-calls"."""
    return case.name.lower().replace("_", "-")


def usage(used: inf.TokenUsage) -> dict:
    return {"prompt": used.prompt, "completion": used.completion}


def logprob(lp: inf.Logprob) -> dict:
    return {"token": lp.token.decode(errors="replace"), "logprob": lp.logprob}


def completion_request(model: str, text: str) -> inf.CompletionRequest:
    params = inf.CompletionParams(
        max_tokens=32, temperature=0.0, top_k=None, top_p=None, stop=["\n"],
        return_special_tokens=False, frequency_penalty=None, presence_penalty=None,
        logprobs=inf.Logprobs_Top(2), echo=True,
    )
    return inf.CompletionRequest(model, f"Hello {text}", params)


def chat_request(model: str, text: str) -> inf.ChatRequest:
    messages = [
        inf.Message_Other(inf.OtherMessage("system", "You greet people, in JSON.")),
        inf.Message_Other(inf.OtherMessage("user", text)),
    ]
    weather = inf.Function(
        "get_weather", "The weather in a city", json.dumps(WEATHER).encode(), None
    )
    schema = inf.JsonSchema("A greeting", "greeting", json.dumps(GREETING).encode(), True)
    params = inf.ChatParams(
        max_tokens=None, max_completion_tokens=64, temperature=0.0, top_p=None,
        frequency_penalty=None, presence_penalty=None, logprobs=inf.Logprobs_No(),
        tools=[weather], tool_choice=inf.ToolChoice_Auto(), parallel_tool_calls=None,
        response_format=inf.ResponseFormat_JsonSchema(schema),
        reasoning_effort=inf.ReasoningEffort.LOW,
    )
    return inf.ChatRequest(model, messages, params)


def complete(model: str, text: str) -> dict:
    (done,) = inf.complete([completion_request(model, text)])
    return {
        "text": done.text,
        "finish_reason": wit_name(done.finish_reason),
        "logprobs": [
            {"sampled": logprob(d.sampled), "top": [logprob(t) for t in d.top]}
            for d in done.logprobs
        ],
        "usage": usage(done.usage),
    }


def chat(model: str, text: str) -> dict:
    (response,) = inf.chat([chat_request(model, text)])
    calls = response.message.tool_calls
    return {
        "content": response.message.content,
        "reasoning_content": response.message.reasoning_content,
        "tool_calls": None if calls is None else [vars(call) for call in calls],
        "finish_reason": wit_name(response.finish_reason),
        "usage": usage(response.usage),
    }


def completion_stream(model: str, text: str) -> dict:
    result: dict = {"text": "", "appends": 0}
    with inf.CompletionStream(completion_request(model, text)) as stream:
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
    result: dict = {"role": None, "reasoning": "", "content": "", "appends": 0, "tool_calls": []}
    with inf.ChatStream(chat_request(model, text)) as stream:
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
        print(f"calls 0.4: {call} with {model}")
        if call == "fail":
            raise Err(Error_Internal(f"asked to fail for {text}"))
        if call not in CALLS:
            raise Err(Error_InvalidInput(f"unknown call {call!r}"))
        return json.dumps({"call": call, **CALLS[call](model, text)}).encode()

    def metadata(self) -> SkillMetadata:
        return SkillMetadata(
            description="Calls one 0.4 inference function and describes what came back.",
            input_schema=json.dumps(INPUT_SCHEMA).encode(),
            output_schema=json.dumps(OUTPUT_SCHEMA).encode(),
        )
