"""A skill's input and output as its world defines them.

The seed's world takes and returns text. The kernel's worlds take JSON bytes and return JSON
bytes (or, for a message stream, nothing: its messages are its output), or an error: the
skill's `invalid-input` or `internal`, whose text the SDK fills with a traceback of the
sandbox's paths, mapped here back to the project's files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.build.diagnostics import last_exception_line, map_sandbox_paths
from workbench.errors import (
    InputRejected,
    InvalidOutput,
    RunError,
    SkillInternalError,
    SkillInvalidInput,
)
from workbench.run.loaders import is_loader_frame
from workbench.run.worlds import World

#: An example a user can copy, in the sentence that says the input is not JSON.
_JSON_EXAMPLE = '{"topic": "oat milk"}'


def encode_input(world: World, text: str) -> Any:
    """What the world's `run` takes for the input the user typed."""
    if not world.takes_json:
        return text
    try:
        json.loads(text)
    except ValueError as error:
        raise InputRejected(
            f"The input is not JSON ({_json_problem(error)}); a {world.name} skill takes "
            f"JSON, e.g. {_JSON_EXAMPLE}."
        ) from None
    return text.encode("utf-8")


def _json_problem(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    return str(error)


def decode_output(
    world: World, plain: Any, messages: Sequence[dict[str, Any]], sandbox_paths: Sequence[Path]
) -> str:
    """The run's output as text, or the skill's own error raised as a RunError."""
    if world.kind == "seed":
        return str(plain)
    if "err" in plain:
        raise skill_error(plain["err"], sandbox_paths)
    if world.kind == "message-stream":
        return message_text(messages)
    raw: bytes = plain["ok"]
    try:
        text = raw.decode("utf-8")
        json.loads(text)
    except ValueError as error:
        raise InvalidOutput(
            f"The skill returned output that is not JSON ({_json_problem(error)}); "
            "return JSON bytes, e.g. json.dumps(result).encode()."
        ) from None
    return text


def skill_error(error: Any, sandbox_paths: Sequence[Path]) -> RunError:
    """The world's `error` variant ({"invalid_input": text} or {"internal": text})."""
    ((case, text),) = error.items() if isinstance(error, dict) else ((error, ""),)
    details = "\n".join(
        map_sandbox_paths(line, sandbox_paths)
        for line in str(text).splitlines()
        if not is_loader_frame(line)
    )
    summary = _summary(details)
    if case == "invalid_input":
        return SkillInvalidInput(
            f"The skill rejected its input as invalid: {summary}; fix the input.", details
        )
    return SkillInternalError(f"The skill reported an error: {summary}.", details)


_EXCEPTION_LINE = re.compile(
    r"^(?:[\w.]+\.)?(?P<name>\w+(?:Error|Exception|Exit)): ?(?P<message>.*)$"
)
#: pydantic's closing pointer to its docs: noise in a one-line summary.
_DOCS_LINE = re.compile(r"^\s*For further information visit ")


def _summary(text: str) -> str:
    """The exception a traceback ends with, on one line, with the lines that explain it
    (pydantic puts each failed field on its own lines after the exception line)."""
    lines = text.strip().splitlines()
    for index in range(len(lines) - 1, -1, -1):
        found = _EXCEPTION_LINE.match(lines[index])
        if found is None:
            continue
        tail = [
            line.strip()
            for line in lines[index + 1 :]
            if line.strip() and not _DOCS_LINE.match(line)
        ]
        parts = [found["message"].strip(), *tail]
        return f"{found['name']}: {'; '.join(p for p in parts if p)}"
    if "Traceback (most recent call last)" in text:
        return last_exception_line(text)
    kept = [line.strip() for line in lines if line.strip()]
    return kept[0] if kept else "no message"


def message_text(messages: Sequence[dict[str, Any]]) -> str:
    """What a message-stream skill said: its messages' text, one message a paragraph."""
    parts: list[str] = []
    for event in messages:
        if event["type"] == "begin":
            parts.append("")
        elif event["type"] == "append" and parts:
            parts[-1] += event["text"]
    return "\n\n".join(parts)


@dataclass(frozen=True)
class SkillMetadata:
    """What a skill says about itself (0.3 and later `skill-handler` skills)."""

    description: str | None
    input_schema: Any
    output_schema: Any

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> SkillMetadata:
        return cls(
            description=plain.get("description"),
            input_schema=_schema(plain.get("input_schema")),
            output_schema=_schema(plain.get("output_schema")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
        }


def _schema(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def check_input(text: str, schema: Any) -> None:
    """Refuse, before the run, an input that its skill's input schema does not allow, saying
    where in the input the problem is."""
    from jsonschema import validators
    from jsonschema.exceptions import SchemaError

    try:
        value = json.loads(text)
    except ValueError as error:
        raise InputRejected(
            f"The input is not JSON ({_json_problem(error)}); the skill takes JSON, e.g. "
            f"{_JSON_EXAMPLE}."
        ) from None
    try:
        validator = validators.validator_for(schema)(schema)
        problems = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path)))
    except SchemaError:
        return  # the skill's own schema is broken: nothing to check against, the run decides
    if problems:
        first = problems[0]
        where = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in first.path)
        location = f"input{where}" if where else "the input"
        raise InputRejected(
            f"The input does not match the skill's input schema: {location}: {first.message}; "
            "fix the input."
        )
