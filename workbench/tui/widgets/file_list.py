"""The project's files: sources, the WIT and workbench.toml. Selecting one opens it."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class FileList(OptionList):
    class FileChosen(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, root: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root = root
        self._paths: list[Path] = []

    def show_files(self, paths: list[Path], dirty: set[Path] = frozenset()) -> None:  # type: ignore[assignment]
        highlighted = self.highlighted
        self._paths = list(paths)
        self.clear_options()
        for index, path in enumerate(self._paths):
            marker = " ●" if path in dirty else ""
            self.add_option(Option(f"{path.relative_to(self.root)}{marker}", id=str(index)))
        if self._paths:
            self.highlighted = min(highlighted or 0, len(self._paths) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.FileChosen(self._paths[int(event.option.id)]))
