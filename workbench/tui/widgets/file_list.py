"""The project's files: sources, the WIT and workbench.toml. Selecting one opens it.

The list of files is read from disk only when it may have changed (at start and when the
disk watcher sees a file come or go); typing only updates the unsaved-edits markers.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from workbench.tui.text import plain


class FileList(OptionList):
    class FileChosen(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, root: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root = root
        self._paths: list[Path] = []
        self._dirty: set[Path] = set()

    def show_files(self, paths: list[Path], dirty: set[Path] = frozenset()) -> None:  # type: ignore[assignment]
        highlighted = self.highlighted
        self._paths = list(paths)
        self._dirty = set(dirty)
        self.clear_options()
        for index, path in enumerate(self._paths):
            self.add_option(Option(self._label(path), id=str(index)))
        if self._paths:
            self.highlighted = min(highlighted or 0, len(self._paths) - 1)

    def mark_dirty(self, dirty: set[Path]) -> None:
        """Update the ● markers only (no walk of the project)."""
        if dirty == self._dirty:
            return
        changed = dirty ^ self._dirty
        self._dirty = set(dirty)
        for index, path in enumerate(self._paths):
            if path in changed:
                self.replace_option_prompt_at_index(index, self._label(path))

    def _label(self, path: Path) -> Text:
        marker = " ●" if path in self._dirty else ""
        return plain(f"{path.relative_to(self.root)}{marker}")  # a file name is never markup

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.FileChosen(self._paths[int(event.option.id)]))
