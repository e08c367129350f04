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

from workbench.build.builder import BuildEvent, BuildFailed
from workbench.build.venv import make_environment
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
    "publish",
    "run",
    "run_component",
    "skill_metadata",
    "tags",
]
