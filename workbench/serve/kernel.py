"""What the Pharia Kernel answers, word for word: its status codes and plain-text sentences
for a skill that could not run, and how each workbench error becomes one of them.

Sources (github.com/Aleph-Alpha/pharia-engine @ 329c933e): `src/skill_driver.rs`
(`SkillExecutionError`, its texts), `src/skill_runtime/routes.rs` (`From<SkillExecutionError>
for HttpError`: the codes; the SSE events), `src/skill_runtime.rs` (`From<SkillStoreError>`:
a skill that cannot be fetched is a runtime error), `src/namespace_watcher/config.rs`
(`Namespace::new`), `src/shell.rs` (`authorization_middleware`), axum's `Json` and `Path`
rejections. A trap, a timeout and the skill's `internal` error are all `UserCode` there
(`From<SkillError>`: `Any` → `UserCode`); a failing CSI call aborts the skill as a runtime
error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench.errors import (
    BuildError,
    ComponentError,
    ConfigError,
    CsiUnavailable,
    DocumentIndexError,
    InputRejected,
    InternalError,
    InvalidOutput,
    ModelError,
    ProjectError,
    RegistryError,
    RunCancelled,
    RunError,
    SkillInvalidInput,
    ToolServerError,
    WorkbenchError,
)

OK = 200
BAD_REQUEST = 400
UNAUTHORIZED = 401
PAYLOAD_TOO_LARGE = 413
UNSUPPORTED_MEDIA_TYPE = 415
INTERNAL_SERVER_ERROR = 500
SERVICE_UNAVAILABLE = 503

#: The kernel listens on port 8081 (`KERNEL_ADDRESS` 0.0.0.0:8081); the workbench only on
#: this machine unless told otherwise.
DEFAULT_PORT = 8081
DEFAULT_HOST = "127.0.0.1"
#: The kernel's name for a namespace of local skills (`NamespaceConfigs::local`).
DEFAULT_NAMESPACE = "local"
#: The kernel's `DefaultBodyLimit`.
BODY_LIMIT = 50 * 1024 * 1024
#: `Namespace::new`: kebab-case, 1 to 64 characters.
NAMESPACE_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
NAMESPACE_MAX_LEN = 64

SKILL_NOT_CONFIGURED = (
    "Sorry, we could not find the skill you requested in its namespace. This can have three "
    "causes:\n\n"
    "1. You sent the wrong skill name.\n"
    "2. You sent the wrong namespace.\n"
    "3. The skill is not configured in the namespace you requested. You may want to check the "
    "namespace configuration."
)
IS_FUNCTION = (
    "The skill is designed to be executed as a function. Please invoke it via the /run endpoint."
)
IS_MESSAGE_STREAM = (
    "The skill is designed to stream output. Please invoke it via the /message-stream endpoint."
)
BEARER_EXPECTED = "Bearer token expected"
BEARER_INVALID = "Bearer token invalid"
JSON_CONTENT_TYPE = "Expected request with `Content-Type: application/json`"
BODY_TOO_LARGE = "Failed to buffer the request body: length limit exceeded"


def user_code(text: str) -> str:
    return (
        "The skill you called responded with an error. Maybe you should check your input, if it "
        f"seems to be correct you may want to contact the skill developer. Error reported by "
        f"Skill:\n\n{text}"
    )


def invalid_input(text: str) -> str:
    return f"The skill had trouble interpreting the input:\n\n{text}"


def invalid_output(text: str) -> str:
    return (
        "The skill returned an output the Kernel could not interpret. This hints to a bug in "
        f"the skill. Please contact its developer. Caused by: \n\n{text}"
    )


def load_error(text: str) -> str:
    return f"The skill could not be loaded. Original error:\n\n{text}"


def runtime_error(text: str) -> str:
    return (
        "The skill could not be executed to completion, something in our runtime is currently "
        "unavailable or misconfigured. You should try again later, if the situation persists "
        f"you may want to contact the operators. Original error:\n\n{text}"
    )


def misconfigured_namespace(namespace: str, text: str) -> str:
    return (
        f"The skill could not be executed to completion, the namespace '{namespace}' is "
        "misconfigured. If you are the developer who configured the skill, you should probably "
        "fix this error. If you are not, there is nothing you can do, until the developer who "
        f"maintains the list of skills to be served, fixes this. Original Syntax error:\n\n{text}"
    )


def not_json(detail: str) -> str:
    """axum's `JsonSyntaxError` body."""
    return f"Failed to parse the request body as JSON: {detail}"


def namespace_problem(namespace: str) -> str | None:
    """axum's `Path` rejection of a namespace `Namespace::new` refuses (400), or None."""
    if NAMESPACE_PATTERN.match(namespace) and len(namespace) <= NAMESPACE_MAX_LEN:
        return None
    return (
        f"Invalid URL: Invalid namespace `{namespace}`. Namespaces must be between 1 and 64 "
        "characters long and must follow the pattern `^[a-z0-9]+(-[a-z0-9]+)*$`"
    )


def is_valid_namespace(namespace: str) -> bool:
    return namespace_problem(namespace) is None


@dataclass(frozen=True)
class Refusal:
    """A request the kernel would answer with an error: its status and its plain text (on a
    message stream, the text of the `event: error`)."""

    status: int
    message: str


def refusal_for(error: WorkbenchError) -> Refusal:
    """The kernel's answer for what stopped a skill here."""
    if isinstance(error, SkillInvalidInput | InputRejected):
        # The kernel passes the skill's own text (the SDK's traceback); the workbench's
        # schema check refuses before the run with one sentence instead.
        return Refusal(BAD_REQUEST, invalid_input(_text(error)))
    if isinstance(error, InvalidOutput):
        return Refusal(INTERNAL_SERVER_ERROR, invalid_output(_text(error)))
    if isinstance(error, BuildError | ComponentError | ProjectError | ConfigError):
        return Refusal(INTERNAL_SERVER_ERROR, load_error(_build_text(error)))
    if isinstance(error, RegistryError):
        return Refusal(SERVICE_UNAVAILABLE, runtime_error(f"Error loading skill: {error}"))
    unavailable = ModelError | DocumentIndexError | ToolServerError | CsiUnavailable | RunCancelled
    if isinstance(error, unavailable):
        return Refusal(SERVICE_UNAVAILABLE, runtime_error(str(error)))
    if isinstance(error, RunError):  # the skill's `internal`, a trap, a time or memory limit
        return Refusal(BAD_REQUEST, user_code(_text(error)))
    if isinstance(error, InternalError):
        return Refusal(INTERNAL_SERVER_ERROR, str(error))
    return Refusal(SERVICE_UNAVAILABLE, runtime_error(str(error)))


def _text(error: WorkbenchError) -> str:
    """The skill's own words when there are some (its traceback), else our sentence."""
    details = getattr(error, "details", "")
    return details.strip() or error.message


def _build_text(error: WorkbenchError) -> str:
    lines = [error.message, *(d.format() for d in getattr(error, "diagnostics", ()))]
    return "\n".join(dict.fromkeys(lines))  # a diagnostic may repeat the message
