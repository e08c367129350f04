"""Secrets (model API keys, registry tokens) in the OS keyring, never in a file.

`SecretStore` is the one interface the rest of the workbench uses. Every keyring failure a
user can meet (no keyring at all, a locked one, a dismissed unlock prompt) becomes a
`CredentialsError` that says what happened and names the way forward: an environment
variable, which CI uses anyway.
"""

from __future__ import annotations

import os
from typing import Any

from workbench.errors import CredentialsError, NoKeyring
from workbench.redact import remember_secret

SERVICE = "skill-workbench"
#: Overrides any stored model API key (for CI and scripts).
API_KEY_ENV = "WORKBENCH_API_KEY"


def provider_account(name: str) -> str:
    return f"model-provider:{name}"


#: The Document Index's token (`workbench key set document-index`).
DOCUMENT_INDEX_ACCOUNT = "document-index"


def registry_account(registry: str) -> str:
    return f"registry:{registry}"


class SecretStore:
    """get/set/delete secrets by account name in the OS keyring (Secret Service on Linux)."""

    def __init__(self, backend: Any = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> Any:
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    def describe(self) -> str:
        return type(self.backend).__module__.removeprefix("keyring.backends.")

    def get(self, account: str, env_override: str | None = None) -> str | None:
        """The secret, or None if none is stored. `env_override` wins when it is set."""
        if env_override and os.environ.get(env_override):
            secret = os.environ[env_override]
        else:
            secret = self._call(
                "read", lambda: self.backend.get_password(SERVICE, account), env_override
            )
        remember_secret(secret)
        return secret

    def set(self, account: str, secret: str, env_override: str | None = None) -> None:
        remember_secret(secret)
        self._call(
            "save", lambda: self.backend.set_password(SERVICE, account, secret), env_override
        )

    def delete(self, account: str) -> bool:
        """Forget the secret; False if there was none."""
        import keyring.errors

        try:
            self._call("delete", lambda: self.backend.delete_password(SERVICE, account), None)
        except CredentialsError as error:
            if isinstance(error.__cause__, keyring.errors.PasswordDeleteError):
                return False
            raise
        return True

    def _call(self, verb: str, operation: Any, env_override: str | None) -> Any:
        import keyring.errors

        way_out = (
            f"set {env_override} instead"
            if env_override
            else "unlock or install an OS keyring (e.g. gnome-keyring)"
        )
        try:
            return operation()
        except keyring.errors.NoKeyringError as error:
            raise NoKeyring(
                f"There is no OS keyring to {verb} the secret in; {way_out}."
            ) from error
        except keyring.errors.KeyringLocked as error:
            raise CredentialsError(
                f"The OS keyring is locked, so the secret cannot be "
                f"{verb_past(verb)}; unlock it, or {way_out}."
            ) from error
        except keyring.errors.InitError as error:
            raise CredentialsError(
                f"The OS keyring could not be opened (was its unlock prompt "
                f"dismissed?); unlock it, or {way_out}."
            ) from error
        except keyring.errors.PasswordDeleteError as error:
            raise CredentialsError("There is no such secret in the OS keyring.") from error
        except Exception as error:  # backends raise their own types (D-Bus, secretstorage)
            raise CredentialsError(
                f"The OS keyring failed to {verb} the secret "
                f"({type(error).__name__}: {error}); {way_out}."
            ) from error


def verb_past(verb: str) -> str:
    return {"read": "read", "save": "saved", "delete": "deleted"}.get(verb, verb)
