"""Serving the open skill over the Pharia Kernel's HTTP API from the app (a mixin of
MainScreen): the serve key starts what `workbench serve` starts, in the background, and
stops it when pressed again and when the screen closes (the app quits).

It is the CLI's setup: the project (or the component file) as the namespace `local`, named
by its folder (or file stem), with the provider chosen in the run panel (opened afresh: the
server closes it when it stops) and the config's documents and tools. It listens on this
machine only, on the kernel's port (8081), or on a free port when that one is taken, and
says which. Starting and stopping run off the UI thread; the Serve tab shows the URL and
each request as it is answered.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding

from workbench import flows
from workbench.errors import UsageError, WorkbenchError
from workbench.models.providers import open_provider
from workbench.project.model import SkillProject
from workbench.serve.kernel import DEFAULT_HOST, DEFAULT_NAMESPACE, DEFAULT_PORT
from workbench.serve.log import LoggedRequest, RequestLog
from workbench.serve.otlp import OtelSpan, SpanLog
from workbench.tui.keys import effective_keys

if TYPE_CHECKING:
    from workbench.config.user import UserConfig
    from workbench.models.catalog import ProviderCatalog
    from workbench.serve.runs import SkillServer
    from workbench.serve.server import BackgroundServer
    from workbench.tui.screens.main import MainScreen

SERVE_GROUP = "serve"
#: Free in the editor (TextArea takes ctrl+k, ctrl+e, f6, f7), in tmux and in terminals
#: (which may take f11 for full screen).
SERVE_KEY = "ctrl+n"
#: The letter that shows the Serve tab with alt.
SERVE_TAB_LETTER = "v"

SERVE_BINDINGS = [
    Binding(
        SERVE_KEY,
        "toggle_serve",
        "Serve",
        id="serve",
        show=False,
        tooltip="Serve the skill over the Pharia Kernel's HTTP API; again to stop",
    ),
]


@dataclass
class Serving:
    """A server answering for the open skill, and what it takes to stop it."""

    url: str
    #: "namespace/name" of each skill served.
    skills: list[str]
    provider: str
    #: Why the port is not the one asked for ("" when it is).
    note: str
    warnings: list[str]
    _server: BackgroundServer = field(repr=False)
    _skills: SkillServer = field(repr=False)
    _unlisten: Callable[[], None] = field(repr=False)

    def stop(self) -> None:
        """Stop answering (requests in flight get a few seconds), then close the provider
        and the backends. Blocking: call it off the UI thread."""
        self._unlisten()
        try:
            self._server.stop()
        finally:
            self._skills.close()


def start_serving(
    path: Path,
    catalog: ProviderCatalog,
    provider: str,
    config: UserConfig,
    port: int,
    listener: Callable[[LoggedRequest], None],
    span_listener: Callable[[Sequence[OtelSpan]], None] | None = None,
) -> Serving:
    """Serve the project or component at `path` on `port` (taken: a free one) until
    `stop()`. Blocking: call it off the UI thread. WorkbenchError says why it cannot."""
    from workbench.serve.app import make_app
    from workbench.serve.namespaces import Namespaces
    from workbench.serve.runs import SkillServer
    from workbench.serve.server import serve_in_background

    namespaces = Namespaces([path], DEFAULT_NAMESPACE)
    skills = sorted(namespaces.skills())
    settings = catalog.settings_for(provider)
    resolved = open_provider(settings, secrets=catalog.secrets, project_root=catalog.project_root)
    server = SkillServer(
        namespaces,
        resolved.provider,
        settings.name,
        lambda root: flows.open_backends(config, root),
    )
    log = RequestLog()
    unlisten = log.listen(listener)
    # DevCsi's spans, posted to this server's /v1/traces, show among the requests.
    spans = SpanLog()
    if span_listener is not None:
        spans.listen(span_listener)
    app = make_app(server, log=log, spans=spans)
    note = ""
    try:
        try:
            running = serve_in_background(app, DEFAULT_HOST, port)
        except UsageError:
            if port == 0:
                raise
            running = serve_in_background(app, DEFAULT_HOST, 0)
            note = (
                f"Port {port} is taken (a kernel, or another `workbench serve`?), so the "
                "server took a free one."
            )
    except BaseException:
        unlisten()
        server.close()
        raise
    return Serving(
        running.url, skills, settings.name, note, resolved.warnings, running, server, unlisten
    )


def stop_in_background(serving: Serving) -> None:
    """Stop `serving` in a thread of its own; the interpreter waits for it at exit."""
    threading.Thread(target=serving.stop, name="workbench-serve-stop").start()


def _stop_when_started(job: asyncio.Future[Serving]) -> None:
    """A start that finished after its screen went away: stop what it started."""
    if not job.cancelled() and job.exception() is None:
        stop_in_background(job.result())


def key_label(key: str) -> str:
    """A key as the README writes it: ctrl+n as Ctrl+N, f5 as F5."""
    return "+".join(
        part.upper() if len(part) == 1 else part.capitalize() for part in key.split("+")
    )


class ServeActions:
    """Needs the MainScreen's catalog, config, run panel, output and what it is about."""

    #: The port tried first (a kernel's); when it is taken, a free one. 0: a free one.
    serve_port: ClassVar[int] = DEFAULT_PORT

    def init_serving(self: MainScreen) -> None:
        self.serving: Serving | None = None
        #: "starting" or "stopping" while the server does, else "".
        self.serve_busy = ""
        #: The screen has closed: a server that starts now is stopped at once.
        self.serve_closed = False

    def _key(self: MainScreen, binding_id: str, default: str) -> str:
        keys = effective_keys({binding_id: default}, self.config.keymap)[binding_id]
        return key_label(keys[0] if keys else default)

    @property
    def serve_key(self: MainScreen) -> str:
        return self._key("serve", SERVE_KEY)

    @property
    def serve_tab_key(self: MainScreen) -> str:
        return self._key("tab-serve", f"alt+{SERVE_TAB_LETTER}")

    def show_not_serving(self: MainScreen, before: str = "") -> None:
        """The Serve tab while nothing is served: how to start."""
        where = (
            f"at http://{DEFAULT_HOST}:{self.serve_port} (or on a free port if that one is taken)"
            if self.serve_port
            else f"on a free port of {DEFAULT_HOST}"
        )
        self.output.requests.show_stopped(
            f"{before}Not serving: {self.serve_key} serves this skill over the Pharia "
            f"Kernel's HTTP API {where} and lists each request here."
        )

    def served_path(self: MainScreen) -> Path:
        target = self.describe_target()
        return target.root if isinstance(target, SkillProject) else target

    # The key ------------------------------------------------------------------------------
    def action_toggle_serve(self: MainScreen) -> None:
        if self.serve_busy:
            self.notify(f"The server is {self.serve_busy}; a moment.", timeout=2)
            return
        starting = self.serving is None
        self.run_worker(
            self._start_serving if starting else self._stop_serving,
            group=SERVE_GROUP,
            exclusive=True,
            exit_on_error=False,
            description="server start" if starting else "server stop",
        )

    async def _start_serving(self: MainScreen) -> None:
        self.serve_busy = "starting"
        try:
            await self._serve()
        finally:
            self.serve_busy = ""

    async def _serve(self: MainScreen) -> None:
        view = self.output.requests
        view.show_stopped("Starting the server…")
        self.output.show("serve")
        self.run_panel.say("Starting the server…")
        job = asyncio.ensure_future(
            asyncio.to_thread(
                start_serving,
                self.served_path(),
                self.catalog,
                self.run_panel.provider_name,
                self.config,
                self.serve_port,
                view.listener(),
                view.span_listener(),
            )
        )
        try:
            serving = await asyncio.shield(job)
        except asyncio.CancelledError:
            job.add_done_callback(_stop_when_started)
            raise
        except WorkbenchError as error:
            said = f"Could not serve the skill: {error}"
            self.show_not_serving()
            self.run_panel.say("Could not serve the skill.")
            self.notify(said, title="Serve", severity="error", timeout=10)
            return
        except Exception:
            self.show_not_serving()
            raise  # said as a failure to report (ReportsWorkerFailures)
        if self.serve_closed:
            stop_in_background(serving)
            return
        self.serving = serving
        self._say_serving(serving)

    def _say_serving(self: MainScreen, serving: Serving) -> None:
        url = serving.url
        for warning in serving.warnings:
            self.notify(warning, title="Provider", severity="warning", timeout=8)
        routes = "\n".join(f"  POST {url}/v1/skills/{name}/run" for name in serving.skills)
        runs = (
            "Each request runs the saved sources, built when they changed."
            if isinstance(self.describe_target(), SkillProject)
            else "Each request runs the component file as it is on disk."
        )
        self.output.requests.show_serving(
            url,
            (f"{serving.note}\n" if serving.note else "")
            + f"Serving at {url} (models: {serving.provider}); {self.serve_key} stops.\n"
            f"{routes}\nFor the SDK's DevCsi: PHARIA_KERNEL_ADDRESS={url} and, for its "
            f"spans, OTEL_EXPORTER_OTLP_ENDPOINT={url}\n{runs}",
        )
        self.run_panel.say(f"Serving at {url}")
        self.notify(
            (f"{serving.note} " if serving.note else "")
            + f"Serving {', '.join(serving.skills)} at {url} (models: {serving.provider}). "
            f"The Serve tab ({self.serve_tab_key}) shows each request; {self.serve_key} stops.",
            title="Serve",
            timeout=8,
        )

    async def _stop_serving(self: MainScreen) -> None:
        serving, self.serving = self.serving, None
        if serving is None:
            return
        self.serve_busy = "stopping"
        self.output.requests.show_stopped("Stopping the server…")
        try:
            await asyncio.to_thread(serving.stop)  # cancelled, the thread still stops it
        finally:
            self.serve_busy = ""
            if not self.serve_closed:
                self.show_not_serving(f"Stopped serving at {serving.url}. ")
        self.run_panel.say("Stopped serving.")
        self.notify(f"Stopped serving at {serving.url}.", title="Serve", timeout=3)

    def stop_serving(self: MainScreen) -> None:
        """The screen closes (the app quits): stop serving, without waiting for it here."""
        self.serve_closed = True
        serving, self.serving = self.serving, None
        if serving is not None:
            stop_in_background(serving)
