"""What the Pharia Kernel makes of MCP tools, as plain data: the outcome a skill receives, the
sentences it reads, the descriptions `list-tools` returns and the `event: tool` payloads of a
message stream. Nothing here talks to a server, so the host, the tests and a local HTTP server
can share it without importing the MCP SDK.

Sources (github.com/Aleph-Alpha/pharia-engine): `src/tool.rs` (`ToolOutput`, `Modality`,
`ToolError`), `src/mcp/client.rs` (`ToolCallResult`, `list_tools`),
`src/skill_runtime/routes.rs` (`MessageEvent::Tool*`), `src/skill_driver.rs` (when they fire).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from workbench.errors import ToolServerError

#: The SSE event name of every tool event on `/v1/skills/{ns}/{name}/message-stream`.
TOOL_EVENT = "tool"

ToolEventKind = Literal["begin", "end", "error"]


@dataclass(frozen=True)
class ToolOutcome:
    """One tool call as the skill receives it: `ok(contents)` or `err(error)`.

    `contents` is the kernel's `/csi/v1/invoke_tool` item, `[{"type": "text", "text": ...}]`
    (the WIT `list<modality>` with its only case, `text`); `error` is the `err` string.
    """

    contents: list[dict[str, str]] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def tool_not_found(name: str) -> str:
    """`ToolError::ToolNotFound`: no configured server lists `name` (or none is configured)."""
    return f"Tool {name} not found on any server."


def runtime_error(detail: str) -> str:
    """`ToolError::RuntimeError`: the call could not be made or its answer not read; the
    kernel hands this to the skill as `err` too (an argument whose bytes are not JSON, say)."""
    return f"The tool call could not be executed, original error: {detail}"


def tool_event(kind: ToolEventKind, name: str, message: str | None = None) -> dict[str, str]:
    """The `data` of one `event: tool`, keys in the kernel's order (serde's tag first):
    `{"type":"begin","name":"add"}`, `{"type":"end","name":"add"}`,
    `{"type":"error","name":"add","message":"..."}` (the message is the skill's `err`).

    When (`SkillInvocationCtx::invoke_tool`): for one `invoke-tool` batch, `begin` for every
    request first, then, once the whole batch is answered, `end` or `error` for each in request
    order. Only message-stream skills' streams carry them; a function skill's run drops them."""
    if kind == "error":
        return {"type": "error", "name": name, "message": message or ""}
    return {"type": kind, "name": name}


def readable_tool_event(event: Mapping[str, Any]) -> str:
    """One tool event as a person reads it: "add called", "add answered", "add failed: …"."""
    said = {"begin": "called", "end": "answered"}.get(str(event.get("type")), "failed")
    message = f": {event['message']}" if event.get("message") else ""
    return f"{event.get('name', '?')} {said}{message}"


def end_event(name: str, outcome: ToolOutcome) -> dict[str, str]:
    """The kernel's `ToolEnd` for a finished call: `end`, or `error` with the skill's `err`."""
    if outcome.error is None:
        return tool_event("end", name)
    return tool_event("error", name, outcome.error)


def outcome_from_result(result: Mapping[str, Any]) -> ToolOutcome:
    """A `tools/call` result as the kernel reads it: `content` and `isError` are both required
    (serde, no defaults), every content item must be `{"type": "text", ...}` (the kernel's
    `Modality` has no other case, so any other kind fails the whole answer), and an `isError`
    result's texts, joined by a blank line (`ToolOutput::text`), are the error."""
    content = result.get("content")
    is_error = result.get("isError")
    if not isinstance(content, list):
        return ToolOutcome(error=runtime_error("the MCP server's tool result has no content list"))
    if not isinstance(is_error, bool):
        # The MCP schema lets a server leave it out; the kernel's parser does not.
        return ToolOutcome(
            error=runtime_error(
                "the MCP server's tool result has no isError field, which the Pharia Kernel needs"
            )
        )
    texts: list[str] = []
    others: list[str] = []
    for item in content:
        text = item.get("text") if isinstance(item, dict) else None
        if isinstance(item, dict) and item.get("type") == "text" and isinstance(text, str):
            texts.append(text)
        else:
            kind = item.get("type") if isinstance(item, dict) else None
            others.append(str(kind) if kind else "unknown")
    if others:
        kinds = ", ".join(sorted(set(others)))
        detail = f"the tool answered with {kinds} content, and skills receive only text"
        return ToolOutcome(error=runtime_error(detail))
    if is_error:
        return ToolOutcome(error="\n\n".join(texts))
    return ToolOutcome(contents=[{"type": "text", "text": text} for text in texts])


def descriptions_from_listing(url: str, result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A `tools/list` result as the kernel reads it: the first page only (it sends no cursor),
    and `name`, `description` and `inputSchema` required of every tool. Where one is missing
    the kernel drops the whole server's list (it logs the error and keeps no tools from it), so
    this says so instead of listing tools a deployed skill would never see."""
    tools = result.get("tools")
    if not isinstance(tools, list):
        raise ToolServerError(
            f"The MCP server at {url} answered tools/list without a list of tools: "
            "check that the URL points at an MCP server."
        )
    described = []
    for tool in tools:
        tool = tool if isinstance(tool, dict) else {}
        name = tool.get("name")
        for field, wanted in (("name", str), ("description", str), ("inputSchema", object)):
            if field not in tool or not isinstance(tool[field], wanted):
                which = f"tool {name!r}" if isinstance(name, str) else "tool"
                raise ToolServerError(
                    f"The MCP server at {url} lists a {which} without a {field}, and the "
                    f"Pharia Kernel then ignores all of its tools: give every tool a {field}."
                )
        described.append(
            {"name": name, "description": tool["description"], "input_schema": tool["inputSchema"]}
        )
    return described
