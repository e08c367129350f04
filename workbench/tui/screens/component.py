"""A component file (`workbench path/to/skill.wasm`) opened on its own: no sources, so the
editor's place holds a note saying what the file is; F5 runs it as it is, and building,
publishing and watching say in one sentence that they need the project instead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Static

from workbench import flows
from workbench.cancel import CancelToken
from workbench.config.user import UserConfig
from workbench.csi.backends import CsiBackends
from workbench.models.base import ModelProvider
from workbench.models.catalog import ProviderCatalog
from workbench.project.model import RunDefaults
from workbench.tui.screens.main import MainScreen
from workbench.tui.text import shown
from workbench.tui.widgets.output import OutputTabs
from workbench.tui.widgets.run_panel import RunPanel
from workbench.tui.widgets.skill_info import KINDS

#: Actions that only make sense with a project's sources, hidden from the footer here.
NEEDS_SOURCES = {"save", "toggle_watch", "focus_files", "external_editor"}


class ComponentScreen(MainScreen):
    """The main screen for a component file: run it, read its trace, see what it is."""

    def __init__(
        self,
        component: Path,
        catalog: ProviderCatalog,
        config: UserConfig,
    ) -> None:
        # Not MainScreen.__init__: there is no project.
        super(MainScreen, self).__init__()
        self.component_file = component
        self.init_screen(catalog, config)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield RunPanel(
                    input_text="",
                    model=None,
                    providers=self.catalog.names(),
                    provider=self.config.default_provider,
                    id="run-panel",
                )
            with Vertical(id="work"):
                yield Static(self._note("reading the component…"), id="component-note")
                yield OutputTabs(id="output-tabs")
        yield Footer()

    def show_contents(self) -> None:
        self.sub_title = shown(f"{self.component_file.name} · component file")
        self.run_panel.say("Ready: f5 runs it.")
        self.query_one("#run-input").focus()
        self.refresh_description()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that need sources are not offered (build and publish say why they are not)."""
        if action in NEEDS_SOURCES:
            return False
        return super().check_action(action, parameters)

    # What the screen is about ------------------------------------------------------------
    @property
    def root(self) -> Path:
        return self.component_file.parent

    @property
    def component(self) -> Path:
        return self.component_file

    @property
    def run_defaults(self) -> RunDefaults:
        return RunDefaults()

    def run_flow(
        self,
        request: flows.RunRequest,
        provider: ModelProvider,
        cancel: CancelToken,
        backends: CsiBackends,
    ) -> AsyncIterator[flows.PipelineEvent]:
        return flows.run_component(
            self.component_file, request, provider, cancel=cancel, backends=backends
        )

    def describe_target(self) -> Path:
        return self.component_file

    def unsaved_files(self) -> list[Path]:
        return []

    async def saved_or_declined(self) -> bool:
        return True

    def show_description(self, description: flows.SkillDescription | None) -> None:
        if description is None:
            said = "it cannot be read: the Skill tab (alt+s) says why"
        else:
            kind = KINDS.get(description.kind, description.kind)
            said = f"{description.world}, {kind}; loaded by {description.kernels}"
        self.query_one("#component-note", Static).update(self._note(said))

    def _note(self, world: str) -> str:
        return shown(
            f"{self.component_file.name} is a component file (read-only): there are no "
            f"sources to edit here.\n\nWorld: {world}.\n\nF5 runs it with the input on the "
            "left; its output and CSI calls appear below, and the Skill tab (alt+s) shows "
            "what it says about itself. Building and publishing need its project: open the "
            "project's folder for that."
        )

    # What needs a project ----------------------------------------------------------------
    def _needs_project(self, what: str) -> None:
        self.notify(
            f"{self.component_file.name} is a component file: it cannot be {what} from here; "
            "open its project's folder with the workbench to do that.",
            title="Component file",
            severity="warning",
            timeout=6,
        )

    def action_build(self) -> None:
        self._needs_project("built")

    def action_publish(self) -> None:
        self._needs_project("published")

    def action_toggle_watch(self) -> None:
        self._needs_project("watched for changes")

    def action_save(self) -> None:
        self._needs_project("edited or saved")

    def action_external_editor(self) -> None:
        self._needs_project("edited")

    def action_focus_files(self) -> None:
        self._needs_project("browsed as files")

    def _refresh_files(self) -> None:
        """There is no file list."""

    def _reload_project(self) -> None:
        """There is no project to reload."""

    def start_watching_disk(self) -> None:
        """There are no sources to watch."""

    def sources_changed(self) -> None:
        """There are no sources."""
