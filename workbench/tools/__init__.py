"""The CSI's tools, served from MCP servers as the Pharia Kernel serves them: `ToolBox` lists
and calls them, `kernel` holds what a skill and a message stream see of them.

Importing this package is cheap: the MCP SDK is imported with a ToolBox's first call."""

from __future__ import annotations

from workbench.tools.kernel import (
    TOOL_EVENT,
    ToolEventKind,
    ToolOutcome,
    end_event,
    runtime_error,
    tool_event,
    tool_not_found,
)
from workbench.tools.mcp_client import KERNEL_REFRESH_SECONDS, ToolBox

__all__ = [
    "KERNEL_REFRESH_SECONDS",
    "TOOL_EVENT",
    "ToolBox",
    "ToolEventKind",
    "ToolOutcome",
    "end_event",
    "runtime_error",
    "tool_event",
    "tool_not_found",
]
