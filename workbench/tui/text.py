"""Showing text that is not ours (the skill's, the model's, the user's files, the config,
an error) as itself: never parsed as markup, never passed to the terminal as a control
sequence, never left with a lone surrogate that cannot be encoded for the terminal."""

from __future__ import annotations

import re

from rich.text import Text

#: C0 controls but tab and newline, DEL, C1 controls, and lone surrogates. An ESC or a C1
#: control would reach the terminal verbatim (Rich and Textual pass them through) and clear
#: the screen or retitle the window; a surrogate cannot be encoded as UTF-8 on output.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def shown(value: object) -> str:
    """`value` as a string safe to put on screen: what cannot be shown becomes �."""
    text = str(value)
    if "\r" in text:
        text = text.replace("\r\n", "\n")  # Windows line ends are line ends, not controls
    return _UNSHOWABLE.sub(REPLACEMENT, text)


def shown_lines(text: str) -> str:
    """`text` made safe line by line: a carriage return ending a line is shown as �, not
    taken for half of a Windows line end with the line break after it."""
    return "\n".join(shown(line) for line in text.split("\n"))


class PlainText(Text):
    """A `Text` equal to the string it shows, so a table cell read back (`get_row_at`)
    still compares equal to the string that was put in."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.plain == other
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like Text


def plain(value: object) -> PlainText:
    """`value` as a Rich `Text`: where a widget would read a `str` as markup (DataTable
    cells, OptionList and Select prompts), this makes it show the characters as they are."""
    return PlainText(shown(value))
