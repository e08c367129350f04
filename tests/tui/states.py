"""The app's main states, reached by keys. Snapshot tests compare them; the screenshot script
(scripts/screenshots.py) saves them as SVGs for the README."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
    pilot.app.screen.output.show("trace")  # type: ignore[attr-defined]
    await pilot.pause()


async def help_screen(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("f1")
    await pilot.pause()


async def empty_project(pilot: Pilot) -> None:
    await pilot.pause()


#: name -> (the folder to open: "haiku" or "empty", how to get there)
STATES: dict[str, tuple[str, State]] = {
    "empty-project": ("empty", empty_project),
    "editing": ("haiku", editing),
    "build-failed": ("haiku", build_failed),
    "run-with-trace": ("haiku", run_with_trace),
    "help": ("haiku", help_screen),
}


def empty_folder(parent: Path) -> Path:
    folder = parent / "my-skill"
    folder.mkdir()
    return folder
