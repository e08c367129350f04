"""Pulling a skill from an OCI registry as the kernel pulls it, into a cache folder.

The kernel (`src/registries/oci.rs`, `oci_wasm::WasmClient::pull`) asks for
`{registry}/{base-repository}/{name}:{tag}` with Basic auth, accepts `application/wasm`
layers only, requires exactly one layer and a config of media type
`application/vnd.wasm.config.v0+json`, and takes the layer's bytes as the component; a tag
that is not there means the skill is not in the registry. The component is kept under its
layer digest (content-addressed: a re-tag of the same bytes is no new download), written
in one step, and checked against its digest before it is used.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import RegistryError
from workbench.fs import atomic_write
from workbench.publish.artifact import CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE
from workbench.publish.registry import RegistryCredentials, RegistryTarget, SkillRegistry

#: How long a tag's manifest is trusted before it is asked again (the kernel's namespace
#: and digest checks are periodic too): a re-publish is seen within this many seconds.
RECHECK_SECONDS = 10.0


@dataclass(frozen=True)
class RootTarget(RegistryTarget):
    """A skill at the registry's top (no base repository): `{registry}/{name}:{tag}`, as
    the kernel names it when `base-repository` is empty."""

    @property
    def path(self) -> str:
        return self.name


@dataclass
class _Pulled:
    component: Path
    checked: float


@dataclass
class Puller:
    """Fetches components into `cache` (a folder the user named); thread-safe."""

    cache: Path
    recheck: float = RECHECK_SECONDS
    _pulled: dict[str, _Pulled] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def component(
        self, target: RegistryTarget, credentials: RegistryCredentials | None
    ) -> Path | None:
        """The component behind `target`'s tag, pulled if not cached (blocking: call it on
        a thread); None when the registry has no such tag. Raises RegistryError."""
        with self._lock:
            known = self._pulled.get(target.reference)
        fresh = known is not None and time.monotonic() - known.checked < self.recheck
        if known is not None and fresh and known.component.is_file():
            return known.component
        path = self._pull(target, credentials)
        if path is not None:
            with self._lock:
                self._pulled[target.reference] = _Pulled(path, time.monotonic())
        return path

    def _pull(self, target: RegistryTarget, credentials: RegistryCredentials | None) -> Path | None:
        registry = SkillRegistry(target, credentials)
        found = registry.manifest(target.tag)
        if found is None:
            return None
        digest = _layer_digest(target, found[0])
        algorithm, _, hexdigest = digest.partition(":")
        if algorithm != "sha256" or len(hexdigest) != 64 or not hexdigest.isalnum():
            raise RegistryError(f"{target.reference}: the layer digest {digest!r} is not sha256.")
        path = self.cache / f"{hexdigest}.wasm"
        if path.is_file():
            return path
        layer = registry.blob(digest)
        if hashlib.sha256(layer).hexdigest() != hexdigest:
            raise RegistryError(
                f"{target.reference}: the component the registry sent does not match its "
                "digest; pull again."
            )
        try:
            atomic_write(path, layer)
        except OSError as error:
            raise RegistryError(
                f"Cannot keep the pulled component in {self.cache} ({error}); give a writable "
                "folder with --cache."
            ) from None
        return path


def _layer_digest(target: RegistryTarget, manifest_bytes: bytes) -> str:
    """The one `application/wasm` layer's digest, after the checks `oci_wasm` makes."""
    try:
        manifest = json.loads(manifest_bytes)
        config_type = manifest["config"]["mediaType"]
        layers = manifest["layers"]
    except (ValueError, KeyError, TypeError):
        raise RegistryError(
            f"{target.reference}: the registry's manifest is not an OCI image manifest."
        ) from None
    if config_type != CONFIG_MEDIA_TYPE:
        raise RegistryError(
            f"{target.reference} is not a Wasm component artifact (its config is "
            f"{config_type!r}, not {CONFIG_MEDIA_TYPE}); publish it with `workbench publish`."
        )
    wasm = [layer for layer in layers if layer.get("mediaType") == LAYER_MEDIA_TYPE]
    if len(layers) != 1 or len(wasm) != 1:
        raise RegistryError(
            f"{target.reference} has {len(layers)} layers; a skill has exactly one, of media "
            f"type {LAYER_MEDIA_TYPE}."
        )
    return str(wasm[0].get("digest", ""))
