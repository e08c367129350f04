"""Offering an SDK project the environment it builds with (a mixin of MainScreen).

An SDK skill builds with the SDK's own componentize-py, so a project without an environment
cannot build. When a build says so, the app offers to make one (`workbench env`, the same
flow), shows pip's progress in the Build tab, and then builds or runs again as asked.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from workbench import flows
from workbench.build.venv import EnvironmentLog, EnvironmentReady, EnvironmentStep
from workbench.cancel import CancelToken
from workbench.tui.screens.dialogs import Choice

if TYPE_CHECKING:
    from workbench.tui.screens.main import MainScreen

#: The environment is made in the task group, so Esc cancels it like a build.
TASK_GROUP = "task"


class EnvironmentActions:
    """Needs the MainScreen's project, output and run panel."""

    @work(group="offer-environment", exit_on_error=False, description="offer an environment")
    async def offer_environment(self: MainScreen, then_run: bool) -> None:
        answer = await self.app.push_screen_wait(
            Choice(
                f"{self.project.root.name} is a pharia-skill project without an environment to "
                "build it with. Make one now? (a .venv with Python 3.11 and pharia-skill from "
                "PyPI, about 10 s; `workbench env` does the same)",
                [("make", "Make it"), ("later", "Not now")],
            )
        )
        if answer == "make":
            self._make_environment(then_run)

    @work(exclusive=True, group=TASK_GROUP, exit_on_error=False, description="environment")
    async def _make_environment(self: MainScreen, then_run: bool) -> None:
        self.run_panel.activity = "Making the environment"
        output, token = self.output, CancelToken()
        ready: EnvironmentReady | None = None
        try:
            async for event in flows.make_environment(self.project, cancel=token):
                if isinstance(event, EnvironmentStep):
                    output.start_build(
                        shlex.join([Path(event.command[0]).name, *event.command[1:]])
                    )
                    output.add_build_line(event.description)
                elif isinstance(event, EnvironmentLog):
                    output.add_build_line(event.line)
                elif isinstance(event, EnvironmentReady):
                    ready = event
        finally:
            token.cancel()  # a cancelled worker stops pip now, not when it is collected
            self.run_panel.activity = ""
        assert ready is not None
        said = f"Made the environment in {ready.duration:.0f} s: {ready.environment.describe()}."
        output.add_build_line(said)
        self.run_panel.say("Environment ready.")
        self.notify(said, title="Environment", timeout=6, markup=False)
        if then_run:
            self.last_request = self.current_request()
            self._run_task(self.last_request)
        else:
            self._build_task()
