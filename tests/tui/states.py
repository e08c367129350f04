"""The app's main states, reached by keys. Snapshot tests compare them; the screenshot script
(scripts/screenshots.py) saves them as SVGs for the README."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from tests.tui.conftest import settle

State = Callable[[Pilot], Awaitable[None]]


async def editing(pilot: Pilot) -> None:
    await settle(pilot)
    area = pilot.app.screen.editor.text_area  # type: ignore[attr-defined]
    area.move_cursor((6, 29))
    await pilot.press("delete", "delete", "delete", "delete", "delete", *"poem")


async def build_failed(pilot: Pilot) -> None:
    await settle(pilot)
    area = pilot.app.screen.editor.text_area  # type: ignore[attr-defined]
    area.move_cursor((4, 25))
    await pilot.press("backspace", "f6")
    await settle(pilot)


async def run_with_trace(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    output = pilot.app.screen.output  # type: ignore[attr-defined]
    # How long a call took differs from run to run: show one figure, so the look is stable.
    calls = output.trace.calls
    output.trace.clear()
    for call in calls:
        output.trace.add(replace(call, duration=0.005))
    output.show("trace")
    await pilot.pause()


async def message_stream(pilot: Pilot) -> None:
    """The raw 0.4 streamer's messages: its reasoning, the chat it streamed, its payload."""
    await settle(pilot)
    pilot.app.screen.run_panel.input_text = '{"text": "Homer"}'  # type: ignore[attr-defined]
    await pilot.press("f5")
    await settle(pilot)
    await pilot.pause(0.1)  # the last queued events are put on screen


async def skill_tab(pilot: Pilot) -> None:
    """The raw 0.4 skill as the kernel sees it: world, kernels, description, schemas."""
    await settle(pilot)
    await pilot.press("alt+s")
    await pilot.pause()


async def help_screen(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("f1")
    await pilot.pause()


async def documents_and_tools(pilot: Pilot) -> None:
    """F8, then its Documents & tools form: the local index's note, the MCP servers."""
    await settle(pilot)
    await pilot.press("f8")
    await pilot.pause()
    await pilot.click("#backends")
    await pilot.pause()


async def empty_project(pilot: Pilot) -> None:
    await pilot.pause()


#: name -> (the folder to open: "haiku", "stream" (tests/data/skills/raw_v0_4_stream),
#: "skill" (raw_v0_4) or "empty", how to get there)
STATES: dict[str, tuple[str, State]] = {
    "empty-project": ("empty", empty_project),
    "editing": ("haiku", editing),
    "build-failed": ("haiku", build_failed),
    "run-with-trace": ("haiku", run_with_trace),
    "message-stream": ("stream", message_stream),
    "skill-tab": ("skill", skill_tab),
    "documents-and-tools": ("haiku", documents_and_tools),
    "help": ("haiku", help_screen),
}


def empty_folder(parent: Path) -> Path:
    folder = parent / "my-skill"
    folder.mkdir()
    return folder
