"""Which provider a name means, with its settings and its key.

A name is either a provider defined in the user config (`[providers.NAME]`) or one of the
kinds: `echo`, `openai`, `aleph-alpha`, `replay`. Keys come from the OS keyring, or from
WORKBENCH_API_KEY, which wins (for CI).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.credentials import API_KEY_ENV, SecretStore, provider_account
from workbench.errors import CredentialsError, ModelError, NoKeyring
from workbench.models.aleph_alpha import AlephAlphaProvider
from workbench.models.base import ModelProvider
from workbench.models.echo import EchoProvider
from workbench.models.http import HttpSettings, Sampling
from workbench.models.openai import OpenAIProvider
from workbench.models.replay import REPLAY_FILE, RecordingProvider, ReplayProvider

KINDS = ("echo", "openai", "aleph-alpha", "replay")
HTTP_KINDS = {"openai": OpenAIProvider, "aleph-alpha": AlephAlphaProvider}
DEFAULT_PROVIDER = "echo"


@dataclass(frozen=True)
class ProviderSettings:
    """One `[providers.NAME]` table of the user config (never a key: those are in the keyring)."""

    name: str
    kind: str
    base_url: str | None = None
    mode: str = "chat"
    sampling: Sampling = field(default_factory=Sampling)
    timeout: float = 60.0

    def to_toml(self) -> dict[str, Any]:
        table: dict[str, Any] = {"kind": self.kind}
        if self.base_url:
            table["base-url"] = self.base_url
        if self.kind == "openai":
            table["mode"] = self.mode
        table["max-tokens"] = self.sampling.max_tokens
        if self.sampling.temperature is not None:
            table["temperature"] = self.sampling.temperature
        if self.sampling.stop:
            table["stop"] = list(self.sampling.stop)
        table["timeout"] = self.timeout
        return table


@dataclass(frozen=True)
class ResolvedProvider:
    provider: ModelProvider
    settings: ProviderSettings
    #: Things the user should know but that do not stop the run (e.g. an unreadable keyring).
    warnings: tuple[str, ...] = ()


def settings_for(
    name: str, configured: dict[str, ProviderSettings], base_url: str | None = None
) -> ProviderSettings:
    settings = configured.get(name)
    if settings is None:
        if name not in KINDS:
            known = ", ".join([*sorted(configured), *KINDS])
            raise ModelError(
                f"There is no model provider called {name!r}; use one of: {known}, "
                "or define it under [providers] in the config file."
            )
        settings = ProviderSettings(name=name, kind=name)
    if base_url:
        settings = ProviderSettings(
            settings.name,
            settings.kind,
            base_url,
            settings.mode,
            settings.sampling,
            settings.timeout,
        )
    return settings


def open_provider(
    settings: ProviderSettings,
    *,
    secrets: SecretStore | None = None,
    project_root: Path | None = None,
    record: bool = False,
) -> ResolvedProvider:
    """Build the provider `settings` describe, with its key from the keyring or environment."""
    warnings: list[str] = []
    provider: ModelProvider
    if settings.kind == "echo":
        provider = EchoProvider(settings.name)
    elif settings.kind == "replay":
        provider = ReplayProvider((project_root or Path.cwd()) / REPLAY_FILE, settings.name)
    elif settings.kind in HTTP_KINDS:
        kind = HTTP_KINDS[settings.kind]
        api_key = None
        try:
            api_key = (secrets or SecretStore()).get(
                provider_account(settings.name), env_override=API_KEY_ENV
            )
        except NoKeyring:
            pass  # nothing can be stored without a keyring: only the variable could hold a key
        except CredentialsError as error:
            warnings.append(f"No API key for {settings.name}: {error}")
        http = HttpSettings(
            base_url=settings.base_url or kind.DEFAULT_BASE_URL,
            api_key=api_key,
            timeout=settings.timeout,
            sampling=settings.sampling,
        )
        provider = (
            OpenAIProvider(settings.name, http, mode=settings.mode)  # type: ignore[arg-type]
            if settings.kind == "openai"
            else AlephAlphaProvider(settings.name, http)
        )
    else:
        raise ModelError(
            f"The provider {settings.name!r} has an unknown kind {settings.kind!r}; "
            f"use one of: {', '.join(KINDS)}."
        )
    if record:
        if settings.kind == "replay":
            raise ModelError("--record needs a real provider to record from, not replay.")
        provider = RecordingProvider(provider, (project_root or Path.cwd()) / REPLAY_FILE)
    return ResolvedProvider(provider, settings, tuple(warnings))
