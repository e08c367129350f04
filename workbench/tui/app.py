"""The Textual app: one factory builds it from explicit parts (config, secret store), and
the CLI and the tests both call it. It opens a skill project (a folder), or a component file
(`.wasm`) on its own: that one is run, not edited or built."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from workbench.config.user import UserConfig, load_config, save_setting
from workbench.credentials import SecretStore
from workbench.errors import ProjectError, WorkbenchError
from workbench.models.catalog import ProviderCatalog
from workbench.project.model import load_project
from workbench.project.scaffold import create_project
from workbench.tui.keys import effective_keys, keymap_conflicts, unknown_ids
from workbench.tui.screens.base import ReportsWorkerFailures
from workbench.tui.screens.component import ComponentScreen
from workbench.tui.screens.dialogs import Choice, NewProject
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.main import MainScreen

#: Keys that are not bindings of ours but that every user needs to know.
SHARED_KEYS = [
    ("ctrl+p", "Command palette: every command by name", ""),
    ("tab / shift+tab", "Move between panes: files, run panel, editor, output", ""),
    ("enter", "In Build: jump to the error; in History: the run in full", ""),
    ("left / right", "On the output's tab bar: the next or previous tab", ""),
    ("escape", "Close a dialog", ""),
]


class WorkbenchApp(ReportsWorkerFailures, App[None]):
    TITLE = "Skill Workbench"
    CSS_PATH = [Path(__file__).resolve().parent / "styles" / "app.tcss"]
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="List every key"),
        Binding(
            "ctrl+q",
            "quit_app",
            "Quit",
            id="quit",
            priority=True,
            tooltip="Quit (asks first if there are unsaved edits)",
        ),
    ]

    def __init__(
        self,
        folder: Path,
        config: UserConfig,
        secrets: SecretStore,
        component: Path | None = None,
    ) -> None:
        super().__init__()
        #: The project's folder (for a component file, the folder it is in).
        self.folder = folder
        #: The component file opened on its own, if that is what was opened.
        self.component = component
        self.config = config
        self.secrets = secrets

    def on_mount(self) -> None:
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        self.set_keymap(self.config.keymap)
        self._report_keymap_problems()
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self._open_project()

    def _default_keys(self) -> dict[str, str]:
        bindings = [*self.BINDINGS, *MainScreen.BINDINGS]
        return {b.id: b.key for b in bindings if isinstance(b, Binding) and b.id}

    def _report_keymap_problems(self) -> None:
        defaults = self._default_keys()
        problems = keymap_conflicts(defaults, self.config.keymap)
        unknown = unknown_ids(defaults, self.config.keymap)
        if unknown:
            problems.append(f"there is no binding with the id {', '.join(unknown)}")
        if problems:
            self.notify(
                f"Your keymap in {self.config.path} needs a look: {'; '.join(problems)}. "
                "Change one of them under [keymap] (F1 lists every id).",
                title="Keymap",
                severity="warning",
                timeout=15,
            )

    def _remember_theme(self, theme: object) -> None:
        name = getattr(theme, "name", None)
        if isinstance(name, str) and name != self.config.theme:
            try:
                save_setting(self.config, "theme", name)
            except OSError as error:
                self.notify(f"Could not save the theme ({error}).", severity="warning")

    @work(exclusive=True, group="open", exit_on_error=False, description="project opening")
    async def _open_project(self) -> None:
        if self.component is not None:
            await self._open_component(self.component)
            return
        try:
            project = load_project(self.folder)
        except ProjectError as error:
            if any(self.folder.glob("*.py")) or not self.folder.is_dir():
                self.exit(return_code=1, message=str(error))
                return
            problem = ""
            while True:  # until a project exists or the user gives up
                name = await self.push_screen_wait(NewProject(self.folder.name, problem))
                if name is None:
                    self.exit()
                    return
                try:
                    create_project(name, self.folder, into_existing=True)
                    project = load_project(self.folder)
                    break
                except WorkbenchError as create_error:
                    problem = str(create_error)
            self.notify(f"Created the skill {name} from the template.", timeout=4)
        catalog = ProviderCatalog(self.config.providers, self.secrets, project.root)
        await self.push_screen(MainScreen(project, catalog, self.config))

    async def _open_component(self, component: Path) -> None:
        if not component.is_file():
            self.exit(
                return_code=1,
                message=f"There is no component at {component}; give the path of a .wasm file.",
            )
            return
        catalog = ProviderCatalog(self.config.providers, self.secrets, component.parent)
        await self.push_screen(ComponentScreen(component, catalog, self.config))

    @property
    def main_screen(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            home = str(Path.home())
            shown = str(self.config.path)
            shown = "~" + shown[len(home) :] if shown.startswith(home) else shown
            self.push_screen(HelpScreen(self.key_rows(), shown))

    def key_rows(self) -> list[tuple[str, str, str]]:
        """(key, description, id) for every binding, as the keymap maps it now, then the
        keys every Textual app shares."""
        keys = effective_keys(self._default_keys(), self.config.keymap)
        rows = []
        for binding in [*self.BINDINGS, *MainScreen.BINDINGS]:
            assert isinstance(binding, Binding)
            shown = ", ".join(keys.get(binding.id or "", [binding.key]))
            rows.append((shown, binding.tooltip or binding.description, binding.id or ""))
        return rows + SHARED_KEYS

    async def action_quit(self) -> None:
        """Every way to quit (the key, the palette's Quit) asks about unsaved edits first."""
        self.action_quit_app()

    @work(exclusive=True, group="quit", exit_on_error=False, description="quit")
    async def action_quit_app(self) -> None:
        screen = self.main_screen
        dirty = screen.unsaved_files() if screen else []
        if dirty:
            names = ", ".join(p.name for p in dirty)
            answer = await self.push_screen_wait(
                Choice(
                    f"{names} {'has' if len(dirty) == 1 else 'have'} unsaved edits.",
                    [
                        ("save", "Save and quit"),
                        ("discard", "Quit without saving"),
                        ("cancel", "Keep editing"),
                    ],
                )
            )
            if answer == "cancel":
                return
            if answer == "save" and screen is not None and not await screen.save_all():
                return  # saving failed or was declined; the notification says why
        self.exit()

    def get_system_commands(self, screen: Screen) -> list[SystemCommand]:  # type: ignore[override]
        commands = list(super().get_system_commands(screen))
        main = self.main_screen
        if main is not None:
            for binding in MainScreen.BINDINGS:
                assert isinstance(binding, Binding)
                if binding.id in {"cancel"}:
                    continue
                commands.append(
                    SystemCommand(
                        binding.description,
                        binding.tooltip,
                        lambda action=binding.action: main.run_action(action),
                    )
                )
        commands.append(SystemCommand("Keys", "List every key (F1)", self.action_help))
        return commands


def make_app(
    path: Path | str = ".",
    *,
    config: UserConfig | None = None,
    secrets: SecretStore | None = None,
) -> WorkbenchApp:
    """The app on the skill project in the folder `path`, or on the component file `path`
    (a `.wasm`) alone."""
    path = Path(path).resolve()
    component = path if path.suffix == ".wasm" else None
    return WorkbenchApp(
        folder=path.parent if component is not None else path,
        config=config or load_config(),
        secrets=secrets or SecretStore(),
        component=component,
    )
