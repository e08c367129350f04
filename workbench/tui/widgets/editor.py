"""The code editor: one TextArea, one buffer per open file, a dirty marker, atomic saves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static, TextArea

from workbench.fs import atomic_write

_LANGUAGES = {".py": "python", ".toml": "toml", ".json": "json", ".md": "markdown"}


@dataclass
class Buffer:
    path: Path
    text: str
    saved_text: str

    @property
    def dirty(self) -> bool:
        return self.text != self.saved_text


class Editor(Vertical):
    """Edits project files; `buffers` keeps unsaved text of every file opened this session."""

    current: reactive[Path | None] = reactive(None)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffers: dict[Path, Buffer] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="editor-title")
        yield TextArea.code_editor("", id="code", soft_wrap=False)

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#code", TextArea)

    def open(self, path: Path, line: int | None = None, column: int | None = None) -> None:
        self._remember_current()
        buffer = self.buffers.get(path)
        if buffer is None:
            text = path.read_text(encoding="utf-8")
            buffer = self.buffers[path] = Buffer(path, text, text)
        area = self.text_area
        area.language = _LANGUAGES.get(path.suffix)
        area.load_text(buffer.text)
        self.current = path
        if line is not None:
            area.cursor_location = (max(line - 1, 0), max((column or 1) - 1, 0))
            area.scroll_cursor_visible(center=True)
        self._show_title()

    def reload(self, path: Path) -> None:
        """Read `path` again from disk (after an external editor saved it)."""
        text = path.read_text(encoding="utf-8")
        self.buffers[path] = Buffer(path, text, text)
        if path == self.current:
            self.text_area.load_text(text)
        self._show_title()

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
        self.query_one("#editor-title", Static).update(f" {self.current.name}{marker}")
        self.set_class(buffer.dirty, "-dirty")
