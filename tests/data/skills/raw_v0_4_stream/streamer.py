"""A raw (no SDK) skill for world `message-stream-skill` of pharia:skill@0.4.0, used by the
test suite.

For the input `{"text": ..., "model": ...}` it writes message-begin, one `reasoning` item,
one message-append per message-append event of a host chat-stream, and message-end with a
JSON payload, then drops the output resource. Input that is not a JSON object returns
`invalid-input`; `{"fail": true}` returns an `internal` error.
"""

import json

from componentize_py_types import Err
from skill import exports
from skill.exports.message_stream import Error_Internal, Error_InvalidInput
from skill.imports import inference as inf
from skill.imports import streaming_output as out


def chat_request(model: str, text: str) -> inf.ChatRequest:
    params = inf.ChatParams(
        max_tokens=64, max_completion_tokens=None, temperature=None, top_p=None,
        frequency_penalty=None, presence_penalty=None, logprobs=inf.Logprobs_No(),
        tools=None, tool_choice=None, parallel_tool_calls=None,
        response_format=None, reasoning_effort=None,
    )
    return inf.ChatRequest(model, [inf.Message_Other(inf.OtherMessage("user", text))], params)


class MessageStream(exports.MessageStream):
    def run(self, input: bytes, output: out.StreamOutput) -> None:
        try:
            request = json.loads(input)
            text = request.get("text", "Homer")
        except (ValueError, AttributeError) as error:
            raise Err(Error_InvalidInput(f"expected a JSON object: {error!r}"))
        if request.get("fail"):
            raise Err(Error_Internal(f"asked to fail for {text}"))
        model = request.get("model", "llama-3.1-8b-instruct")
        print(f"streamer 0.4: {text} with {model}")

        appends, finish_reason = 0, None
        with output:  # drops the stream-output resource at the end
            output.write(out.MessageItem_MessageBegin(out.BeginAttributes(role="assistant")))
            output.write(out.MessageItem_Reasoning(f"Thinking about {text}."))
            with inf.ChatStream(chat_request(model, f"Greet {text}")) as stream:
                while (event := stream.next()) is not None:
                    if isinstance(event, inf.ChatEvent_MessageAppend):
                        output.write(out.MessageItem_MessageAppend(event.value.content))
                        appends += 1
                    elif isinstance(event, inf.ChatEvent_MessageEnd):
                        finish_reason = event.value.name.lower().replace("_", "-")
            payload = {"appends": appends, "finish_reason": finish_reason}
            output.write(out.MessageItem_MessageEnd(json.dumps(payload).encode()))
