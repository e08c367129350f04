"""A raw (no SDK) skill for world `skill` of pharia:skill@0.3.11, used by the test suite:
it calls the 0.3 `complete` (no echo), which the SDK no longer calls (it uses complete-v2)."""

import json

from componentize_py_types import Err
from skill import exports
from skill.exports.skill_handler import Error_InvalidInput, SkillMetadata
from skill.imports import inference as inf


class SkillHandler(exports.SkillHandler):
    def run(self, input: bytes) -> bytes:
        try:
            request = json.loads(input)
            text, model = request["text"], request.get("model", "luminous-base")
        except (ValueError, KeyError, TypeError) as error:
            raise Err(Error_InvalidInput(f"expected {{'text': ...}}: {error}"))
        params = inf.CompletionParams(
            16, None, None, None, [], False, None, None, inf.Logprobs_Sampled()
        )
        (done,) = inf.complete([inf.CompletionRequest(model, text, params)])
        return json.dumps(
            {"text": done.text, "logprobs": len(done.logprobs), "usage": done.usage.completion}
        ).encode()

    def metadata(self) -> SkillMetadata:
        schema = {"type": "object", "properties": {"text": {"type": "string"}}}
        return SkillMetadata("Completes a text (0.3).", json.dumps(schema).encode(), b"{}")
