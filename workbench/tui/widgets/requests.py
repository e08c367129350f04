"""The Serve tab: where the skill is served (or the key that serves it), and every request
the local server answered, newest at the bottom.

The server's threads hand each request over as a message (`post_message` is thread-safe and
does not wait): a request is never held up by the screen, and a quitting app never leaves a
server thread waiting for it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowKey

from workbench.csi.readable import one_line
from workbench.serve.log import DEFAULT_LIMIT, LoggedRequest
from workbench.serve.otlp import OtelSpan
from workbench.tui.text import plain, shown

#: The routes that run a skill: their rows say how the run ended.
RUN_ROUTES = ("/run", "/message-stream")
#: The caller last: its address and token hash are long, how a run ended matters more.
COLUMNS = ("time", "method", "path", "status", "ms", "ended", "caller")


def ended(entry: LoggedRequest) -> str:
    """How a request's run ended (a request that ran no skill: only its error, if any)."""
    if entry.error:
        return entry.error
    if entry.skill is None or not entry.path.endswith(RUN_ROUTES):
        return ""
    calls = len(entry.csi_calls)
    return f"ok, {calls} CSI call{'' if calls == 1 else 's'}"


class RequestsView(Vertical):
    """The URL (or how to start serving) above a table of the requests answered."""

    DEFAULT_CSS = """
    RequestsView {
        height: 1fr;
    }
    RequestsView #serve-url {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    RequestsView.-serving #serve-url {
        color: $text;
        border-left: thick $success;
    }
    RequestsView #requests {
        height: 1fr;
    }
    """

    class Logged(Message):
        """A request the server answered, handed over from its thread."""

        def __init__(self, entry: LoggedRequest) -> None:
            super().__init__()
            self.entry = entry

    class Spanned(Message):
        """A span the SDK's DevCsi exported to the server (OTLP), from its thread."""

        def __init__(self, span: OtelSpan) -> None:
            super().__init__()
            self.span = span

    def __init__(self, *, limit: int = DEFAULT_LIMIT, id: str | None = None) -> None:
        super().__init__(id=id)
        self.limit = limit
        self.url: str | None = None
        self._rows: deque[RowKey] = deque()

    def compose(self) -> ComposeResult:
        yield Static("Not serving.", id="serve-url", markup=False)
        yield DataTable(id="requests", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#requests", DataTable)

    @property
    def heading(self) -> str:
        """What the top of the tab says now."""
        return str(self.query_one("#serve-url", Static).content)

    # Where it is served -------------------------------------------------------------------
    def show_serving(self, url: str, text: str) -> None:
        self.url = url
        self.add_class("-serving")
        self.query_one("#serve-url", Static).update(shown(text))

    def show_stopped(self, text: str) -> None:
        self.url = None
        self.remove_class("-serving")
        self.query_one("#serve-url", Static).update(shown(text))

    # The requests ---------------------------------------------------------------------------
    def listener(self) -> Callable[[LoggedRequest], None]:
        """What a `RequestLog` calls, on the server's thread, with each request."""

        def heard(entry: LoggedRequest) -> None:
            self.post_message(self.Logged(entry))

        return heard

    def span_listener(self) -> Callable[[Sequence[OtelSpan]], None]:
        """What a `SpanLog` calls, on the server's thread, with each batch of spans."""

        def heard(batch: Sequence[OtelSpan]) -> None:
            for span in batch:
                self.post_message(self.Spanned(span))

        return heard

    def on_requests_view_spanned(self, message: RequestsView.Spanned) -> None:
        """A DevCsi call, as its span tells it, among the requests (method "span")."""
        message.stop()
        span = message.span
        said = span.status_message or str(
            span.attributes.get("gen_ai.request.model") or span.attributes.get("input") or ""
        )
        self._add_row(
            span.start,
            "span",
            span.name,
            span.status,
            span.duration,
            said,
            span.service or span.scope,
        )

    def on_requests_view_logged(self, message: RequestsView.Logged) -> None:
        message.stop()
        self.add(message.entry)

    def add(self, entry: LoggedRequest) -> None:
        self._add_row(
            entry.at,
            entry.method,
            entry.path,
            str(entry.status),
            entry.duration,
            ended(entry),
            entry.caller,
        )

    def _add_row(
        self,
        at: float,
        method: str,
        path: str,
        status: str,
        duration: float,
        said: str,
        caller: str,
    ) -> None:
        table = self.table
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        key = table.add_row(
            time.strftime("%H:%M:%S", time.localtime(at)),
            plain(method),
            plain(one_line(path, 60)),
            plain(status),
            f"{duration * 1000:.0f}",
            plain(one_line(said, 80)),
            plain(caller),
        )
        self._rows.append(key)
        while len(self._rows) > self.limit:
            table.remove_row(self._rows.popleft())
        if following:
            table.move_cursor(row=table.row_count - 1, animate=False)
