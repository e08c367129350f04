"""The shape of a world table: what the host serves for one version line of `pharia:skill`.

A `WorldLine` is to the workbench what one `wit/skill@0.X` folder and its `src/wasm/v0_X`
host are to the kernel: for every imported interface, each function names the CSI function
that serves it (as `/csi/v1` names it) and says how its arguments become that function's
request and how the answer becomes the function's result. Values on both sides are plain
Python (see run/wit_values.py); the exact WIT types come from the component itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: A WIT value as plain Python (dicts, lists, str, bytes, numbers, None).
Plain = Any
#: A call's arguments by parameter name, in snake_case.
Arguments = dict[str, Plain]
#: A CSI request or response, as the kernel's `/csi/v1` JSON (parsed).
CsiJson = Any


def only_argument(arguments: Arguments) -> CsiJson:
    """Most CSI functions take one argument (a batch of requests): it is the request."""
    (value,) = arguments.values()
    return value


def unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class HostFunction:
    #: The CSI function that serves it, by its `/csi/v1` name (e.g. "complete").
    csi: str
    request: Callable[[Arguments], CsiJson] = only_argument
    response: Callable[[CsiJson], Plain] = unchanged


@dataclass(frozen=True)
class HostStream:
    """A resource the guest constructs (`completion-stream`, `chat-stream`): its constructor
    opens a CSI stream, each `next` takes the next event the world can express."""

    csi: str
    request: Callable[[Plain], CsiJson]
    #: A CSI event ({"event": name, "data": ...}) as the world's event; None skips it.
    event: Callable[[dict[str, Any]], Plain | None]


@dataclass(frozen=True)
class Interface:
    functions: Mapping[str, HostFunction] = field(default_factory=dict)
    streams: Mapping[str, HostStream] = field(default_factory=dict)


@dataclass(frozen=True)
class WorldLine:
    """One version line of the skill package: its newest version and the host it needs."""

    #: The package version the tables follow: the newest patch of the line, e.g. "0.3.11";
    #: "" for the seed's unversioned package.
    version: str
    interfaces: Mapping[str, Interface]
    #: A `message-item` the skill wrote, as the kernel's stream event (message-stream lines).
    message_item: Callable[[Plain], dict[str, Any]] | None = None
    #: Which kernels load it, by the lowest patch that needs them, newest first.
    kernels: tuple[tuple[int, str], ...] = ()

    @property
    def line(self) -> str:
        return ".".join(self.version.split(".")[:2])

    def kernels_for(self, patch: int) -> str:
        for lowest, kernels in self.kernels:
            if patch >= lowest:
                return kernels
        return self.kernels[-1][1] if self.kernels else "no kernel in use today"


SkillKind = Literal["seed", "function", "message-stream"]


@dataclass(frozen=True)
class World:
    """The world one component targets, found from its exports."""

    line: WorldLine
    kind: SkillKind
    #: The component's export that holds `run` ("" for the seed's root-level `run`).
    export: str
    #: The component's own package version (its patch may be older than the line's).
    version: str

    @property
    def name(self) -> str:
        if self.kind == "seed":
            return "pharia:skill/skill"
        world = "message-stream-skill" if self.kind == "message-stream" else "skill"
        return f"pharia:skill@{self.version}/{world}"

    @property
    def takes_json(self) -> bool:
        return self.kind != "seed"

    @property
    def kernels(self) -> str:
        patch = int(self.version.split(".")[2]) if self.version.count(".") == 2 else 0
        return self.line.kernels_for(patch)
