"""F12: publish the skill to an OCI registry (building first if the sources changed), with
a progress bar, the digest and the tags; and log in, with the token kept in the OS keyring."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from workbench.builder import BuildFailed, build
from workbench.cancel import CancelToken
from workbench.errors import WorkbenchError
from workbench.project import SkillProject
from workbench.publish import (
    REGISTRY_ENV,
    REPOSITORY_ENV,
    BlobSkipped,
    CompatibilityWarning,
    Published,
    PublishEvent,
    UploadProgress,
    default_target,
    login,
    publish,
    registry_credentials,
    remember_target,
)
from workbench.registry import RegistryCredentials, RegistryTarget, SkillRegistry
from workbench.runtime import SkillRuntime


class PublishScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Cancel / close", id="publish.close")]

    def __init__(self, project: SkillProject, runtime: SkillRuntime) -> None:
        super().__init__(classes="dialog")
        self.project = project
        self.runtime = runtime
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

    def _say(self, text: str, error: bool = False) -> None:
        status = self.query_one("#publish-status", Static)
        status.update(text)
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

    @work(exclusive=True, group="publish", exit_on_error=False)
    async def _publish(self) -> None:
        try:
            target = self._target()
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        self._say("Building if the sources changed…")
        async for event in build(self.project):
            if isinstance(event, BuildFailed):
                self._say(f"Not published: {event.error}", error=True)
                return
        bar = self.query_one("#upload", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self._cancel = token = CancelToken()
        notes: list[str] = []

        def on_event(event: PublishEvent) -> None:
            self.app.call_from_thread(self._show, event, notes)

        try:
            imports, exports = await asyncio.to_thread(
                self.runtime.component_interface, self.project.output
            )
            credentials = await asyncio.to_thread(registry_credentials, target.registry)
            result = await asyncio.to_thread(
                publish,
                self.project.output,
                imports,
                exports,
                target,
                credentials,
                on_event=on_event,
                cancel=token,
            )
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        finally:
            self._cancel = None
        remember_target(self.project, target)
        said = (
            "Nothing changed: the registry already holds exactly this component."
            if result.unchanged
            else "Published. A kernel that already loaded this tag may serve its cached copy "
            "until it checks the registry again."
        )
        self._say("\n".join([*notes, said, result.reference, result.digest]))
        self.app.notify(f"{result.reference}\n{result.digest}", title="Published", timeout=8)

    def _show(self, event: PublishEvent, notes: list[str]) -> None:
        bar = self.query_one("#upload", ProgressBar)
        if isinstance(event, UploadProgress):
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

    @work(exclusive=True, group="publish", exit_on_error=False)
    async def _login(self) -> None:
        user = self.query_one("#user", Input).value.strip()
        token_input = self.query_one("#token", Input)
        if not user or not token_input.value:
            self._say("Give a user and a token.", error=True)
            return
        try:
            target = self._target()
            await asyncio.to_thread(login, target, RegistryCredentials(user, token_input.value))
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        finally:
            token_input.value = ""
        self.query_one("#login-form").display = False
        self._say(f"Logged in to {target.registry} as {user}; the token is in the OS keyring.")

    @work(exclusive=True, group="publish", exit_on_error=False)
    async def _tags(self) -> None:
        try:
            target = self._target()
            credentials = await asyncio.to_thread(registry_credentials, target.registry)
            tags = await asyncio.to_thread(lambda: SkillRegistry(target, credentials).tags())
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        shown = ", ".join(tags) if tags else "none yet"
        self._say(f"Tags of {target.registry}/{target.path}: {shown}")
