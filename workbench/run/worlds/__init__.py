"""The worlds the workbench runs, as data: one table per version line of `pharia:skill`.

A component's world is found as the kernel finds it (its `src/wasm.rs`): from its exports,
the first `pharia:skill/skill-handler@0.X.Y` or `pharia:skill/message-stream@0.X.Y`; the
line is `0.X`, and a patch newer than the line's newest is "not supported yet". The seed's
unversioned world (a root-level `run: func(string) -> string`), which kernels refused from
0.4 on, is still run here. Imports are matched by major.minor, as wasmtime's linker does for
the kernel: a skill built against 0.3.6 runs on the 0.3.11 tables.

To add a world version: write a module beside v0_4.py with a `WorldLine` (the newest
package version, an `Interface` per imported interface naming the CSI function behind each
WIT function and how values cross, the message-item conversion, which kernels load it) and
add it to `LINES`. Nothing else changes: the runtime links whatever the table says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from workbench.errors import ComponentError
from workbench.run.worlds.table import (
    HostFunction,
    HostStream,
    Interface,
    World,
    WorldLine,
)
from workbench.run.worlds.v0_2 import V0_2
from workbench.run.worlds.v0_3 import V0_3
from workbench.run.worlds.v0_4 import V0_4, V0_5

__all__ = [
    "LINES",
    "SEED",
    "HostFunction",
    "HostStream",
    "Interface",
    "World",
    "WorldLine",
    "describe_component",
    "detect_world",
    "interface_of",
]

#: The seed's world: `package pharia:skill; world skill { import csi; export run: ... }`.
SEED = WorldLine(
    version="",
    interfaces={
        "csi": Interface(
            functions={
                "complete-text": HostFunction(
                    "complete_text",
                    request=lambda a: {"prompt": a["prompt"], "model": a["model"]},
                )
            }
        )
    },
    kernels=((0, "only Pharia Kernels before 0.4: today's kernels refuse it"),),
)

#: Every versioned line, by "major.minor".
LINES: dict[str, WorldLine] = {line.line: line for line in (V0_2, V0_3, V0_4, V0_5)}

_PACKAGE = "pharia:skill"
_EXPORT = re.compile(
    r"^pharia:skill/(?P<interface>skill-handler|message-stream)@(?P<version>\d+\.\d+\.\d+\S*)$"
)
_IMPORT = re.compile(r"^pharia:skill/(?P<interface>[a-z0-9-]+)(?:@(?P<version>\S+))?$")
WASI_PREFIX = "wasi:"
#: componentize-py's own init interface, in every component it builds.
_COMPONENTIZE_EXPORT = "exports"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("-")[0])[:3])


def detect_world(imports: Iterable[str], exports: Mapping[str, object]) -> World:
    """The world of a component with these import and export names, or a ComponentError
    that says, as the kernel would, why it cannot be run."""
    for name in exports:
        found = _EXPORT.match(name)
        if found is None:
            continue
        version = found.group("version")
        major, minor, patch = _version(version)
        line = LINES.get(f"{major}.{minor}")
        newest = max(_version(known.version) for known in LINES.values())
        if line is None:
            if (major, minor, patch) > newest:
                raise ComponentError(
                    f"The component targets pharia:skill@{version}, newer than any world the "
                    "workbench knows (0.2 to 0.5); update the workbench, or build it with an "
                    "older SDK."
                )
            raise ComponentError(
                f"The component targets pharia:skill@{version}, which kernels no longer load; "
                "rebuild it with a current SDK (pharia:skill@0.3 or later)."
            )
        if patch > _version(line.version)[2]:
            raise ComponentError(
                f"The component targets pharia:skill@{version}, newer than the {line.version} "
                "the workbench knows; update the workbench, or build it with an older SDK."
            )
        if found.group("interface") == "message-stream" and line.message_item is None:
            continue
        kind = "message-stream" if found.group("interface") == "message-stream" else "function"
        return World(line=line, kind=kind, export=name, version=version)
    if "run" in exports and any(_is_seed_import(name) for name in imports):
        return World(line=SEED, kind="seed", export="", version="")
    if "run" in exports and not [n for n in imports if not n.startswith(WASI_PREFIX)]:
        return World(line=SEED, kind="seed", export="", version="")
    raise ComponentError(
        "The component does not use a pharia:skill world the kernel loads (it "
        f"{describe_component(imports, exports)}); build it from the SDK, or for a world "
        "such as pharia:skill@0.3 (`skill-handler` or `message-stream`)."
    )


def _is_seed_import(name: str) -> bool:
    return name == f"{_PACKAGE}/csi"


def interface_of(world: World, import_name: str) -> Interface:
    """The table for one of the component's imports, matched by major.minor."""
    found = _IMPORT.match(import_name)
    if found is not None:
        wanted = found.group("version") or ""
        same_line = _version(wanted)[:2] == _version(world.line.version)[:2]
        interface = world.line.interfaces.get(found.group("interface"))
        if interface is not None and same_line:
            return interface
    served = world.line.version or "the seed's"
    raise ComponentError(
        f"The component imports `{import_name}`, which a {world.name} skill cannot use "
        f"(the workbench serves pharia:skill {served} interfaces: "
        f"{', '.join(sorted(world.line.interfaces))}); rebuild it against one WIT version."
    )


def describe_component(imports: Iterable[str], exports: Iterable[str]) -> str:
    """What a component looks like, for an error that says what was found."""
    own_imports = [name for name in imports if not name.startswith(WASI_PREFIX)]
    own_exports = [name for name in exports if name != _COMPONENTIZE_EXPORT]
    return (
        f"exports {', '.join(own_exports) or 'nothing'}; "
        f"imports {', '.join(own_imports) or 'only WASI'}"
    )
