"""Publishing a built component: check kernel compatibility, push the artifact, read the
manifest back. Progress is reported as typed events for both front-ends.

Re-publishing the same component to the same tag reuses the earlier `created`, so the
manifest (and its digest) is byte-for-byte the same and a kernel has no reason to reload.
Publishing never builds: builds are not byte-reproducible.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.cancel import CancelToken
from workbench.credentials import SecretStore, registry_account
from workbench.errors import ComponentError, NoKeyring, RegistryError, UsageError
from workbench.project.model import PublishSettings, SkillProject, save_publish_settings
from workbench.publish.artifact import MANIFEST_MEDIA_TYPE, build_artifact
from workbench.publish.registry import (
    DEFAULT_TAG,
    RegistryCredentials,
    RegistryTarget,
    SkillRegistry,
)

#: The OCI distribution spec's grammar for repository names and tags.
_OCI_PATH = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_OCI_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")

REGISTRY_ENV = "SKILL_REGISTRY"
REPOSITORY_ENV = "SKILL_REPOSITORY"
USER_ENV = "SKILL_REGISTRY_USER"
TOKEN_ENV = "SKILL_REGISTRY_TOKEN"


@dataclass(frozen=True)
class CompatibilityWarning:
    message: str


@dataclass(frozen=True)
class BlobSkipped:
    what: str
    digest: str


@dataclass(frozen=True)
class UploadProgress:
    what: str
    sent: int
    total: int
    #: Bytes per second so far.
    speed: float


@dataclass(frozen=True)
class Published:
    reference: str
    digest: str
    #: True when the registry already had exactly this artifact under this tag.
    unchanged: bool


PublishEvent = CompatibilityWarning | BlobSkipped | UploadProgress | Published


def registry_credentials(
    registry: str, secrets: SecretStore | None = None
) -> RegistryCredentials | None:
    """SKILL_REGISTRY_USER/SKILL_REGISTRY_TOKEN if set (as pharia-skill reads them), else what
    `workbench login` saved in the keyring, else None."""
    if os.environ.get(TOKEN_ENV):
        return RegistryCredentials(os.environ.get(USER_ENV) or "user", os.environ[TOKEN_ENV])
    try:
        stored = (secrets or SecretStore()).get(registry_account(registry), env_override=TOKEN_ENV)
    except NoKeyring:
        return None  # nothing can have been saved; a registry that wants a login will say so
    if not stored:
        return None
    saved = json.loads(stored)
    return RegistryCredentials(saved["username"], saved["token"])


def login(
    target: RegistryTarget, credentials: RegistryCredentials, secrets: SecretStore | None = None
) -> None:
    """Check the credentials against the registry, then save them in the keyring."""
    SkillRegistry(target, credentials).check_access()
    (secrets or SecretStore()).set(
        registry_account(target.registry),
        json.dumps({"username": credentials.username, "token": credentials.token}),
        env_override=TOKEN_ENV,
    )


def logout(registry: str, secrets: SecretStore | None = None) -> bool:
    return (secrets or SecretStore()).delete(registry_account(registry))


def publish(
    component: Path,
    imports: list[str],
    exports: list[str],
    target: RegistryTarget,
    credentials: RegistryCredentials | None,
    *,
    on_event: Callable[[PublishEvent], None] = lambda event: None,
    cancel: CancelToken | None = None,
) -> Published:
    try:
        layer = component.read_bytes()
    except OSError as error:
        raise ComponentError(
            f"Cannot read the component {component} ({error}); build the skill first."
        ) from None
    registry = SkillRegistry(target, credentials)

    # Same layer as the tag has now? Keep its `created`, so the manifest stays identical.
    created = None
    current = registry.manifest(target.tag)
    if current is not None:
        try:
            previous = json.loads(current[0])
            if previous["layers"][0]["digest"] == build_artifact(layer, [], []).layer_digest:
                created = json.loads(registry.blob(previous["config"]["digest"]))["created"]
        except (ValueError, KeyError, IndexError, TypeError):
            created = None
    artifact = build_artifact(layer, imports, exports, created)
    if current is not None and current[0] == artifact.manifest:
        result = Published(target.reference, artifact.manifest_digest, unchanged=True)
        on_event(result)
        return result

    for what, blob, digest in (
        ("config", artifact.config, artifact.config_digest),
        ("component", artifact.layer, artifact.layer_digest),
    ):
        if registry.has_blob(digest):
            on_event(BlobSkipped(what, digest))
            continue
        started = time.monotonic()

        def progress(sent: int, total: int, what: str = what, started: float = started) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            on_event(UploadProgress(what, sent, total, sent / elapsed))

        registry.upload(blob, digest, progress, cancel)
    if cancel is not None and cancel.is_cancelled:
        raise RegistryError("The publish was cancelled before tagging; the tag is unchanged.")
    registry.put_manifest(artifact.manifest, target.tag, MANIFEST_MEDIA_TYPE)

    # Read it back: what a kernel will pull must be what we meant to publish.
    readback = registry.manifest(target.tag)
    if readback is None or readback[0] != artifact.manifest:
        raise RegistryError(
            f"The registry {target.registry} does not return the manifest just "
            f"pushed for {target.reference}; publish again."
        )
    result = Published(target.reference, artifact.manifest_digest, unchanged=False)
    on_event(result)
    return result


def default_target(
    registry: str | None,
    repository: str | None,
    name: str,
    tag: str | None = None,
    *,
    insecure: bool = False,
    ca_file: Path | None = None,
) -> RegistryTarget:
    """A target from what was given, filling gaps from SKILL_REGISTRY and SKILL_REPOSITORY."""
    registry = registry or os.environ.get(REGISTRY_ENV)
    repository = repository or os.environ.get(REPOSITORY_ENV)
    if not registry or not repository:
        missing = "registry" if not registry else "repository"
        raise UsageError(
            f"No {missing} to publish to; pass --{missing}, set "
            f"{REGISTRY_ENV if not registry else REPOSITORY_ENV}, or save one "
            "under [publish] in workbench.toml."
        )
    tag = tag or DEFAULT_TAG
    path = f"{repository.strip('/')}/{name}"
    if not _OCI_PATH.match(path):
        raise UsageError(
            f"{path!r} is not a repository path a registry accepts: use lower-case letters, "
            "digits and . _ - between the slashes (e.g. engineering/skills/haiku)."
        )
    if not _OCI_TAG.match(tag):
        raise UsageError(
            f"{tag!r} is not a tag a registry accepts: up to 128 letters, digits, . _ and -, "
            "not starting with . or - (e.g. v1.2 or latest)."
        )
    return RegistryTarget(registry, repository, name, tag, insecure, ca_file)


def remember_target(project: SkillProject, target: RegistryTarget) -> bool:
    """Save where the project was published to, as its `[publish]` (never credentials).
    False when workbench.toml already said exactly that (then it is not rewritten)."""
    settings = PublishSettings(
        target.registry,
        target.repository,
        target.name,
        target.tag,
        target.insecure,
        target.ca_file,
    )
    if settings == project.publish:
        return False
    save_publish_settings(project, settings)
    return True
