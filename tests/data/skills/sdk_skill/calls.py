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
    if input.call == "everything":
        return Output(answer=json.dumps(everything(csi, input.text, input.model)))
    if input.call == "fail":
        csi.complete(input.model, input.text, CompletionParams(max_tokens=4))
        raise ValueError(f"cannot handle {input.text!r}")
    return Output(answer=f"unknown call {input.call}")


def everything(csi: Csi, text: str, model: str) -> dict:
    """Every CSI function besides inference, for the test of the whole CSI offline: `text`
    is JSON naming what to ask."""
    from pharia_skill import (
        ChunkParams,
        DocumentPath,
        EqualTo,
        IndexPath,
        Language,
        MetadataFilter,
        ToolError,
        With,
    )

    asked = json.loads(text)
    index = IndexPath(asked["namespace"], asked["collection"], "asym")
    chunks = csi.chunk(asked["long"], ChunkParams(model, max_tokens=asked["size"], overlap=2))
    found = csi.search(index, asked["query"], max_results=5)
    only = [With([MetadataFilter(asked["field"], EqualTo(asked["value"]))])]
    narrowed = csi.search(index, asked["query"], max_results=5, filters=only)
    path = DocumentPath(asked["namespace"], asked["collection"], asked["document"])
    document = csi.document(path)
    try:
        failed = csi.invoke_tool("fail", reason="out of cheese").text()
    except ToolError as error:
        failed = f"error: {error.message}"
    return {
        "languages": [
            getattr(csi.select_language(said, [Language.English, Language.German]), "value", None)
            for said in asked["said"]
        ],
        "chunks": [[c.text, c.character_offset] for c in chunks],
        "search": [[r.document_path.name, r.content] for r in found],
        "narrowed": [r.document_path.name for r in narrowed],
        "document": [getattr(c, "text", None) for c in document.contents],
        "metadata": csi.document_metadata(path),
        "tools": sorted(tool.name for tool in csi.list_tools()),
        "added": csi.invoke_tool("add", a=2, b=3).text(),
        "failed": failed,
    }
