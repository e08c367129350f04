"""Server-sent events as model servers send them: `data:` lines, an empty line ending each
event. Only the data matters to the model APIs (OpenAI and Aleph Alpha name no events)."""

from __future__ import annotations


class SseDecoder:
    """Bytes in, as they arrive; each event's data out, as soon as its empty line is in."""

    def __init__(self) -> None:
        # The unfinished line in pieces, joined once it ends: a long line is copied once.
        self._partial: list[bytes] = []
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        if b"\n" not in chunk:
            self._partial.append(chunk)
            return []
        lines = (b"".join(self._partial) + chunk).split(b"\n")
        self._partial = [lines.pop()]
        return [event for line in lines if (event := self._line(line)) is not None]

    def finish(self) -> list[str]:
        """The event a server that closed without its final empty line left unfinished."""
        last = b"".join(self._partial)
        events = [event] if last and (event := self._line(last)) else []
        self._partial = []
        if self._data:
            events.append("\n".join(self._data))
            self._data = []
        return events

    def _line(self, raw: bytes) -> str | None:
        line = raw.rstrip(b"\r").decode("utf-8", errors="replace")
        if not line:
            event = "\n".join(self._data) if self._data else None
            self._data = []
            return event
        if line.startswith("data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)
        # `event:`, `id:`, `retry:` and `:` comments carry nothing a model reply needs.
        return None
