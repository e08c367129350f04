"""The model provider on the main screen (a mixin of MainScreen): opening the chosen one,
testing it, offering its models, and the providers dialog."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from textual.widgets import Select

from workbench.config.user import UserConfig
from workbench.errors import WorkbenchError
from workbench.models.base import ModelProvider

if TYPE_CHECKING:
    from workbench.tui.screens.main import MainScreen


class ProviderActions:
    async def open_provider(self: MainScreen, name: str) -> ModelProvider | None:
        try:
            resolved = await asyncio.to_thread(self.catalog.open, name)
        except WorkbenchError as error:
            self.notify(str(error), title="Provider", severity="error", timeout=8)
            return None
        for warning in resolved.warnings:
            self.notify(warning, title="Provider", severity="warning", timeout=8)
        return resolved.provider

    def on_select_changed(self: MainScreen, event: Select.Changed) -> None:
        if event.select.id != "run-provider":
            return
        # Offer the new provider's models as completions; quietly, it may not be running.
        self._start_listing(quiet=True)

    def action_test_provider(self: MainScreen) -> None:
        self._start_listing(quiet=False)

    def _start_listing(self: MainScreen, quiet: bool) -> None:
        self.run_worker(
            partial(self._list_models, quiet=quiet),
            group="models-quiet" if quiet else "models-test",
            exclusive=True,
            exit_on_error=False,
            description="model list" if quiet else "provider test",
        )

    async def _list_models(self: MainScreen, quiet: bool) -> None:
        name = self.run_panel.provider_name
        provider = await self.open_provider(name)
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

    def action_providers(self: MainScreen) -> None:
        from workbench.tui.screens.providers import ProvidersScreen

        def changed(config: UserConfig | None) -> None:
            if config is not None:
                self.config = config
                self.catalog.update(config.providers)
                self.run_panel.set_providers(self.catalog.names())

        self.app.push_screen(ProvidersScreen(self.config, self.catalog), changed)
