"""The main screen: files, editor, run panel and output. Editing lives here; building,
running, history and the Skill tab in `RunActions`, the model provider in `ProviderActions`,
serving the skill over HTTP (the Serve tab) in `ServeActions`.
A component file on its own gets `ComponentScreen` (screens/component.py), a MainScreen
without sources.

Long work (build, run) runs in workers in the "task" group, one at a time; escape cancels it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea

from workbench import flows
from workbench.cancel import CancelToken
from workbench.config.user import UserConfig
from workbench.csi.backends import CsiBackends
from workbench.csi.record import write_trace
from workbench.errors import WorkbenchError
from workbench.models.base import ModelProvider
from workbench.models.catalog import ProviderCatalog
from workbench.project.model import RunDefaults, SkillProject, load_project
from workbench.tui.messages import OpenLocation
from workbench.tui.screens.base import ReportsWorkerFailures
from workbench.tui.screens.development import DevelopmentActions
from workbench.tui.screens.disk_watch import DiskWatch
from workbench.tui.screens.environment import EnvironmentActions
from workbench.tui.screens.provider_actions import ProviderActions
from workbench.tui.screens.running import RunActions
from workbench.tui.screens.serving import SERVE_BINDINGS, SERVE_TAB_LETTER, ServeActions
from workbench.tui.state import RunHistory
from workbench.tui.text import shown
from workbench.tui.widgets.editor import Editor
from workbench.tui.widgets.file_list import FileList
from workbench.tui.widgets.output import OutputTabs
from workbench.tui.widgets.run_panel import RunPanel

#: How long after the screen shows the development runtime starts building.
RUNTIME_DELAY_SECONDS = 0.5

#: (key with alt, tab id, label) for each tab of the output.
OUTPUT_TABS = (
    ("o", "output", "Output"),
    ("b", "build", "Build"),
    ("p", "prints", "Prints"),
    ("t", "trace", "CSI trace"),
    ("h", "history", "History"),
    ("s", "skill", "Skill"),
    (SERVE_TAB_LETTER, "serve", "Serve"),
)


class MainScreen(
    ReportsWorkerFailures,
    RunActions,
    DevelopmentActions,
    EnvironmentActions,
    ProviderActions,
    ServeActions,
    DiskWatch,
    Screen[None],
):
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
        *SERVE_BINDINGS,
        # Priority: a terminal sends the letter with alt, and the editor would type it.
        *(
            Binding(
                f"alt+{letter}",
                f"show_tab('{tab}')",
                label,
                id=f"tab-{tab}",
                show=False,
                priority=True,
                tooltip=f"Show the {label} tab of the output",
            )
            for letter, tab, label in OUTPUT_TABS
        ),
        Binding(
            "ctrl+l",
            "focus_output",
            "Focus output",
            id="focus-output",
            show=False,
            tooltip="Move the focus to the output (Tab and Shift+Tab move between panes)",
        ),
        Binding(
            "f10",
            "toggle_zoom",
            "Zoom",
            id="zoom-output",
            tooltip="Give the output the whole right side; again to bring the editor back",
        ),
    ]

    watching: reactive[bool] = reactive(False)

    def __init__(
        self,
        project: SkillProject,
        catalog: ProviderCatalog,
        config: UserConfig,
    ) -> None:
        super().__init__()
        self.project = project
        self.init_screen(catalog, config)

    def init_screen(self, catalog: ProviderCatalog, config: UserConfig) -> None:
        """What every main screen has, with a project or with a component file alone."""
        self.catalog = catalog
        self.config = config
        self.history = RunHistory()
        self.init_running()
        self.init_development()
        self.init_disk_watch()
        self.init_serving()

    # What the screen is about: a project (a component file alone overrides these) --------
    @property
    def root(self) -> Path:
        """The folder paths are shown relative to, and traces are written to."""
        return self.project.root

    @property
    def component(self) -> Path:
        return self.project.output

    @property
    def run_defaults(self) -> RunDefaults:
        return self.project.run

    def run_flow(
        self,
        request: flows.RunRequest,
        provider: ModelProvider,
        cancel: CancelToken,
        backends: CsiBackends,
    ) -> AsyncIterator[flows.PipelineEvent]:
        """Build if the sources changed, then run."""
        return flows.run(self.project, request, provider, cancel=cancel, backends=backends)

    def describe_target(self) -> SkillProject | Path:
        return self.project

    def unsaved_files(self) -> list[Path]:
        return self.editor.dirty_files()

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
        # Textual calls every class's on_mount: a subclass overrides this method instead.
        self.show_not_serving()
        self.show_contents()

    def show_contents(self) -> None:
        """Fill the screen once it is mounted: the project's files, its module, the watcher."""
        self.editor.text_area.cursor_blink = self.config.cursor_blink
        self.sub_title = shown(f"{self.project.root.name} · {self.project.qualified_world}")
        self._refresh_files()
        self.editor.open(self.project.module_path)
        self.editor.text_area.focus()
        self.start_watching_disk()
        self.refresh_description()
        # After the first frame: a build takes the cores the app needs to show itself.
        self.set_timer(RUNTIME_DELAY_SECONDS, self.prepare_runtime)

    def on_unmount(self) -> None:
        self.stop_serving()
        self.stop_watching_disk()
        self.catalog.close()

    @property
    def editor(self) -> Editor:
        return self.query_one(Editor)

    @property
    def output(self) -> OutputTabs:
        return self.query_one(OutputTabs)

    @property
    def run_panel(self) -> RunPanel:
        return self.query_one(RunPanel)

    def show_status(self, text: str, error: bool = False) -> None:
        self.run_panel.activity = ""
        self.run_panel.say(text)

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
    def show_dirty(self) -> None:
        """Update the unsaved-edits markers (cheap: typing must not walk the project)."""
        self.query_one(FileList).mark_dirty(set(self.editor.dirty_files()))

    def action_focus_files(self) -> None:
        self.query_one(FileList).focus()

    def action_save(self) -> None:
        self.run_worker(self.save_all, group="save", exclusive=True, exit_on_error=False)

    def save_now(self) -> None:
        """Write every unsaved file as it is in the editor (disk conflicts settled before)."""
        try:
            written = self.editor.save()
        except OSError as error:
            self.notify(
                f"Could not save: {error}. Your edits are still in the editor.", severity="error"
            )
            return
        self.show_dirty()
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

    # Output ------------------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        self.output.show(tab)
        self.output.focus_tab()

    def action_focus_output(self) -> None:
        self.output.focus_tab()

    def action_toggle_zoom(self) -> None:
        self.toggle_class("-zoom")
        if self.has_class("-zoom"):
            self.output.focus_tab()

    # Trace, publishing, providers ----------------------------------------------------------
    def action_export_trace(self) -> None:
        calls = self.output.calls
        if not calls:
            self.notify("There is no CSI trace yet: run the skill first.", timeout=3)
            return
        path = self.root / "traces" / f"run-{len(self.history)}.jsonl"
        try:
            write_trace(calls, path)
        except OSError as error:
            self.notify(f"Could not write the trace ({error}).", severity="error")
            return
        self.notify(
            f"Wrote {len(calls)} CSI call{'' if len(calls) == 1 else 's'} to "
            f"{path.relative_to(self.root)}.",
            timeout=4,
        )

    def action_publish(self) -> None:
        from workbench.tui.screens.publish import PublishScreen

        self.app.push_screen(
            PublishScreen(self.project, self.saved_or_declined),
            lambda _: self._reload_project(),
        )
