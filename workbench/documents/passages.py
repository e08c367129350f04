"""What the local index ranks: a document's passages (its paragraphs), each with where it
sits in the text, and the full-text query made from the free text a skill searches for."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A paragraph longer than this is cut (at a line break or a space where it can be), so one
#: result never carries a whole long document; the Document Index chunks by size too.
MAX_PASSAGE_CHARS = 2000
#: Words of a query past this many are dropped: a pasted page is not a useful query.
MAX_QUERY_WORDS = 64

_BLANK_LINES = re.compile(r"\n\s*\n")
_HEADING = re.compile(r"#{1,6}\s")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Passage:
    #: Character (code point) offset of the passage's first character in the document text,
    #: as the Document Index's text cursors count (`position` in kernel src/search/client.rs).
    start: int
    text: str

    @property
    def end(self) -> int:
        """The offset of its last character: the kernel's cursors are inclusive at both ends."""
        return self.start + len(self.text) - 1


def split_passages(text: str) -> list[Passage]:
    """The text's paragraphs (split on blank lines, trimmed, none empty); Markdown headings
    alone in their paragraphs go with the paragraph after them, so they are found with it."""
    paragraphs: list[Passage] = []
    start = 0
    for separator in [*_BLANK_LINES.finditer(text), None]:
        end = separator.start() if separator else len(text)
        paragraphs.extend(_trimmed(text, start, end))
        start = separator.end() if separator else len(text)
    merged: list[Passage] = []
    for paragraph in paragraphs:
        previous = merged[-1] if merged else None
        if previous and all(
            _HEADING.match(line) for line in previous.text.split("\n") if line.strip()
        ):
            merged[-1] = Passage(previous.start, text[previous.start : paragraph.end + 1])
        else:
            merged.append(paragraph)
    return [piece for passage in merged for piece in _cut(passage)]


def _trimmed(text: str, start: int, end: int) -> list[Passage]:
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return []
    return [Passage(start + len(chunk) - len(chunk.lstrip()), stripped)]


def _cut(passage: Passage) -> list[Passage]:
    pieces: list[Passage] = []
    text, offset = passage.text, passage.start
    while len(text) > MAX_PASSAGE_CHARS:
        window = text[:MAX_PASSAGE_CHARS]
        at = window.rfind("\n")
        if at < MAX_PASSAGE_CHARS // 2:
            at = window.rfind(" ")
        if at < MAX_PASSAGE_CHARS // 2:
            at = MAX_PASSAGE_CHARS
        pieces.extend(_shift(piece, offset) for piece in _trimmed(text, 0, at))
        rest = text[at:]
        offset += at + len(rest) - len(rest.lstrip())
        text = rest.lstrip()
    if text:
        pieces.append(Passage(offset, text))
    return pieces


def _shift(passage: Passage, by: int) -> Passage:
    return Passage(passage.start + by, passage.text)


def match_query(query: str) -> str | None:
    """An FTS5 MATCH expression finding any of the query's words, or None if it has none.

    Each word is quoted, so nothing in the query is read as FTS5 syntax (AND, NEAR, `*`,
    `:`, parentheses); `\\w+` never holds a double quote, the one character a quoted
    string would need escaped.
    """
    words = list(dict.fromkeys(_WORD.findall(query)))[:MAX_QUERY_WORDS]
    return " OR ".join(f'"{word}"' for word in words) or None
