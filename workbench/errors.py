"""Every error a user can cause, each with one sentence that says what happened and what to do.

WorkbenchError
 ├── UsageError              a command, flag or form field given a value that cannot work
 ├── ProjectError            the folder is not a usable skill project (module, WIT, workbench.toml)
 │    └── BuildFolderError   the build cannot read the project or write its component
 ├── ConfigError             the user's config file cannot be read or holds a wrong value
 ├── CredentialsError        the OS keyring cannot read, save or delete a secret
 │    └── NoKeyring          there is no OS keyring at all
 ├── ToolError               componentize-py is missing or crashed
 │    └── EnvironmentFailed  an SDK project's environment could not be made (no Python 3.11, pip)
 │         └── EnvironmentCancelled  the user stopped making it
 ├── BuildError              the skill did not build; carries diagnostics
 │    ├── BuildTimeout       stopped at its time limit
 │    ├── BuildCancelled     stopped because the workbench was told to stop (SIGTERM)
 │    └── NoEnvironment      an SDK project has no environment with pharia-skill to build with
 ├── ComponentError          a .wasm that is missing, cannot be loaded, or targets another world
 ├── ModelError              a model provider failed to answer
 │    └── InvalidCsiRequest  a skill's CSI request the kernel would refuse (a missing field)
 ├── DocumentIndexError      a document index (the project's own, or a remote one) failed
 ├── ToolServerError         an MCP tool server could not be reached or broke the protocol
 ├── RegistryError           an OCI registry refused, failed or could not be reached
 │    ├── RegistryUnreachable  the connection failed or was cut: trying again may work
 │    └── PublishCancelled   the user cancelled a publish
 ├── InternalError           a bug of ours, caught at a boundary and said in one sentence
 └── RunError                a run that did not finish with an output
      ├── SkillRaised        the skill's own code raised an exception
      ├── SkillCrashed       the skill trapped for another reason (exit, stack, trap)
      ├── RunTimeout         stopped at its time limit
      ├── MemoryLimitExceeded  stopped at its memory limit
      ├── RunCancelled       the user cancelled it
      ├── InputRejected      the input is not what the skill takes (not JSON, or against its schema)
      ├── SkillInvalidInput  the skill answered `invalid-input`
      ├── SkillInternalError the skill answered `internal`
      ├── InvalidOutput      the skill returned something its world does not allow (not JSON)
      └── CsiUnavailable     the skill called a CSI function the workbench cannot serve

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


class NoEnvironment(BuildError):
    """An SDK project builds with its own environment's componentize-py, and has none."""

    kind = "no-environment"


class EnvironmentFailed(ToolError):
    kind = "environment"


class EnvironmentCancelled(EnvironmentFailed):
    kind = "cancelled"


class ComponentError(WorkbenchError):
    kind = "component"


class ModelError(WorkbenchError):
    kind = "model"


class InvalidCsiRequest(ModelError):
    """The request never reached a provider: the skill (or the SDK) sent a CSI request that
    the kernel would refuse."""

    kind = "csi-request"


class DocumentIndexError(WorkbenchError):
    kind = "documents"


class ToolServerError(WorkbenchError):
    kind = "tools"


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


class InputRejected(RunError):
    """Found before the run: the skill never saw this input."""

    kind = "input-rejected"


class SkillInvalidInput(RunError):
    kind = "invalid-input"


class SkillInternalError(RunError):
    kind = "internal"


class InvalidOutput(RunError):
    kind = "invalid-output"


class CsiUnavailable(RunError):
    kind = "csi-unavailable"
