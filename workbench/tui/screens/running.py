"""Building, running, history, watch mode and the Skill tab on the main screen (a mixin of
MainScreen).

Each task consumes one flow from `workbench.flows` and renders its events; cancelling the
worker closes the flow, which stops the build subprocess or the skill at once. What the
component is (`flows.describe`) is read in a worker of its own when the screen opens and
after each build that made a new component.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from workbench import flows
from workbench.build.builder import BuildFailed, BuildLog, BuildStarted, BuildSucceeded
from workbench.cancel import CancelToken
from workbench.errors import InputRejected, NoEnvironment, WorkbenchError
from workbench.run.skill_io import check_input
from workbench.tui.screens.dialogs import Choice, CompareRuns, RunDetails
from workbench.tui.widgets.output import OutputTabs

if TYPE_CHECKING:
    from workbench.csi.backends import CsiBackends
    from workbench.tui.screens.main import MainScreen

TASK_GROUP = "task"


class RunActions:
    """Needs the MainScreen's project, editor, output, run panel, history and config."""

    def init_running(self: MainScreen) -> None:
        self.last_request: flows.RunRequest | None = None
        #: Whether the Skill tab has described the component since it was last built.
        self.described = False
        #: Whether the task in progress runs the skill after building it (or only builds).
        self.task_runs = False

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
            limits=flows.limits_for(self.run_defaults),
            provider=self.run_panel.provider_name,
        )

    @work(exclusive=True, group="prepare", exit_on_error=False, description="save before work")
    async def _start(self: MainScreen, run: bool) -> None:
        if not await self.saved_or_declined():
            return
        if run:
            request = self.current_request()
            refusal = self._json_refusal(request.input)
            if refusal is not None:
                self._refuse(refusal)
                return
            self.last_request = request
            self._run_task(request)
        else:
            self._build_task()

    def _json_refusal(self: MainScreen, text: str) -> InputRejected | None:
        """Text for a skill that takes JSON is refused at once, before any build or run
        (the flow checks the input against the skill's schema after the build)."""
        described = self.output.skill_panel.description
        if described is None or described.kind == "seed":
            return None
        try:
            check_input(text, {})  # the empty schema: any JSON
        except InputRejected as error:
            return error
        return None

    def _refuse(self: MainScreen, error: InputRejected) -> None:
        """The skill never saw this input: say why; there is no run to keep in History."""
        self.output.show_refusal(str(error))
        self.run_panel.refuse_input(str(error))
        self.run_panel.say("Input refused: the Output tab says why.")
        self.notify(str(error), title="Input refused", severity="error", timeout=8)

    def check_action(self: MainScreen, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return bool(self.is_mounted and (self.run_panel.activity or self.background_work()))
        return True

    def action_cancel(self: MainScreen) -> None:
        if not self.run_panel.activity and self.background_work():
            self.cancel_background_work()
        elif self.run_panel.activity:
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
        self.task_runs = False
        try:
            async for event in flows.build(self.project):
                self.show_event(event)
        finally:
            self.run_panel.activity = ""

    @work(exclusive=True, group=TASK_GROUP, exit_on_error=False, description="run")
    async def _run_task(self: MainScreen, request: flows.RunRequest) -> None:
        self.run_panel.activity = "Running"
        self.task_runs = True
        token = CancelToken()
        provider = await self.open_provider(request.provider or self.run_panel.provider_name)
        backends = self.open_backends()
        if provider is None or backends is None:
            self.run_panel.activity = ""
            return
        try:
            async for event in self.run_flow(request, provider, token, backends):
                if isinstance(event, BuildStarted):
                    self.run_panel.activity = "Building"
                elif isinstance(event, flows.RunStarted):
                    self.run_panel.activity = "Running"
                if isinstance(event, flows.RunFinished):
                    self._finish_run(request, event.result)
                else:
                    self.show_event(event)
        finally:
            # A cancelled worker leaves the flow unclosed until it is collected: stop the
            # skill now (a no-op if the run ended).
            token.cancel()
            backends.close()
            self.run_panel.activity = ""

    def open_backends(self: MainScreen) -> CsiBackends | None:
        """The document index and tools from the config, for one run (None: it said why)."""
        try:
            return flows.open_backends(self.config, self.root)
        except WorkbenchError as error:
            self.notify(str(error), title="Documents and tools", severity="error", timeout=8)
            return None

    def show_event(self: MainScreen, event: Any) -> None:
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
            if not event.cached or not self.described:
                self.refresh_description()
        elif isinstance(event, BuildFailed):
            output.show_diagnostics(list(event.diagnostics), self.root)
            output.add_build_line(str(event.error))
            output.mark_stale("the last build failed")
            output.show("build")
            self.run_panel.say("Build failed.")
            if isinstance(event.error, NoEnvironment):
                self.offer_environment(then_run=self.task_runs)
                return
            self.notify(str(event.error), title="Build failed", severity="error", timeout=8)
            if event.diagnostics:
                self.query_one("#diagnostics").focus()
        elif isinstance(event, flows.RunStarted):
            output.start_run()
        elif isinstance(event, flows.SkillOutput):
            output.add_print(event.stream, event.text)
        elif isinstance(event, flows.CsiCallMade):
            output.add_call(event.call)
        elif isinstance(event, flows.MessageWritten):
            output.add_message(event.event)

    def _relative(self: MainScreen, text: str) -> str:
        """The app is about one project: show its paths relative to its folder."""
        return text.replace(f"{self.root}/", "").replace(str(self.root), ".")

    def _finish_run(self: MainScreen, request: flows.RunRequest, result: Any) -> None:
        if isinstance(result.error, InputRejected):
            self._refuse(result.error)
            return
        record = self.history.add(
            request, result, note="instant" if result.path == "instant" else ""
        )
        self.output.add_history(record)
        self.output.show_result(result)
        calls = len(result.csi_calls)
        how = " (instant)" if result.path == "instant" else ""
        self.run_panel.say(
            f"Run #{record.number} {'finished' if result.ok else 'failed'}{how}: {calls} CSI "
            f"call{'' if calls == 1 else 's'}."
        )
        if not result.ok:
            self.notify(str(result.error), title="Run failed", severity="error", timeout=8)
        if result.path == "instant":
            self.build_behind(record)

    # The Skill tab ------------------------------------------------------------------------
    def refresh_description(self: MainScreen) -> None:
        self.run_worker(
            self._describe,
            group="describe",
            exclusive=True,
            exit_on_error=False,
            description="skill description",
        )

    async def _describe(self: MainScreen) -> None:
        panel = self.output.skill_panel
        component = self.component
        if not component.is_file():
            panel.show_problem(
                f"{self._relative(str(component))} is not built yet: F6 builds it, then this "
                "tab shows its world, description and schemas."
            )
            self.show_description(None)
            return
        panel.show_reading(component)
        try:
            description = await flows.describe(self.describe_target())
        except WorkbenchError as error:
            panel.show_problem(f"This component cannot be described: {error}")
            self.show_description(None)
            return
        self.described = True
        panel.show_description(description, self.root)
        self.run_panel.expect_json(description.kind != "seed")
        self.show_description(description)

    def show_description(self: MainScreen, description: flows.SkillDescription | None) -> None:
        """What the screen does with a new description besides the Skill tab (a component
        screen says it in its note)."""

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
