"""Noticing files changed on disk while they are open (a mixin of MainScreen).

A watchfiles worker watches the project folder (not the folders the project walk prunes).
A file open in the editor that changed on disk is reloaded with a notice when it has no
unsaved edits; when it has, the user chooses: keep mine, take theirs, or compare first.
Saving checks the disk too, so an edit made on disk between two looks is never overwritten
silently. The same watcher drives watch mode and refreshes the file list.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from watchfiles import Change, awatch

from workbench.fs import in_pruned_folder
from workbench.project.model import CONFIG_FILE
from workbench.tui.screens.dialogs import Choice, CompareTexts

if TYPE_CHECKING:
    from workbench.tui.screens.main import MainScreen

#: watchfiles groups changes for this long at most (ms), and ends a group after this quiet.
DEBOUNCE_MS = 300
STEP_MS = 50
_SOURCE_SUFFIXES = (".py", ".wit")


class DiskWatch:
    def init_disk_watch(self: MainScreen) -> None:
        self._disk_watch_stop = asyncio.Event()
        #: Files whose disk conflict is being asked about now: one question per file.
        self._questions: dict[Path, asyncio.Event] = {}

    def start_watching_disk(self: MainScreen) -> None:
        self.run_worker(
            self._watch_disk,
            group="disk-watch",
            exit_on_error=False,
            description="file watcher",
        )

    def stop_watching_disk(self: MainScreen) -> None:
        self._disk_watch_stop.set()

    async def _watch_disk(self: MainScreen) -> None:
        root = self.project.root
        async for changes in awatch(
            root,
            watch_filter=lambda _change, path: not in_pruned_folder(Path(path), root),
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=self._disk_watch_stop,
            ignore_permission_denied=True,
        ):
            await self.disk_changed(changes)

    async def disk_changed(self: MainScreen, changes: set[tuple[Change, str]]) -> None:
        paths = sorted({Path(path) for _, path in changes})
        if any(change != Change.modified for change, _ in changes):
            self._refresh_files()  # a file came or went: the one walk per batch of changes
        for path in paths:
            if path in self.editor.buffers:
                await self._follow_disk(path)
        if any(p.name == CONFIG_FILE or p.suffix == ".wit" for p in paths):
            self._reload_project()
        if any(p.suffix in _SOURCE_SUFFIXES for p in paths):
            self.sources_changed()

    async def _follow_disk(self: MainScreen, path: Path) -> None:
        theirs = self.editor.changed_on_disk(path)
        if theirs is None:
            return  # our own save, or nothing new
        if not self.editor.buffers[path].dirty:
            self.editor.take_disk_text(path, theirs)
            self.notify(
                f"{path.name} changed on disk; reloaded it (undo brings back what was here).",
                title="Reloaded",
                timeout=5,
            )
            return
        await self.settle_disk_conflict(path, theirs)

    async def settle_disk_conflict(self: MainScreen, path: Path, theirs: str) -> None:
        """Ask what to do with unsaved edits to a file that changed on disk. The watcher and
        a save may both find the same change: the second waits for the first's answer."""
        asked = self._questions.get(path)
        if asked is not None:
            await asked.wait()
            return
        self._questions[path] = asked = asyncio.Event()
        try:
            await self._ask_about_disk_change(path, theirs)
        finally:
            del self._questions[path]
            asked.set()

    async def _ask_about_disk_change(self: MainScreen, path: Path, theirs: str) -> None:
        while True:
            answer = await self.app.push_screen_wait(
                Choice(
                    f"{path.name} changed on disk, and you have unsaved edits in it.",
                    [("mine", "Keep mine"), ("theirs", "Take theirs"), ("compare", "Compare")],
                )
            )
            if answer != "compare":
                break
            await self.app.push_screen_wait(
                CompareTexts(("your edits", self.editor.buffers[path].text), ("on disk", theirs))
            )
        if answer == "theirs":
            self.editor.take_disk_text(path, theirs)
            self.notify(f"Took the version on disk of {path.name}.", timeout=4)
        else:
            # Keep mine: the disk's version is now known, so the next save overwrites it
            # on purpose; until then the edits stay unsaved.
            self.editor.buffers[path].saved_text = theirs
            self.notify(f"Kept your edits to {path.name}; save to write them.", timeout=4)
        self.show_dirty()

    async def save_all(self: MainScreen) -> bool:
        """Save every unsaved file, settling disk conflicts first; True if all were saved."""
        for path in self.editor.dirty_files():
            theirs = self.editor.changed_on_disk(path)
            if theirs is not None:
                await self.settle_disk_conflict(path, theirs)
        self.save_now()
        return not self.editor.dirty_files()
