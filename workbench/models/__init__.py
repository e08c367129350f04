"""Model providers behind one small interface (see `base.ModelProvider`)."""

from __future__ import annotations

from collections.abc import Callable

from workbench.errors import ModelError
from workbench.models.base import Completion, ModelProvider
from workbench.models.echo import EchoProvider

__all__ = ["PROVIDER_KINDS", "Completion", "EchoProvider", "ModelProvider", "make_provider"]

DEFAULT_PROVIDER = "echo"

#: Provider kinds a user can name on the command line.
PROVIDER_KINDS: dict[str, Callable[[], ModelProvider]] = {
    "echo": EchoProvider,
}


def make_provider(kind: str = DEFAULT_PROVIDER) -> ModelProvider:
    try:
        factory = PROVIDER_KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(PROVIDER_KINDS))
        raise ModelError(
            f"There is no model provider called {kind!r}; use one of: {known}."
        ) from None
    return factory()
