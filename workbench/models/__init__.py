"""Model providers behind one small interface (see `base.ModelProvider`)."""

from __future__ import annotations

from workbench.models.base import Completion, ModelProvider
from workbench.models.echo import EchoProvider
from workbench.models.providers import (
    DEFAULT_PROVIDER,
    KINDS,
    ProviderSettings,
    ResolvedProvider,
    open_provider,
    settings_for,
)

__all__ = [
    "DEFAULT_PROVIDER",
    "KINDS",
    "Completion",
    "EchoProvider",
    "ModelProvider",
    "ProviderSettings",
    "ResolvedProvider",
    "open_provider",
    "settings_for",
]
