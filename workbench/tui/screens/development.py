"""What the app does by itself around instant runs (a mixin of MainScreen):

- when a project opens it prepares the development runtime (setting `prepare-runtime`), so
  the first run after an edit is already instant;
- after an instant result it builds the component behind it (`build-behind-instant`), as
  publishing and `workbench build` will: what only the real build checks is said at once;
- in watch mode with `confirm-instant`, once that build is done it runs the same request on
  the component and says whether the output, messages, prints and CSI trace are the same
  (History keeps both runs; F4 compares them).

None of this is a task of the "task" group: F5 and F6 stay free, and escape cancels it when
nothing else runs. Two builds of one output never run at once (build/exclusive.py): F6 during
a build behind waits for it and finds the component up to date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from workbench import flows
from workbench.build.builder import BuildFailed, BuildLog, BuildStarted, BuildSucceeded
from workbench.cancel import CancelToken
from workbench.run.results import RunResult
from workbench.tui.state import RunRecord, confirmation_differences

if TYPE_CHECKING:
    from workbench.tui.screens.main import MainScreen

#: Worker groups of the work done behind the user's own tasks.
RUNTIME_GROUP = "dev-runtime"
BEHIND_GROUP = "build-behind"
CONFIRM_GROUP = "confirm"
BACKGROUND_GROUPS = (RUNTIME_GROUP, BEHIND_GROUP, CONFIRM_GROUP)


class DevelopmentActions:
    """Needs the MainScreen's project, config, output, run panel, history and watch mode."""

    def init_development(self: MainScreen) -> None:
        #: The latest instant result: the one a build behind confirms, if none came since.
        self.last_instant: RunRecord | None = None
        #: An instant result came while a build behind ran: build again once it ends.
        self.behind_again = False

    def background_work(self: MainScreen) -> list[str]:
        return [
            w.group
            for w in self.workers
            if w.node is self and w.is_running and w.group in BACKGROUND_GROUPS
        ]

    def start_background(self: MainScreen, work: Any, group: str, description: str) -> None:
        self.run_worker(
            work, group=group, exclusive=True, exit_on_error=False, description=description
        )

    def on_worker_state_changed(self: MainScreen, event: Worker.StateChanged) -> None:
        """Escape cancels background work: the footer says so only while there is some."""
        if event.worker.group in BACKGROUND_GROUPS:
            self.refresh_bindings()

    def cancel_background_work(self: MainScreen) -> None:
        for group in BACKGROUND_GROUPS:
            self.workers.cancel_group(self, group)
        self.run_panel.say("Cancelled the work in the background.")

    # The development runtime -----------------------------------------------------------
    def prepare_runtime(self: MainScreen) -> None:
        if self.config.prepare_runtime:
            self.start_background(self._prepare_runtime, RUNTIME_GROUP, "development runtime build")

    async def _prepare_runtime(self: MainScreen) -> None:
        async for event in flows.prepare_runtime(self.project):
            if isinstance(event, BuildSucceeded) and not event.cached:
                self.run_panel.say(f"Instant runs ready (built in {event.duration:.0f} s).")
            elif isinstance(event, BuildFailed):
                # F5 then builds the component instead, and says why the runtime did not build.
                self.run_panel.say("No instant runs: the development runtime did not build.")

    # The component, built behind an instant result -------------------------------------
    def build_behind(self: MainScreen, record: RunRecord) -> None:
        if not self.config.build_behind_instant:
            return
        self.last_instant = record
        if BEHIND_GROUP in self.background_work():
            self.behind_again = True
            return
        self.start_background(
            self._build_behind, BEHIND_GROUP, "component build behind the instant run"
        )

    async def _build_behind(self: MainScreen) -> None:
        while True:
            self.behind_again = False
            confirming = self.last_instant
            built = await self._build_component_behind()
            if not (built and self.behind_again):
                break
        if (
            built
            and confirming is not None
            and confirming is self.last_instant
            and self.config.confirm_instant
            and self.watching
        ):
            self.start_background(
                self._confirm(confirming), CONFIRM_GROUP, "component run confirming the instant run"
            )

    async def _build_component_behind(self: MainScreen) -> bool:
        """One build of the component as the sources are now; whether it is up to date."""
        async for event in flows.build(self.project):
            if isinstance(event, BuildStarted | BuildLog):
                if isinstance(event, BuildStarted):
                    self.run_panel.say("Building the component behind the instant result…")
                self.show_event(event)
            elif isinstance(event, BuildSucceeded):
                if not event.cached:
                    self.output.add_build_line(f"Built in {event.duration:.1f} s.")
                    self.run_panel.say(f"Component built behind it in {event.duration:.1f} s.")
                    self.refresh_description()
                return True
            elif isinstance(event, BuildFailed):
                self.output.show_diagnostics(list(event.diagnostics), self.root)
                self.output.add_build_line(str(event.error))
                self.run_panel.say("The component did not build: the Build tab says why.")
                self.notify(
                    f"The instant run worked, but the component does not build: {event.error}",
                    title="Component build failed",
                    severity="error",
                    timeout=10,
                )
        return False

    # Watch mode's confirmation ---------------------------------------------------------
    async def _confirm(self: MainScreen, instant: RunRecord) -> None:
        provider = await self.open_provider(
            instant.request.provider or self.run_panel.provider_name
        )
        backends = self.open_backends()
        if provider is None or backends is None:
            return
        self.run_panel.say(f"Confirming run #{instant.number} on the component…")
        token = CancelToken()
        result: RunResult | None = None
        try:
            async for event in flows.run(
                self.project,
                instant.request,
                provider,
                cancel=token,
                component=True,
                backends=backends,
            ):
                if isinstance(event, flows.RunFinished):
                    result = event.result
        finally:
            token.cancel()
            backends.close()
        if result is None:
            return
        differences = confirmation_differences(instant.result, result)
        same = not differences
        record = self.history.add(
            instant.request,
            result,
            note=f"same as #{instant.number}" if same else f"differs from #{instant.number}",
        )
        self.output.add_history(record)
        if same:
            self.run_panel.say(
                f"Run #{record.number} on the component confirms instant run #{instant.number}."
            )
            return
        said = (
            f"Run #{record.number} on the component differs from instant run "
            f"#{instant.number} in {', '.join(differences)}; F4 in History compares them."
        )
        self.run_panel.say(said)
        self.notify(said, title="Instant and component differ", severity="warning", timeout=10)
