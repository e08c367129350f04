"""An SDK `@skill` that calls the inference function its input names, for the tests."""

import json

from pharia_skill import (
    ChatParams,
    CompletionParams,
    Csi,
    Granularity,
    Message,
    TopLogprobs,
    skill,
)
from pydantic import BaseModel


class Input(BaseModel):
    call: str
    text: str = "oat milk"
    model: str = "llama-3.1-8b-instruct"


class Output(BaseModel):
    answer: str


@skill
def run(csi: Csi, input: Input) -> Output:
    """Calls one inference function and says what came back."""
    print(f"calling {input.call}")
    if input.call == "complete":
        params = CompletionParams(
            max_tokens=16, temperature=0.5, top_k=3, top_p=0.9, stop=["\n\n"],
            logprobs=TopLogprobs(top=2), echo=False,
        )
        done = csi.complete(input.model, input.text, params)
        usage = f"{done.usage.prompt}+{done.usage.completion}"
        return Output(answer=f"{done.text}|{done.finish_reason.value}|{usage}")
    if input.call == "chat":
        done = csi.chat(
            input.model,
            [Message.system("Be brief."), Message.user(input.text)],
            ChatParams(max_tokens=32, temperature=0.1),
        )
        return Output(answer=f"{done.message.content}|{done.finish_reason.value}")
    if input.call == "explain":
        scores = csi.explain(input.text, " milk", input.model, Granularity.WORD)
        return Output(answer=json.dumps([[s.start, s.length, round(s.score, 3)] for s in scores]))
    if input.call == "completion-stream":
        stream = csi.completion_stream(input.model, input.text, CompletionParams(max_tokens=8))
        pieces = [event.text for event in stream.stream()]
        return Output(answer="/".join(pieces) + f"|{stream.finish_reason().value}")
    if input.call == "chat-stream":
        response = csi.chat_stream(input.model, [Message.user(input.text)])
        pieces = [event.content for event in response.stream()]
        return Output(answer="/".join(pieces) + f"|{response.finish_reason().value}")
    if input.call == "chunk":
        from pharia_skill import ChunkParams

        chunks = csi.chunk(input.text, ChunkParams(input.model, max_tokens=4))
        return Output(answer="/".join(c.text for c in chunks))
    if input.call == "fail":
        csi.complete(input.model, input.text, CompletionParams(max_tokens=4))
        raise ValueError(f"cannot handle {input.text!r}")
    return Output(answer=f"unknown call {input.call}")
