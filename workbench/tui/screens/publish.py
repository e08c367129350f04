"""F12: publish the skill to an OCI registry, through the same flow as `workbench publish`
(unsaved edits saved or asked about, built when stale, pushed, read back, the target
remembered), with a progress bar, the digest and the tags; and log in, with the token kept
in the OS keyring."""

from __future__ import annotations

import os
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from workbench import flows
from workbench.build.builder import BuildFailed, BuildStarted
from workbench.cancel import CancelToken
from workbench.errors import WorkbenchError
from workbench.project.model import SkillProject
from workbench.publish.registry import RegistryCredentials, RegistryTarget
from workbench.publish.steps import (
    REGISTRY_ENV,
    REPOSITORY_ENV,
    BlobSkipped,
    CompatibilityWarning,
    Published,
    UploadProgress,
    default_target,
)
from workbench.tui.screens.base import ReportsWorkerFailures
from workbench.tui.text import shown


class PublishScreen(ReportsWorkerFailures, ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Cancel / close", id="publish.close")]
    AUTO_FOCUS = "#registry"

    def __init__(self, project: SkillProject, save_edits: flows.SaveEdits) -> None:
        super().__init__(classes="dialog")
        self.project = project
        self.save_edits = save_edits
        self._cancel: CancelToken | None = None

    def compose(self) -> ComposeResult:
        saved = self.project.publish
        with VerticalScroll(id="publish-body"):
            yield Label("Registry (host[:port])")
            yield Input(
                saved.registry or os.environ.get(REGISTRY_ENV, ""),
                id="registry",
                placeholder="registry.example.com",
            )
            yield Label("Repository")
            yield Input(
                saved.repository or os.environ.get(REPOSITORY_ENV, ""),
                id="repository",
                placeholder="engineering/skills",
            )
            yield Label("Name · tag")
            with Horizontal(classes="form-row"):
                yield Input(saved.name or self.project.module, id="skill-name")
                yield Input(saved.tag or "latest", id="tag")
            yield Label("CA file for the registry's TLS (optional)")
            yield Input(str(saved.ca_file or ""), id="ca-file")
            yield Checkbox(
                "Plain HTTP (an insecure, local registry)", saved.insecure, id="insecure"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Publish", id="publish", variant="primary")
                yield Button("Log in…", id="login")
                yield Button("Tags", id="tags")
                yield Button("Close", id="close")
            with Vertical(id="login-form"):
                yield Label(
                    "User · token (checked against the registry, then kept in the OS keyring)"
                )
                with Horizontal(classes="form-row"):
                    yield Input(id="user", placeholder="user")
                    yield Input(id="token", password=True, placeholder="token")
                yield Button("Check and save", id="save-login")
            yield ProgressBar(id="upload", show_eta=False)
            yield Static("", id="publish-status", markup=False)

    def on_mount(self) -> None:
        self.query_one("#login-form").display = False
        self.query_one("#upload", ProgressBar).display = False

    def _target(self) -> RegistryTarget:
        value = {
            name: self.query_one(f"#{name}", Input).value.strip()
            for name in ("registry", "repository", "skill-name", "tag", "ca-file")
        }
        return default_target(
            value["registry"],
            value["repository"],
            value["skill-name"] or self.project.module,
            value["tag"],
            insecure=self.query_one("#insecure", Checkbox).value,
            ca_file=Path(value["ca-file"]) if value["ca-file"] else None,
        )

    def show_status(self, text: str, error: bool = False) -> None:
        self._say(text, error)

    def _say(self, text: str, error: bool = False) -> None:
        status = self.query_one("#publish-status", Static)
        status.update(shown(text))
        status.set_class(error, "-error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id
        if button == "publish":
            self._publish()
        elif button == "login":
            form = self.query_one("#login-form")
            form.display = not form.display
            if form.display:
                self.query_one("#user", Input).focus()
        elif button == "save-login":
            self._login()
        elif button == "tags":
            self._tags()
        else:
            self.action_close()

    def action_close(self) -> None:
        if self._cancel is not None and not self._cancel.is_cancelled:
            self._cancel.cancel()
            self._say("Cancelling…")
            return
        self.dismiss(None)

    @work(exclusive=True, group="publish", exit_on_error=False, description="publish")
    async def _publish(self) -> None:
        try:
            target = self._target()
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        bar = self.query_one("#upload", ProgressBar)
        self._cancel = token = CancelToken()
        notes: list[str] = []
        published: Published | None = None
        try:
            async for event in flows.publish(
                self.project, target, save_edits=self.save_edits, cancel=token
            ):
                if isinstance(event, BuildStarted):
                    self._say("Building: the sources changed since the last build…")
                elif isinstance(event, BuildFailed):
                    self._say(f"Not published: {event.error}", error=True)
                    return
                elif isinstance(event, flows.PublishStopped):
                    self._say(event.reason)
                    return
                elif isinstance(event, flows.ComponentRead):
                    bar.display = True
                    bar.update(total=None, progress=0)
                elif isinstance(event, UploadProgress):
                    bar.update(total=event.total, progress=event.sent)
                    self._say(
                        f"Uploading the {event.what}: {event.sent / 1e6:.1f} of "
                        f"{event.total / 1e6:.1f} MB at {event.speed / 1e6:.1f} MB/s"
                    )
                elif isinstance(event, BlobSkipped):
                    notes.append(f"The registry already had the {event.what}; skipped.")
                elif isinstance(event, CompatibilityWarning):
                    notes.append(f"Warning: {event.message}")
                elif isinstance(event, Published):
                    bar.update(total=1, progress=1)
                    published = event
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        finally:
            self._cancel = None
        assert published is not None
        said = (
            "Nothing changed: the registry already holds exactly this component."
            if published.unchanged
            else "Published. A kernel that already loaded this tag may serve its cached copy "
            "until it checks the registry again."
        )
        self._say("\n".join([*notes, said, published.reference, published.digest]))
        self.app.notify(f"{published.reference}\n{published.digest}", title="Published", timeout=8)

    @work(exclusive=True, group="publish", exit_on_error=False, description="login")
    async def _login(self) -> None:
        user = self.query_one("#user", Input).value.strip()
        token_input = self.query_one("#token", Input)
        if not user or not token_input.value:
            self._say("Give a user and a token.", error=True)
            return
        try:
            target = self._target()
            async for event in flows.login(target, RegistryCredentials(user, token_input.value)):
                self.query_one("#login-form").display = False
                self._say(
                    f"Logged in to {event.registry} as {event.username}; the token is in the "
                    "OS keyring."
                )
        except WorkbenchError as error:
            self._say(str(error), error=True)
        finally:
            token_input.value = ""

    @work(exclusive=True, group="publish", exit_on_error=False, description="tag list")
    async def _tags(self) -> None:
        try:
            async for event in flows.tags(self._target()):
                if isinstance(event, flows.TagsListed):
                    shown = ", ".join(event.tags) if event.tags else "none yet"
                    self._say(f"Tags of {event.repository}: {shown}")
        except WorkbenchError as error:
            self._say(str(error), error=True)
