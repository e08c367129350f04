"""The OCI artifact a Pharia Kernel pulls: exactly what pharia-skill-cli writes.

One `application/wasm` layer (the component) and a config of media type
`application/vnd.wasm.config.v0+json` whose `component.exports/imports` are wasmtime's names
for the component's exports and imports, in wasmtime's order. Both documents are compact JSON
in a fixed key order, so the same component with the same `created` always has the same
manifest digest (and a kernel does not reload it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

CONFIG_MEDIA_TYPE = "application/vnd.wasm.config.v0+json"
LAYER_MEDIA_TYPE = "application/wasm"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compact(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def now_rfc3339() -> str:
    """UTC with nanoseconds, as the Rust tools write it: 2026-11-25T13:36:11.123456789Z."""
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 1000:09d}Z"


@dataclass(frozen=True)
class Artifact:
    layer: bytes
    config: bytes
    manifest: bytes
    #: Hashed once: a component is tens of megabytes.
    layer_digest: str

    @property
    def config_digest(self) -> str:
        return digest_of(self.config)

    @property
    def manifest_digest(self) -> str:
        return digest_of(self.manifest)


def build_artifact(
    component: bytes, imports: list[str], exports: list[str], created: str | None = None
) -> Artifact:
    layer_digest = digest_of(component)
    config = compact(
        {
            "created": created or now_rfc3339(),
            "author": None,
            "architecture": "wasm",
            "os": "wasip2",
            "layerDigests": [layer_digest],
            "component": {"exports": exports, "imports": imports, "target": None},
        }
    )
    manifest = compact(
        {
            "config": {
                "digest": digest_of(config),
                "mediaType": CONFIG_MEDIA_TYPE,
                "size": len(config),
            },
            "layers": [
                {"digest": layer_digest, "mediaType": LAYER_MEDIA_TYPE, "size": len(component)}
            ],
            "mediaType": MANIFEST_MEDIA_TYPE,
            "schemaVersion": 2,
        }
    )
    return Artifact(component, config, manifest, layer_digest)
