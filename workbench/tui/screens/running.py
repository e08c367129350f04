"""Building, running, history and watch mode on the main screen (a mixin of MainScreen).

Each task consumes one flow from `workbench.flows` and renders its events; cancelling the
worker closes the flow, which stops the build subprocess or the skill at once.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from workbench import flows
from workbench.build.builder import BuildFailed, BuildLog, BuildStarted, BuildSucceeded
from workbench.cancel import CancelToken
from workbench.tui.screens.dialogs import Choice, CompareRuns, RunDetails
from workbench.tui.widgets.output import OutputTabs

if TYPE_CHECKING:
    from workbench.tui.screens.main import MainScreen

TASK_GROUP = "task"


class RunActions:
    """Needs the MainScreen's project, editor, output, run panel, history and config."""

    def init_running(self: MainScreen) -> None:
        self.last_request: flows.RunRequest | None = None

    # Saving before work ------------------------------------------------------------------
    async def saved_or_declined(self: MainScreen) -> bool:
        """Save unsaved edits first (or ask, per config); False if the user cancelled."""
        dirty = self.editor.dirty_files()
        if not dirty:
            return True
        if self.config.save_before_build == "ask":
            names = ", ".join(p.name for p in dirty)
            answer = await self.app.push_screen_wait(
                Choice(
                    f"Save {names} before building?",
                    [("save", "Save"), ("skip", "Build saved files"), ("cancel", "Cancel")],
                )
            )
            if answer == "cancel":
                return False
            if answer == "skip":
                return True
        return await self.save_all()

    # Build and run -----------------------------------------------------------------------
    def action_build(self: MainScreen) -> None:
        self._start(run=False)

    def action_run(self: MainScreen) -> None:
        self._start(run=True)

    def current_request(self: MainScreen) -> flows.RunRequest:
        return flows.RunRequest(
            input=self.run_panel.input_text,
            model_override=self.run_panel.model,
            limits=flows.limits_for(self.project),
            provider=self.run_panel.provider_name,
        )

    @work(exclusive=True, group="prepare", exit_on_error=False, description="save before work")
    async def _start(self: MainScreen, run: bool) -> None:
        if not await self.saved_or_declined():
            return
        if run:
            self.last_request = self.current_request()
            self._run_task(self.last_request)
        else:
            self._build_task()

    def check_action(self: MainScreen, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return bool(self.is_mounted and self.run_panel.activity)
        return True

    def action_cancel(self: MainScreen) -> None:
        if self.run_panel.activity:
            running = self.run_panel.activity == "Running"
            self.workers.cancel_group(self, TASK_GROUP)
            self.run_panel.activity = ""
            self.run_panel.say("Cancelled.")
            if running:
                self.output.mark_stale("the last run was cancelled")
            self.notify("Cancelled.", timeout=2)

    @work(exclusive=True, group=TASK_GROUP, exit_on_error=False, description="build")
    async def _build_task(self: MainScreen) -> None:
        self.run_panel.activity = "Building"
        try:
            async for event in flows.build(self.project):
                self._show(event)
        finally:
            self.run_panel.activity = ""

    @work(exclusive=True, group=TASK_GROUP, exit_on_error=False, description="run")
    async def _run_task(self: MainScreen, request: flows.RunRequest) -> None:
        self.run_panel.activity = "Running"
        token = CancelToken()
        provider = await self.open_provider(request.provider or self.run_panel.provider_name)
        if provider is None:
            self.run_panel.activity = ""
            return
        try:
            async for event in flows.run(self.project, request, provider, cancel=token):
                if isinstance(event, BuildStarted):
                    self.run_panel.activity = "Building"
                elif isinstance(event, flows.RunStarted):
                    self.run_panel.activity = "Running"
                if isinstance(event, flows.RunFinished):
                    self._finish_run(request, event.result)
                else:
                    self._show(event)
        finally:
            # A cancelled worker leaves the flow unclosed until it is collected: stop the
            # skill now (a no-op if the run ended).
            token.cancel()
            self.run_panel.activity = ""

    def _show(self: MainScreen, event: Any) -> None:
        output = self.output
        if isinstance(event, BuildStarted):
            output.start_build(
                self._relative(shlex.join([Path(event.command[0]).name, *event.command[1:]]))
            )
        elif isinstance(event, BuildLog):
            output.add_build_line(self._relative(event.line))
        elif isinstance(event, BuildSucceeded):
            said = (
                "Up to date (inputs unchanged)."
                if event.cached
                else f"Built in {event.duration:.1f} s."
            )
            output.add_build_line(said)
            self.run_panel.say(said)
            output.remove_class("-build-failed")
        elif isinstance(event, BuildFailed):
            output.show_diagnostics(list(event.diagnostics), self.project.root)
            output.add_build_line(str(event.error))
            output.mark_stale("the last build failed")
            output.show("build")
            self.run_panel.say("Build failed.")
            self.notify(str(event.error), title="Build failed", severity="error", timeout=8)
            if event.diagnostics:
                self.query_one("#diagnostics").focus()
        elif isinstance(event, flows.RunStarted):
            output.start_run()
        elif isinstance(event, flows.SkillOutput):
            output.add_print(event.stream, event.text)
        elif isinstance(event, flows.CsiCallMade):
            output.add_call(event.call)

    def _relative(self: MainScreen, text: str) -> str:
        """The app is about one project: show its paths relative to its folder."""
        return text.replace(f"{self.project.root}/", "").replace(str(self.project.root), ".")

    def _finish_run(self: MainScreen, request: flows.RunRequest, result: Any) -> None:
        record = self.history.add(request, result)
        self.output.add_history(record)
        self.output.show_result(result)
        calls = len(result.csi_calls)
        self.run_panel.say(
            f"Run #{record.number} {'finished' if result.ok else 'failed'}: {calls} CSI "
            f"call{'' if calls == 1 else 's'}."
        )
        if not result.ok:
            self.notify(str(result.error), title="Run failed", severity="error", timeout=8)

    # History -----------------------------------------------------------------------------
    def on_output_tabs_history_chosen(self: MainScreen, event: OutputTabs.HistoryChosen) -> None:
        self.app.push_screen(RunDetails(event.record))

    def action_rerun(self: MainScreen) -> None:
        record = self.output.selected_history()
        if record is None:
            self.notify("No runs yet.", timeout=2)
            return
        self.run_panel.input_text = record.input
        self.run_panel.model = record.model
        self.action_run()

    def action_compare(self: MainScreen) -> None:
        chosen = self.output.selected_history()
        other = self.history.counterpart(chosen) if chosen else None
        if chosen is None or other is None:
            self.notify("Compare needs two runs in History.", timeout=3)
            return
        left, right = sorted((chosen, other), key=lambda r: r.number)
        self.app.push_screen(CompareRuns(left, right))

    # Watch mode --------------------------------------------------------------------------
    def action_toggle_watch(self: MainScreen) -> None:
        self.watching = not self.watching

    def watch_watching(self: MainScreen, watching: bool) -> None:
        self.set_class(watching, "-watching")
        if self.is_mounted:
            self.notify(
                "Watch mode on: saving rebuilds and re-runs." if watching else "Watch mode off.",
                timeout=3,
            )

    def sources_changed(self: MainScreen) -> None:
        """The disk watcher saw a source change: in watch mode, rebuild and re-run."""
        if not self.watching or self.run_panel.activity:
            return
        self.last_request = self.last_request or self.current_request()
        self._run_task(self.last_request)
