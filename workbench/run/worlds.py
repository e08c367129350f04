"""The host side of each skill world, as data.

A `World` says which imports the host provides (interface name -> function name -> host
function built from the `CsiHost`), where the `run` export lives, and how its input and
output are encoded. The runtime reads a component's imports and exports and picks the world
that fits; supporting another world means adding a `World` to `KNOWN_WORLDS`, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wasmtime.component import ComponentInstanceType, FuncType, String

from workbench.run.csi import CsiHost

#: A host function as the linker calls it: (store, *arguments) -> result.
HostFunction = Callable[..., Any]
HostFactory = Callable[[CsiHost], HostFunction]

#: Every component built by componentize-py also imports WASI; the runtime always links it.
WASI_PREFIX = "wasi:"


@dataclass(frozen=True)
class World:
    name: str
    #: One line for error messages: what this world exports and imports.
    signature: str
    host_imports: Mapping[str, Mapping[str, HostFactory]]
    #: Export names leading to the `run` function: ("run",) or (interface, "run").
    run_path: tuple[str, ...]
    run_accepts: Callable[[FuncType], bool]
    encode_input: Callable[[str], Any]
    decode_output: Callable[[Any], str]

    def mismatch(
        self, imports: Mapping[str, Any], exports: Mapping[str, Any], engine: Any
    ) -> str | None:
        """Why a component with these imports/exports cannot run as this world, or None."""
        run = _find_export(exports, self.run_path, engine)
        if run is None:
            return f"it does not export `{'/'.join(self.run_path)}`"
        if not isinstance(run, FuncType) or not self.run_accepts(run):
            return f"its `{'/'.join(self.run_path)}` export has another signature"
        for name, item in imports.items():
            if name.startswith(WASI_PREFIX):
                continue
            provided = self.host_imports.get(name)
            if provided is None:
                return f"it imports `{name}`, which this world does not provide"
            if isinstance(item.ty, ComponentInstanceType):
                missing = set(item.ty.exports(engine)) - set(provided)
                if missing:
                    return f"it imports `{name}#{sorted(missing)[0]}`, which is not provided"
        return None


def _find_export(exports: Mapping[str, Any], path: tuple[str, ...], engine: Any) -> Any:
    item: Any = None
    level: Mapping[str, Any] = exports
    for name in path:
        found = level.get(name)
        if found is None:
            return None
        item = found.ty
        if isinstance(item, ComponentInstanceType):
            level = item.exports(engine)
    return item


def _string_to_string(func: FuncType) -> bool:
    params = func.params
    return len(params) == 1 and isinstance(params[0][1], String) and isinstance(func.result, String)


def _identity(value: Any) -> Any:
    return value


#: The seed's world: `package pharia:skill; world skill { import csi; export run: ... }`.
SEED_WORLD = World(
    name="pharia:skill/skill",
    signature="exports run: func(in: string) -> string; imports pharia:skill/csi",
    host_imports={
        "pharia:skill/csi": {
            "complete-text": lambda csi: (
                lambda _store, prompt, model: csi.complete_text(prompt, model)
            ),
        },
    },
    run_path=("run",),
    run_accepts=_string_to_string,
    encode_input=_identity,
    decode_output=_identity,
)

KNOWN_WORLDS: tuple[World, ...] = (SEED_WORLD,)


def describe_component(imports: Mapping[str, Any], exports: Mapping[str, Any]) -> str:
    """What a component looks like, for an error that says what was found."""
    own_imports = [name for name in imports if not name.startswith(WASI_PREFIX)]
    own_exports = [name for name in exports if name != "exports"]  # componentize-py's init
    return (
        f"exports {', '.join(own_exports) or 'nothing'}; "
        f"imports {', '.join(own_imports) or 'only WASI'}"
    )
