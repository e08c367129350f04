"""What every screen (and the app) does with a worker that fails: a notification and a
status line, never a vanished task and never a closed app.

Textual posts `Worker.StateChanged` to the node that started the worker, and it does not
bubble, so each screen that starts workers handles its own; this mixin is that handler,
shared. Every worker is started with `exit_on_error=False`, so a failure reaches it.

The mixin also makes every notification plain text: a notification nearly always quotes
something that is not ours (an error, a file name, a model name), and Textual would parse it
as markup, so `[/]` in it would crash the app.
"""

from __future__ import annotations

from typing import Any

from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from workbench.errors import WorkbenchError
from workbench.tui.text import shown


def failure_sentence(worker: Worker[Any]) -> str:
    error = worker.error
    if isinstance(error, WorkbenchError):
        return str(error)  # an error a user can cause: its own sentence says what to do
    what = worker.description or worker.name or "task"
    return (
        f"The {what} failed unexpectedly ({type(error).__name__}: {error}); "
        "your edits are safe; please report this."
    )


class ReportsWorkerFailures:
    """Mix into the app and every screen that starts workers."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Textual's `notify`, but plain text unless a caller asks for markup."""
        super().notify(  # type: ignore[misc]
            shown(message) if not markup else message,
            title=shown(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def show_status(self, text: str, error: bool = False) -> None:
        """Where this screen says how its last task went; a screen with a status line
        overrides it."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        message = failure_sentence(event.worker)
        self.notify(message, title="Failed", severity="error", timeout=10)  # type: ignore[attr-defined]
        self.show_status(message, error=True)
