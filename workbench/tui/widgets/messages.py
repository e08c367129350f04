"""A message-stream skill's messages, growing as the skill writes them: each message's role,
its reasoning (set apart), its text, and the payload it ended with, as JSON.

Events arrive one by one, often thousands of tiny appends: they are queued and applied at
most every `FLUSH_SECONDS`, and only the tail of the message being written is re-rendered
(a finished paragraph is sealed into a widget of its own and never laid out again).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Static

from workbench.tools.kernel import readable_tool_event
from workbench.tui.text import shown

#: How often queued events are put on screen.
FLUSH_SECONDS = 0.05
#: The live tail of a message is sealed at its last line break once it is this long.
SEAL_CHARS = 2000


@dataclass
class _Message:
    box: Vertical
    role: Static
    reasoning: Static
    live: Static
    payload: Static
    reasoning_text: str = ""
    #: The text not yet sealed, in pieces (joined once per flush).
    tail: list[str] = field(default_factory=list)
    sealed: list[str] = field(default_factory=list)


def payload_text(payload: Any) -> str:
    return f"payload: {json.dumps(payload, ensure_ascii=False, indent=2)}"


class MessageView(Vertical):
    """The messages of one run; `add` queues an event, `show_events` shows a whole run."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._messages: list[_Message] = []
        #: What is on screen, in order: messages and the tool lines between them.
        self._items: list[_Message | Static] = []
        self._queued: list[dict[str, Any]] = []
        self._timer: Timer | None = None
        #: Events applied since the last clear (the run's result holds them all).
        self.applied = 0
        #: Every event applied, for the run's text.
        self._events: list[dict[str, Any]] = []

    def clear(self) -> None:
        self._queued = []
        self._messages = []
        self._items = []
        self._events = []
        self.applied = 0
        self.remove_children()
        self.display = False

    def add(self, event: dict[str, Any]) -> None:
        """Queue one event; it is on screen within FLUSH_SECONDS."""
        self._queued.append(event)
        if self._timer is None:
            self._timer = self.set_timer(FLUSH_SECONDS, self.flush)

    def show_events(self, events: Iterable[dict[str, Any]]) -> None:
        """Show a whole run's events (what the live view missed, if anything)."""
        events = list(events)
        self.flush()
        if events[: self.applied] == self._events and len(events) >= self.applied:
            self._apply(events[self.applied :])
        else:
            self.clear()
            self._apply(events)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        queued, self._queued = self._queued, []
        if queued:
            self._apply(queued)

    @property
    def text(self) -> str:
        """Everything on screen, as text (for tests and copying)."""
        parts = []
        for message in self._items:
            if isinstance(message, Static):
                parts.append(str(message.content))
                continue
            parts.append(f"[{message.role.content}]")
            if message.reasoning_text:
                parts.append(f"(reasoning) {message.reasoning_text}")
            parts.append("".join(message.sealed) + "".join(message.tail))
            if message.payload.display:
                parts.append(str(message.payload.content))
        return "\n".join(parts)

    def _apply(self, events: list[dict[str, Any]]) -> None:
        follow = self._at_bottom()
        changed: dict[int, _Message] = {}
        for event in events:
            kind = event.get("type")
            if kind == "tool":  # the kernel's `event: tool`, between messages
                line = Static(
                    shown(f"⚙ {readable_tool_event(event.get('event') or {})}"),
                    classes="message-tool",
                    markup=False,
                )
                self._items.append(line)
                self.mount(line)
                continue
            if kind == "begin" or not self._messages:
                self._begin(str(event.get("role") or "assistant") if kind == "begin" else "?")
            message = self._messages[-1]
            changed[id(message)] = message
            if kind == "append":
                message.tail.append(str(event.get("text", "")))
            elif kind == "reasoning":
                message.reasoning_text += str(event.get("text", ""))
            elif kind == "end" and event.get("payload") is not None:
                message.payload.update(shown(payload_text(event["payload"])))
                message.payload.display = True
        self._events.extend(events)
        self.applied += len(events)
        for message in changed.values():
            self._show_message(message)
        self.display = True
        if follow:
            self.call_after_refresh(self._scroll_parent_to_end)

    def _begin(self, role: str) -> None:
        role_label = Static(shown(role), classes="message-role", markup=False)
        reasoning = Static("", classes="message-reasoning", markup=False)
        live = Static("", classes="message-text", markup=False)
        payload = Static("", classes="message-payload", markup=False)
        reasoning.display = payload.display = False
        box = Vertical(role_label, reasoning, live, payload, classes="message")
        self._messages.append(_Message(box, role_label, reasoning, live, payload))
        self._items.append(self._messages[-1])
        self.mount(box)

    def _show_message(self, message: _Message) -> None:
        if message.reasoning_text:
            message.reasoning.update(shown(message.reasoning_text))
            message.reasoning.display = True
        tail = "".join(message.tail)
        # A message mounted in this same flush has no place to seal into yet: the next one.
        ready = message.live.parent is not None
        cut = tail.rfind("\n") if len(tail) >= SEAL_CHARS and ready else -1
        if cut > 0:  # seal the finished lines: they are never laid out again
            sealed, tail = tail[:cut], tail[cut + 1 :]
            message.sealed.append(sealed + "\n")
            message.box.mount(
                Static(shown(sealed), classes="message-text", markup=False),
                before=message.live,
            )
        message.tail = [tail] if tail else []
        message.live.update(shown(tail))
        message.live.display = bool(tail) or not message.sealed

    def _at_bottom(self) -> bool:
        parent = self.parent
        if parent is None or not hasattr(parent, "max_scroll_y"):
            return True
        return parent.scroll_y >= parent.max_scroll_y - 1  # type: ignore[attr-defined]

    def _scroll_parent_to_end(self) -> None:
        parent = self.parent
        if parent is not None and hasattr(parent, "scroll_end"):
            parent.scroll_end(animate=False)  # type: ignore[attr-defined]
