"""What a skill can ask a model, and what comes back, the same for every world.

These types are a superset of the inference interfaces of pharia:skill@0.3 and @0.4 (0.2 and
0.5 are subsets of those): a world's host maps its own WIT records onto them and back. Token
bytes are `bytes` here, as in the WIT; JSON gets them as lists of ints.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

FinishReason = Literal["stop", "length", "content_filter", "tool_calls"]
#: "no", "sampled" (only the chosen token's logprob), or the top n alternatives per token.
Logprobs = Literal["no", "sampled"] | int
Granularity = Literal["auto", "word", "sentence", "paragraph"]
ReasoningEffort = Literal["minimal", "low", "medium", "high"]

FINISH_REASONS: tuple[FinishReason, ...] = ("stop", "length", "content_filter", "tool_calls")
GRANULARITIES: tuple[Granularity, ...] = ("auto", "word", "sentence", "paragraph")
REASONING_EFFORTS: tuple[ReasoningEffort, ...] = ("minimal", "low", "medium", "high")


def top_logprobs(logprobs: Logprobs) -> int:
    """How many alternatives per token `logprobs` asks for (0 for "no" and "sampled")."""
    return logprobs if isinstance(logprobs, int) else 0


@dataclass(frozen=True)
class Logprob:
    token: bytes
    logprob: float


@dataclass(frozen=True)
class Distribution:
    sampled: Logprob
    top: tuple[Logprob, ...] = ()


@dataclass(frozen=True)
class TokenUsage:
    prompt: int
    completion: int


# --- completion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionParams:
    max_tokens: int | None = None
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    return_special_tokens: bool = False
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: Logprobs = "no"
    #: Put the prompt in front of the completion (0.3's complete-v2 and 0.4's complete).
    echo: bool = False


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    prompt: str
    params: CompletionParams = field(default_factory=CompletionParams)


@dataclass(frozen=True)
class CompletionResult:
    text: str
    finish_reason: FinishReason
    logprobs: tuple[Distribution, ...]
    usage: TokenUsage
    #: The model that answered (a server may map or override the name).
    model: str


@dataclass(frozen=True)
class CompletionAppend:
    text: str
    logprobs: tuple[Distribution, ...] = ()


@dataclass(frozen=True)
class CompletionEnd:
    finish_reason: FinishReason


@dataclass(frozen=True)
class StreamUsage:
    """The last event of a completion or chat stream."""

    usage: TokenUsage


CompletionEvent = CompletionAppend | CompletionEnd | StreamUsage


# --- chat ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    #: The arguments as the model wrote them: JSON text, not checked.
    arguments: str


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str | None
    reasoning_content: str | None = None
    tool_calls: tuple[ToolCall, ...] | None = None
    #: Set on a "tool" message: which call it answers.
    tool_call_id: str | None = None


@dataclass(frozen=True)
class Function:
    """A tool the model may call."""

    name: str
    description: str | None = None
    #: Its JSON Schema, as a JSON value.
    parameters: Any = None
    strict: bool | None = None


@dataclass(frozen=True)
class NamedToolChoice:
    """The model must call this one tool."""

    name: str


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice


@dataclass(frozen=True)
class JsonSchemaFormat:
    name: str
    description: str | None = None
    #: The JSON Schema the reply must follow, as a JSON value.
    schema: Any = None
    strict: bool | None = None


ResponseFormat = Literal["text", "json_object"] | JsonSchemaFormat


@dataclass(frozen=True)
class ChatParams:
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: Logprobs = "no"
    tools: tuple[Function, ...] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: ReasoningEffort | None = None


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    params: ChatParams = field(default_factory=ChatParams)


@dataclass(frozen=True)
class ChatResult:
    #: The assistant's message: content, reasoning and tool calls each possibly None.
    message: ChatMessage
    finish_reason: FinishReason
    logprobs: tuple[Distribution, ...]
    usage: TokenUsage
    model: str


@dataclass(frozen=True)
class MessageBegin:
    role: str


@dataclass(frozen=True)
class ReasoningAppend:
    content: str


@dataclass(frozen=True)
class MessageAppend:
    content: str
    logprobs: tuple[Distribution, ...] = ()


@dataclass(frozen=True)
class ToolCallChunk:
    """A piece of a tool call: the first piece of call `index` names it, later ones add to
    its arguments."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str | None = None


@dataclass(frozen=True)
class ToolCallDelta:
    chunks: tuple[ToolCallChunk, ...]


@dataclass(frozen=True)
class MessageEnd:
    finish_reason: FinishReason


ChatEvent = (
    MessageBegin | ReasoningAppend | MessageAppend | ToolCallDelta | MessageEnd | StreamUsage
)


# --- explain ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplanationRequest:
    prompt: str
    target: str
    model: str
    granularity: Granularity = "auto"


@dataclass(frozen=True)
class TextScore:
    """How much the prompt's characters [start, start + length) made the model say `target`."""

    start: int
    length: int
    score: float


# --- streams ------------------------------------------------------------------------------

Event = TypeVar("Event")


class EventStream(Generic[Event]):
    """A stream's events, pulled one at a time (a pull may wait on the network), with the
    model that answers: the requested one until the server names another.

    Closing it (or reading it to the end) releases its connection; a stream that is dropped
    half-read must be closed."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._events: Iterator[Event] = iter(())

    def feed(self, events: Iterator[Event]) -> EventStream[Event]:
        """Take the events from `events` (a generator that may set `self.model`)."""
        self._events = events
        return self

    def __iter__(self) -> EventStream[Event]:
        return self

    def __next__(self) -> Event:
        return next(self._events)

    def close(self) -> None:
        close = getattr(self._events, "close", None)
        if close is not None:
            close()
