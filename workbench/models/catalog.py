"""The providers a user can pick from (configured ones, then the built-in kinds), opened
on demand and kept open until their settings change or the catalog is closed."""

from __future__ import annotations

import threading
from pathlib import Path

from workbench.credentials import SecretStore
from workbench.models.providers import KINDS, ProviderSettings, ResolvedProvider, open_provider
from workbench.models.providers import settings_for as _settings_for


class ProviderCatalog:
    def __init__(
        self, configured: dict[str, ProviderSettings], secrets: SecretStore, project_root: Path
    ) -> None:
        self.configured = dict(configured)
        self.secrets = secrets
        self.project_root = project_root
        self._open: dict[str, ResolvedProvider] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return [*self.configured, *(kind for kind in KINDS if kind not in self.configured)]

    def settings_for(self, name: str) -> ProviderSettings:
        return _settings_for(name, self.configured)

    def open(self, name: str) -> ResolvedProvider:
        """The provider called `name` (may read the keyring: call it off the UI thread)."""
        with self._lock:
            if name not in self._open:
                self._open[name] = open_provider(
                    self.settings_for(name), secrets=self.secrets, project_root=self.project_root
                )
            return self._open[name]

    def update(self, configured: dict[str, ProviderSettings]) -> None:
        """New settings (or a new key): close the open providers and reopen them the next
        time they are used."""
        with self._lock:
            self.configured = dict(configured)
            stale = self._take_open()
        _close_all(stale)

    def close(self) -> None:
        """Close every open provider (their connections); the catalog may still open more."""
        with self._lock:
            stale = self._take_open()
        _close_all(stale)

    def _take_open(self) -> list[ResolvedProvider]:
        stale = list(self._open.values())
        self._open.clear()
        return stale


def _close_all(providers: list[ResolvedProvider]) -> None:
    # Outside the lock: closing waits for sockets, and opening another must not wait for it.
    for resolved in providers:
        resolved.provider.close()
