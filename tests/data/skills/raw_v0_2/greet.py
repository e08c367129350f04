"""A raw (no SDK) skill for world `skill` of pharia:skill@0.2.10, used by the test suite.

It calls one inference function of the 0.2 CSI, picked by the input
`{"call": ..., "text": ..., "model": ...}`, and answers with JSON describing what the host
returned. `call` is `complete`, `complete-return-special-tokens`, `complete-all` or `chat`;
`fail` returns an `internal` error; anything else (or input that is not a JSON object with
a `call`) returns `invalid-input`.
"""

import json

from componentize_py_types import Err
from skill import exports
from skill.exports.skill_handler import Error_Internal, Error_InvalidInput
from skill.imports import csi

PARAMS = csi.CompletionParams(max_tokens=64, temperature=0.5, top_k=3, top_p=0.9, stop=["\n\n"])


def wit_name(case) -> str:
    """An enum case as WIT spells it: FinishReason.CONTENT_FILTER -> "content-filter"."""
    return case.name.lower().replace("_", "-")


def completion(done: csi.Completion) -> dict:
    return {"text": done.text, "finish_reason": wit_name(done.finish_reason)}


class SkillHandler(exports.SkillHandler):
    def run(self, input: bytes) -> bytes:
        try:
            request = json.loads(input)
            call = request["call"]
        except (ValueError, TypeError, KeyError) as error:
            raise Err(Error_InvalidInput(f"expected a JSON object with a 'call': {error!r}"))
        text = request.get("text", "Homer")
        model = request.get("model", "luminous-base")
        print(f"greet: {call} with {model}")

        if call == "complete":
            result = completion(csi.complete(model, f"Hello {text}", PARAMS))
        elif call == "complete-return-special-tokens":
            result = completion(csi.complete_return_special_tokens(model, text, PARAMS))
        elif call == "complete-all":
            requests = [
                csi.CompletionRequest(model, f"Hello {text}", PARAMS),
                csi.CompletionRequest(model, f"Goodbye {text}", PARAMS),
            ]
            result = {"completions": [completion(done) for done in csi.complete_all(requests)]}
        elif call == "chat":
            messages = [
                csi.Message(csi.Role.SYSTEM, "You greet people."),
                csi.Message(csi.Role.USER, text),
            ]
            params = csi.ChatParams(max_tokens=64, temperature=0.5, top_p=0.9)
            response = csi.chat(model, messages, params)
            result = {
                "role": wit_name(response.message.role),
                "content": response.message.content,
                "finish_reason": wit_name(response.finish_reason),
            }
        elif call == "fail":
            raise Err(Error_Internal(f"asked to fail for {text}"))
        else:
            raise Err(Error_InvalidInput(f"unknown call {call!r}"))
        return json.dumps({"call": call, **result}).encode()
