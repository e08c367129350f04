"""Every error a user can cause, each with one sentence that says what happened and what to do.

WorkbenchError
 ├── UsageError              a command, flag or form field given a value that cannot work
 ├── ProjectError            the folder is not a usable skill project (module, WIT, workbench.toml)
 │    └── BuildFolderError   the build cannot read the project or write its component
 ├── ConfigError             the user's config file cannot be read or holds a wrong value
 ├── CredentialsError        the OS keyring cannot read, save or delete a secret
 │    └── NoKeyring          there is no OS keyring at all
 ├── ToolError               componentize-py is missing or crashed
 ├── BuildError              the skill did not build; carries diagnostics
 │    ├── BuildTimeout       stopped at its time limit
 │    └── BuildCancelled     stopped because the workbench was told to stop (SIGTERM)
 ├── ComponentError          a .wasm that is missing, cannot be loaded, or targets another world
 ├── ModelError              a model provider failed to answer
 ├── RegistryError           an OCI registry refused, failed or could not be reached
 │    ├── RegistryUnreachable  the connection failed or was cut: trying again may work
 │    └── PublishCancelled   the user cancelled a publish
 ├── InternalError           a bug of ours, caught at a boundary and said in one sentence
 └── RunError                a run that did not finish with an output
      ├── SkillRaised        the skill's own code raised an exception
      ├── SkillCrashed       the skill trapped for another reason (exit, stack, trap)
      ├── RunTimeout         stopped at its time limit
      ├── MemoryLimitExceeded  stopped at its memory limit
      └── RunCancelled       the user cancelled it

Front-ends print `str(error)`; nothing here ever needs a traceback to be understood.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.build.diagnostics import Diagnostic


class WorkbenchError(Exception):
    """Base class: `message` is the one sentence shown to the user."""

    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(WorkbenchError):
    kind = "usage"


class ProjectError(WorkbenchError):
    kind = "project"


class BuildFolderError(ProjectError):
    """An OSError while preparing or finishing a build (a read-only folder, a full disk)."""

    kind = "build-folder"


class ConfigError(WorkbenchError):
    kind = "config"


class CredentialsError(WorkbenchError):
    kind = "credentials"


class NoKeyring(CredentialsError):
    """There is no OS keyring at all (so there can be no stored secret either)."""


class ToolError(WorkbenchError):
    kind = "tool"


class BuildError(WorkbenchError):
    kind = "build"

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = tuple(diagnostics)


class BuildTimeout(BuildError):
    kind = "build-timeout"


class BuildCancelled(BuildError):
    kind = "cancelled"


class ComponentError(WorkbenchError):
    kind = "component"


class ModelError(WorkbenchError):
    kind = "model"


class RegistryError(WorkbenchError):
    kind = "registry"


class RegistryUnreachable(RegistryError):
    """The request may not have arrived whole: a retry can succeed."""

    kind = "registry-unreachable"


class PublishCancelled(RegistryError):
    kind = "cancelled"


class InternalError(WorkbenchError):
    kind = "internal"


class RunError(WorkbenchError):
    kind = "run"

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        #: Longer text shown under the message, e.g. the skill's own traceback.
        self.details = details


class SkillRaised(RunError):
    kind = "skill-raised"


class SkillCrashed(RunError):
    kind = "skill-crashed"


class RunTimeout(RunError):
    kind = "timeout"


class MemoryLimitExceeded(RunError):
    kind = "memory-limit"


class RunCancelled(RunError):
    kind = "cancelled"
