"""A haiku about the topic in the input, written by a chat model through the CSI."""

from pharia_skill import ChatParams, Csi, Message, skill
from pydantic import BaseModel

MODEL = "llama-3.1-8b-instruct"


class Input(BaseModel):
    topic: str


class Output(BaseModel):
    haiku: str


@skill
def haiku(csi: Csi, input: Input) -> Output:
    """Writes a haiku about the topic."""
    messages = [
        Message.system("You are a poet who answers with one haiku and nothing else."),
        Message.user(f"Write a haiku about {input.topic}."),
    ]
    reply = csi.chat(MODEL, messages, ChatParams(max_tokens=64))
    return Output(haiku=reply.message.content.strip())
