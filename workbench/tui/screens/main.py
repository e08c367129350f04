"""The main screen: files, editor, run panel and output, and every action on them.

Long work (build, run) runs in workers in the "task" group, one at a time; escape cancels it.
Workers only report through the widgets' methods on the event loop; the core they call
knows nothing of widgets.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Select, TextArea
from textual.worker import Worker, WorkerState

from workbench.builder import BuildFailed, BuildLog, BuildStarted, BuildSucceeded, build
from workbench.cancel import CancelToken
from workbench.config import UserConfig
from workbench.csi import write_trace
from workbench.errors import WorkbenchError
from workbench.models.base import ModelProvider
from workbench.models.catalog import ProviderCatalog
from workbench.pipeline import (
    CsiCallMade,
    PipelineEvent,
    RunFinished,
    RunRequest,
    RunStarted,
    SkillOutput,
    limits_for,
    run_skill,
)
from workbench.project import SkillProject, load_project
from workbench.runtime import RunResult, SkillRuntime
from workbench.tui.messages import OpenLocation
from workbench.tui.screens.dialogs import Choice, CompareRuns
from workbench.tui.widgets.editor import Editor
from workbench.tui.widgets.file_list import FileList
from workbench.tui.widgets.output import OutputTabs, RunRecord
from workbench.tui.widgets.run_panel import RunPanel

TASK_GROUP = "task"
WATCH_INTERVAL = 0.5


class MainScreen(Screen[None]):
    # Keys avoid the editor's own (TextArea takes f6/f7 and ctrl+e) and tmux's ctrl+b.
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="save", tooltip="Save the edited files"),
        Binding("f5", "run", "Run", id="run", tooltip="Build if needed, then run the skill"),
        Binding("f6", "build", "Build", id="build", priority=True, tooltip="Build the component"),
        # A priority key, or the editor would take escape; idle, it passes through.
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="cancel",
            priority=True,
            tooltip="Cancel the build or run in progress",
        ),
        Binding(
            "f2",
            "toggle_watch",
            "Watch",
            id="watch",
            tooltip="Watch mode: rebuild and re-run with the last input on every save",
        ),
        Binding("ctrl+o", "focus_files", "Files", id="files", tooltip="Choose a file to edit"),
        Binding(
            "f12",
            "publish",
            "Publish",
            id="publish",
            show=False,
            tooltip="Publish the component to an OCI registry (log in, see tags)",
        ),
        Binding(
            "f9",
            "export_trace",
            "Export trace",
            id="export-trace",
            show=False,
            tooltip="Write the CSI trace on screen to the project as JSON lines",
        ),
        Binding(
            "ctrl+t",
            "test_provider",
            "Test provider",
            id="test-provider",
            show=False,
            tooltip="Test the chosen provider's connection and list its models",
        ),
        Binding(
            "f8",
            "providers",
            "Providers",
            id="providers",
            show=False,
            tooltip="Add or edit model providers and their API keys",
        ),
        Binding(
            "ctrl+g",
            "external_editor",
            "$EDITOR",
            id="external-editor",
            tooltip="Edit the current file in $EDITOR",
        ),
        Binding(
            "f3",
            "rerun",
            "Re-run",
            id="rerun",
            show=False,
            tooltip="Re-run the run selected in History (or the last one)",
        ),
        Binding(
            "f4",
            "compare",
            "Compare",
            id="compare",
            show=False,
            tooltip="Compare the selected run in History with the one before it",
        ),
    ]

    watching: reactive[bool] = reactive(False)

    def __init__(
        self,
        project: SkillProject,
        catalog: ProviderCatalog,
        runtime: SkillRuntime,
        config: UserConfig,
    ) -> None:
        super().__init__()
        self.project = project
        self.catalog = catalog
        self.runtime = runtime
        self.config = config
        self._last_request: RunRequest | None = None
        self._source_stamp = self._stamp()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield FileList(self.project.root, id="files")
                yield RunPanel(
                    input_text=self.project.run.input or "",
                    model=self.project.run.model,
                    providers=self.catalog.names(),
                    provider=self.config.default_provider,
                    id="run-panel",
                )
            with Vertical(id="work"):
                yield Editor(id="editor")
                yield OutputTabs(id="output-tabs")
        yield Footer()

    def on_mount(self) -> None:
        self.editor.text_area.cursor_blink = self.config.cursor_blink
        self.sub_title = f"{self.project.root.name} · {self.project.qualified_world}"
        self._refresh_files()
        self.editor.open(self.project.module_path)
        self.editor.text_area.focus()
        self.set_interval(WATCH_INTERVAL, self._check_sources)

    @property
    def editor(self) -> Editor:
        return self.query_one(Editor)

    @property
    def output(self) -> OutputTabs:
        return self.query_one(OutputTabs)

    @property
    def run_panel(self) -> RunPanel:
        return self.query_one(RunPanel)

    # Files and editing -------------------------------------------------------------------
    def _refresh_files(self) -> None:
        self.query_one(FileList).show_files(
            self.project.editable_files(), set(self.editor.dirty_files())
        )

    @on(FileList.FileChosen)
    def _open_chosen(self, event: FileList.FileChosen) -> None:
        self.editor.open(event.path)
        self.editor.text_area.focus()

    @on(OpenLocation)
    def _open_location(self, event: OpenLocation) -> None:
        self.editor.open(event.path, event.line, event.column)
        self.editor.text_area.focus()

    @on(OutputTabs.DiagnosticChosen)
    def _jump_to_diagnostic(self, event: OutputTabs.DiagnosticChosen) -> None:
        location = OpenLocation.of(event.diagnostic)
        if location is not None and location.path.exists():
            self.post_message(location)

    @on(TextArea.Changed)
    def _mark_dirty(self) -> None:
        self._refresh_files()

    def action_focus_files(self) -> None:
        self.query_one(FileList).focus()

    def action_save(self) -> None:
        try:
            written = self.editor.save()
        except OSError as error:
            self.notify(
                f"Could not save: {error}. Your edits are still in the editor.", severity="error"
            )
            return
        self._refresh_files()
        if written:
            self.notify(f"Saved {', '.join(p.name for p in written)}.", timeout=2)
            self._reload_project()

    def _reload_project(self) -> None:
        try:
            self.project = load_project(self.project.root)
        except WorkbenchError as error:
            self.notify(str(error), severity="error")

    def action_external_editor(self) -> None:
        path = self.editor.current
        if path is None:
            return
        if path in self.editor.dirty_files():
            self.editor.save([path])
        command = shlex.split(os.environ.get("EDITOR") or "vi")
        try:
            with self.app.suspend():
                subprocess.run([*command, str(path)], check=False)
        except OSError as error:
            self.notify(
                f"Could not start $EDITOR ({error}); set EDITOR to your editor.", severity="error"
            )
        self.editor.reload(path)
        self._refresh_files()

    # Saving before work ------------------------------------------------------------------
    async def _saved_or_declined(self) -> bool:
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
        self.action_save()
        return True

    # Build and run -----------------------------------------------------------------------
    def action_build(self) -> None:
        self._start(run=False)

    def action_run(self) -> None:
        self._start(run=True)

    @work(exclusive=True, group="prepare")
    async def _start(self, run: bool) -> None:
        if not await self._saved_or_declined():
            return
        if run:
            request = RunRequest(
                input=self.run_panel.input_text,
                model_override=self.run_panel.model,
                limits=limits_for(self.project),
            )
            self._last_request = request
            self._run_task(request)
        else:
            self._build_task()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return bool(self.is_mounted and self.run_panel.activity)
        return True

    def action_cancel(self) -> None:
        if self.run_panel.activity:
            self.workers.cancel_group(self, TASK_GROUP)
            self.run_panel.activity = ""
            self.run_panel.say("Cancelled.")
            self.notify("Cancelled.", timeout=2)

    # Providers ---------------------------------------------------------------------------
    async def _open_provider(self) -> ModelProvider | None:
        name = self.run_panel.provider_name
        try:
            resolved = await asyncio.to_thread(self.catalog.open, name)
        except WorkbenchError as error:
            self.notify(str(error), title="Provider", severity="error", timeout=8)
            return None
        for warning in resolved.warnings:
            self.notify(warning, title="Provider", severity="warning", timeout=8)
        return resolved.provider

    @on(Select.Changed, "#run-provider")
    def _provider_chosen(self) -> None:
        # Offer the new provider's models as completions; quietly, it may not be running.
        self.run_worker(
            partial(self._list_models, quiet=True),
            group="models-quiet",
            exclusive=True,
            exit_on_error=False,
            description="model list",
        )

    def action_test_provider(self) -> None:
        self.run_worker(
            partial(self._list_models, quiet=False),
            group="models-test",
            exclusive=True,
            exit_on_error=False,
            description="provider test",
        )

    async def _list_models(self, quiet: bool) -> None:
        name = self.run_panel.provider_name
        provider = await self._open_provider()
        if provider is None:
            return
        try:
            models = await asyncio.to_thread(provider.list_models)
        except WorkbenchError as error:
            if not quiet:
                self.notify(str(error), title=f"Testing {name}", severity="error", timeout=8)
            return
        self.run_panel.set_models(models)
        if not quiet:
            shown = ", ".join(models[:8]) + (" …" if len(models) > 8 else "")
            self.notify(
                f"{name} answers and serves {len(models)} model"
                f"{'' if len(models) == 1 else 's'}: {shown}",
                title="Provider OK",
                timeout=6,
            )

    def action_export_trace(self) -> None:
        calls = self.output.calls
        if not calls:
            self.notify("There is no CSI trace yet: run the skill first.", timeout=3)
            return
        folder = self.project.root / "traces"
        number = len(self.output.history)
        path = folder / f"run-{number}.jsonl"
        try:
            folder.mkdir(exist_ok=True)
            write_trace(calls, path)
        except OSError as error:
            self.notify(f"Could not write the trace ({error}).", severity="error")
            return
        self.notify(
            f"Wrote {len(calls)} CSI call{'' if len(calls) == 1 else 's'} to "
            f"{path.relative_to(self.project.root)}.",
            timeout=4,
        )

    def action_publish(self) -> None:
        from workbench.tui.screens.publish import PublishScreen

        self.app.push_screen(
            PublishScreen(self.project, self.runtime), lambda _: self._reload_project()
        )

    def action_providers(self) -> None:
        from workbench.tui.screens.providers import ProvidersScreen

        def changed(config: UserConfig | None) -> None:
            if config is not None:
                self.config = config
                self.catalog.update(config.providers)
                self.run_panel.set_providers(self.catalog.names())

        self.app.push_screen(ProvidersScreen(self.config, self.catalog), changed)

    @work(exclusive=True, group=TASK_GROUP, exit_on_error=False, description="build")
    async def _build_task(self) -> None:
        self.run_panel.activity = "Building"
        try:
            async for event in build(self.project):
                self._show(event)
        finally:
            self.run_panel.activity = ""

    @work(exclusive=True, group=TASK_GROUP, exit_on_error=False, description="run")
    async def _run_task(self, request: RunRequest) -> None:
        self.run_panel.activity = "Running"
        token = CancelToken()
        try:
            provider = await self._open_provider()
            if provider is None:
                return
            events = run_skill(self.project, request, provider, self.runtime, cancel=token)
            async for event in events:
                if isinstance(event, BuildStarted):
                    self.run_panel.activity = "Building"
                elif isinstance(event, RunStarted):
                    self.run_panel.activity = "Running"
                self._show(event)
        finally:
            token.cancel()  # no-op if the run ended; stops the skill if we were cancelled
            self.run_panel.activity = ""

    def _show(self, event: PipelineEvent) -> None:
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
        elif isinstance(event, RunStarted):
            output.start_run()
        elif isinstance(event, SkillOutput):
            output.add_print(event.stream, event.text)
        elif isinstance(event, CsiCallMade):
            output.add_call(event.call)
        elif isinstance(event, RunFinished):
            self._finish_run(event.result)

    def _relative(self, text: str) -> str:
        """The app is about one project: show its paths relative to its folder."""
        return text.replace(f"{self.project.root}/", "").replace(str(self.project.root), ".")

    def _finish_run(self, result: RunResult) -> None:
        request = self._last_request
        record = RunRecord(
            len(self.output.history) + 1,
            result.input,
            request.model_override if request else None,
            result,
        )
        self.output.add_history(record)
        self.output.show_result(result)
        calls = len(result.csi_calls)
        said = (
            f"Run #{record.number} {'finished' if result.ok else 'failed'}: {calls} CSI "
            f"call{'' if calls == 1 else 's'}."
        )
        self.run_panel.say(said)
        if not result.ok:
            assert result.error is not None
            self.notify(str(result.error), title="Run failed", severity="error", timeout=8)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A bug in a worker shows as an error; it never closes the app."""
        if event.state == WorkerState.ERROR:
            self.run_panel.activity = ""
            error = event.worker.error
            self.notify(
                f"The {event.worker.description or 'task'} failed unexpectedly "
                f"({type(error).__name__}: {error}).",
                severity="error",
                timeout=10,
            )

    # History -----------------------------------------------------------------------------
    @on(OutputTabs.HistoryChosen)
    def _rerun_chosen(self, event: OutputTabs.HistoryChosen) -> None:
        self._rerun(event.record)

    def action_rerun(self) -> None:
        record = self.output.selected_history()
        if record is None:
            self.notify("No runs yet.", timeout=2)
            return
        self._rerun(record)

    def _rerun(self, record: RunRecord) -> None:
        self.run_panel.input_text = record.input
        self.run_panel.model = record.model
        self.action_run()

    def action_compare(self) -> None:
        history = self.output.history
        if len(history) < 2:
            self.notify("Compare needs two runs in History.", timeout=3)
            return
        chosen = self.output.selected_history() or history[-1]
        index = history.index(chosen)
        other = history[index - 1] if index > 0 else history[1]
        left, right = sorted((chosen, other), key=lambda r: r.number)
        self.app.push_screen(CompareRuns(left, right))

    # Watch mode --------------------------------------------------------------------------
    def action_toggle_watch(self) -> None:
        self.watching = not self.watching

    def watch_watching(self, watching: bool) -> None:
        self.set_class(watching, "-watching")
        if self.is_mounted:
            self.notify(
                "Watch mode on: saving rebuilds and re-runs." if watching else "Watch mode off.",
                timeout=3,
            )
            self._source_stamp = self._stamp()

    def _stamp(self) -> tuple[tuple[str, int], ...]:
        stamps = []
        for path in self.project.source_files():
            try:
                stamps.append((str(path), path.stat().st_mtime_ns))
            except OSError:
                continue
        return tuple(stamps)

    def _check_sources(self) -> None:
        if not self.watching:
            return
        stamp = self._stamp()
        if stamp == self._source_stamp:
            return
        self._source_stamp = stamp
        if self.run_panel.activity:
            return
        request = self._last_request or RunRequest(
            input=self.run_panel.input_text,
            model_override=self.run_panel.model,
            limits=limits_for(self.project),
        )
        self._last_request = request
        self._run_task(request)
