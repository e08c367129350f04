"""The code editor: one TextArea, one buffer per open file, a dirty marker, atomic saves.

Each buffer remembers the text it last read from or wrote to disk, so a change made on disk
by someone else (another editor, `git checkout`, the publish dialog) is told apart from our
own saves, and a save never silently overwrites it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static, TextArea

from workbench.fs import atomic_write
from workbench.tui.text import shown

_LANGUAGES = {".py": "python", ".toml": "toml", ".json": "json", ".md": "markdown"}


@dataclass
class Buffer:
    path: Path
    text: str
    #: What the file held when we last read or wrote it.
    saved_text: str

    @property
    def dirty(self) -> bool:
        return self.text != self.saved_text


def read_disk(path: Path) -> str | None:
    """The file's text now, or None if it is gone or unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


class Editor(Vertical):
    """Edits project files; `buffers` keeps unsaved text of every file opened this session."""

    current: reactive[Path | None] = reactive(None)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffers: dict[Path, Buffer] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="editor-title", markup=False)
        yield TextArea.code_editor("", id="code", soft_wrap=False)

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#code", TextArea)

    def open(self, path: Path, line: int | None = None, column: int | None = None) -> None:
        """Show `path`; with a line, put the cursor there. The file already on screen is
        not reloaded, so its undo history and cursor stay as they are."""
        area = self.text_area
        if path != self.current:
            self._remember_current()
            buffer = self.buffers.get(path)
            if buffer is None:
                text = path.read_text(encoding="utf-8")
                buffer = self.buffers[path] = Buffer(path, text, text)
            area.language = _LANGUAGES.get(path.suffix)
            area.load_text(buffer.text)
            self.current = path
        if line is not None:
            area.cursor_location = (max(line - 1, 0), max((column or 1) - 1, 0))
            area.scroll_cursor_visible(center=True)
        self._show_title()

    def reload(self, path: Path) -> None:
        """Read `path` again from disk (after an external editor saved it)."""
        text = read_disk(path)
        if text is not None:
            self.take_disk_text(path, text)

    def take_disk_text(self, path: Path, text: str) -> None:
        """Make `text` (what the file now holds) the buffer's content and its saved state.
        On screen it is one edit, so undo brings the previous text back."""
        buffer = self.buffers.get(path)
        if buffer is None:
            return
        buffer.text = buffer.saved_text = text
        if path == self.current:
            area = self.text_area
            if area.text != text:
                cursor = area.cursor_location
                area.replace(text, (0, 0), area.document.end)
                last_row = area.document.line_count - 1
                row = min(cursor[0], last_row)
                area.cursor_location = (row, min(cursor[1], len(area.document[row])))
        self._show_title()

    def changed_on_disk(self, path: Path) -> str | None:
        """What the file holds now if that is not what we last read or wrote, else None."""
        buffer = self.buffers.get(path)
        if buffer is None:
            return None
        text = read_disk(path)
        if text is None or text == buffer.saved_text:
            return None
        return text

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._remember_current()
        self._show_title()

    def _remember_current(self) -> None:
        if self.current is not None and self.current in self.buffers:
            self.buffers[self.current].text = self.text_area.text

    def dirty_files(self) -> list[Path]:
        self._remember_current()
        return [path for path, buffer in self.buffers.items() if buffer.dirty]

    def save(self, paths: list[Path] | None = None) -> list[Path]:
        """Save the given files (default: every dirty one); returns those written."""
        self._remember_current()
        written = []
        for path in paths if paths is not None else self.dirty_files():
            buffer = self.buffers[path]
            atomic_write(path, buffer.text)
            buffer.saved_text = buffer.text
            written.append(path)
        self._show_title()
        return written

    def _show_title(self) -> None:
        if self.current is None:
            return
        buffer = self.buffers[self.current]
        marker = " ●" if buffer.dirty else ""
        self.query_one("#editor-title", Static).update(shown(f" {self.current.name}{marker}"))
        self.set_class(buffer.dirty, "-dirty")
