"""A haiku about the topic in the input, streamed word by word as the chat model writes it."""

from pharia_skill import ChatParams, Csi, Message, MessageWriter, message_stream
from pydantic import BaseModel

MODEL = "llama-3.1-8b-instruct"


class Input(BaseModel):
    topic: str


class Payload(BaseModel):
    """Sent with the end of the message."""

    model: str


@message_stream
def haiku(csi: Csi, writer: MessageWriter[Payload], input: Input) -> None:
    messages = [
        Message.system("You are a poet who answers with one haiku and nothing else."),
        Message.user(f"Write a haiku about {input.topic}."),
    ]
    response = csi.chat_stream(MODEL, messages, ChatParams(max_tokens=64))
    writer.forward_response(response, Payload(model=MODEL))
