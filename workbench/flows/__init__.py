"""Every flow a user can start (build, make_environment for an SDK project, run, describe,
publish, login, logout, tags), once, as an async stream of typed events that both front-ends
consume: the CLI prints them, the app renders them.

Both front-ends therefore do the same steps in the same order. Blocking work (wasmtime, the
registry, the keyring) runs on threads and reports back through a queue as it happens.
Closing a stream (the consumer stops or is cancelled) stops the work it started: the build
subprocess is killed, the skill interrupted, an upload cancelled before tagging. A failure a
user can cause is a `WorkbenchError` raised from the stream; a failed build is an event,
since it carries diagnostics and ends the flow normally.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.build.builder import BuildEvent, BuildFailed
    from workbench.build.venv import make_environment
    from workbench.flows.backends import open_backends
    from workbench.flows.development import prepare_runtime
    from workbench.flows.publishing import (
        ComponentRead,
        LoggedIn,
        LoggedOut,
        PublishStopped,
        SaveEdits,
        TagDeleted,
        TagsListed,
        TargetRemembered,
        login,
        logout,
        publish,
        tags,
    )
    from workbench.flows.running import (
        CsiCallMade,
        MessageWritten,
        PipelineEvent,
        RunEvent,
        RunFinished,
        RunRequest,
        RunStarted,
        RunTarget,
        SkillDescription,
        SkillOutput,
        build,
        describe,
        limits_for,
        run,
        run_component,
        skill_metadata,
    )

#: Where each name lives. A name is imported from its module on first use (PEP 562), so a
#: command imports only the flows it runs: a run never loads the registry client, a publish
#: never the runner (each is a good part of a fresh process's time).
_HOMES = {
    "workbench.build.builder": ("BuildEvent", "BuildFailed"),
    "workbench.build.venv": ("make_environment",),
    "workbench.flows.backends": ("open_backends",),
    "workbench.flows.development": ("prepare_runtime",),
    "workbench.flows.publishing": (
        "ComponentRead",
        "LoggedIn",
        "LoggedOut",
        "PublishStopped",
        "SaveEdits",
        "TagDeleted",
        "TagsListed",
        "TargetRemembered",
        "login",
        "logout",
        "publish",
        "tags",
    ),
    "workbench.flows.running": (
        "CsiCallMade",
        "MessageWritten",
        "PipelineEvent",
        "RunEvent",
        "RunFinished",
        "RunRequest",
        "RunStarted",
        "RunTarget",
        "SkillDescription",
        "SkillOutput",
        "build",
        "describe",
        "limits_for",
        "run",
        "run_component",
        "skill_metadata",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "BuildEvent",
    "BuildFailed",
    "ComponentRead",
    "CsiCallMade",
    "LoggedIn",
    "LoggedOut",
    "MessageWritten",
    "PipelineEvent",
    "PublishStopped",
    "RunEvent",
    "RunFinished",
    "RunRequest",
    "RunStarted",
    "RunTarget",
    "SaveEdits",
    "SkillDescription",
    "SkillOutput",
    "TagDeleted",
    "TagsListed",
    "TargetRemembered",
    "build",
    "describe",
    "limits_for",
    "login",
    "logout",
    "make_environment",
    "open_backends",
    "prepare_runtime",
    "publish",
    "run",
    "run_component",
    "skill_metadata",
    "tags",
]


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once found, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
