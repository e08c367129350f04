"""An SDK `@message_stream` skill: streams a chat reply, or waits between items."""

from pharia_skill import Csi, Message, MessageWriter, message_stream
from pydantic import BaseModel


class Input(BaseModel):
    topic: str
    model: str = "llama-3.1-8b-instruct"
    #: Writes "first", then sleeps this long before anything else (for the live test).
    pause: float = 0.0


class Payload(BaseModel):
    words: int


@message_stream
def run(csi: Csi, writer: MessageWriter[Payload], input: Input) -> None:
    if input.pause:
        import time

        writer.begin_message("assistant")
        writer.append_to_message("first")
        time.sleep(input.pause)
        writer.append_to_message(" then more")
        writer.end_message(Payload(words=3))
        return
    if input.topic == "tools":  # the kernel streams `event: tool` around each call
        from pharia_skill import InvokeRequest, ToolOutput

        results = csi.invoke_tool_concurrent(
            [InvokeRequest("add", {"a": 2, "b": 3}), InvokeRequest("fail", {"reason": "no"})]
        )
        writer.begin_message("assistant")
        for result in results:
            told = result.text() if isinstance(result, ToolOutput) else f"error: {result.message}"
            writer.append_to_message(told + "\n")
        writer.end_message(Payload(words=len(results)))
        return
    response = csi.chat_stream(input.model, [Message.user(f"Tell me about {input.topic}")])
    writer.begin_message("assistant")
    words = 0
    for event in response.stream():
        words += len(event.content.split())
        writer.append_to_message(event.content)
    writer.end_message(Payload(words=words))
