"""Every request the server answered, kept in memory for the app (and printed by the CLI).

A caller is named by its address and a short keyed hash of its bearer token, never by the
token: the same token reads the same within one server's life, and nothing a log shows can
be turned back into the token (the key is random and never leaves the process).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from workbench.csi.record import CsiCall

#: Requests kept; the oldest go first.
DEFAULT_LIMIT = 1000

Entry = TypeVar("Entry")
#: What a listener hears of one addition: the entry, or a batch of them.
Heard = TypeVar("Heard")


@dataclass(frozen=True)
class LoggedRequest:
    #: Seconds since the epoch when the request arrived.
    at: float
    method: str
    path: str
    #: "127.0.0.1:50312 token 3fa2c1d0", or "... no token".
    caller: str
    status: int
    #: Seconds from the request's arrival to its last byte sent (a stream: to its end).
    duration: float
    #: "namespace/name" for a skill's routes.
    skill: str | None = None
    #: The CSI calls the skill's run made, in order.
    csi_calls: tuple[CsiCall, ...] = ()
    #: What went wrong, in the kernel's words (the first line), for a run that failed.
    error: str | None = None

    @property
    def summary(self) -> str:
        """The request on one line, as the CLI prints it."""
        calls = len(self.csi_calls)
        said = f", {calls} CSI call{'s' if calls != 1 else ''}" if calls else ""
        failed = f" — {self.error}" if self.error else ""
        return (
            f"{self.method} {self.path} {self.status} {self.duration:.2f} s "
            f"({self.caller}{said}){failed}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "caller": self.caller,
            "status": self.status,
            "duration": self.duration,
            "skill": self.skill,
            "csi_calls": [call.to_dict() for call in self.csi_calls],
            "error": self.error,
        }


@dataclass
class RunNote:
    """What a skill route tells the log about its request, filled in while it runs."""

    skill: str | None = None
    csi_calls: list[CsiCall] = field(default_factory=list)
    error: str | None = None


class BoundedLog(Generic[Entry, Heard]):
    """A bounded list, oldest out first; thread-safe. Listeners hear what each `_keep` adds
    (on the server's thread: a listener must hand it over, not block)."""

    def __init__(self, limit: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._listeners: list[Callable[[Heard], None]] = []
        self._lock = threading.Lock()

    def _keep(self, entries: Iterable[Entry], heard: Heard) -> None:
        with self._lock:
            self._entries.extend(entries)
            listeners = list(self._listeners)
        for listener in listeners:
            with contextlib.suppress(Exception):  # a listener's bug must not fail a request
                listener(heard)

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def listen(self, listener: Callable[[Heard], None]) -> Callable[[], None]:
        """Call `listener` with everything added from now on; returns the way to stop."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return stop


class RequestLog(BoundedLog["LoggedRequest", "LoggedRequest"]):
    """Every answered request; listeners hear each one."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        super().__init__(limit)
        self._key = secrets.token_bytes(16)

    def caller(self, client: tuple[str, int] | None, token: str | None) -> str:
        where = f"{client[0]}:{client[1]}" if client else "unknown"
        if not token:
            return f"{where} no token"
        digest = hmac.new(self._key, token.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{where} token {digest[:8]}"

    def add(self, entry: LoggedRequest) -> None:
        self._keep((entry,), entry)
