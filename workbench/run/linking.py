"""Link a component's imports to the host, following its world's table.

`plan_links` reads the component's imports once, when it is loaded: every function the
component imports must be in the table (or the component is refused before it runs), and
the exact WIT types are kept for converting values. `make_linker` then builds, per run, a
wasmtime linker whose host functions convert the guest's values to plain Python, ask the
`CsiCaller` (the CSI host, or the worker's line to it) and convert the answer back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from wasmtime import Engine
from wasmtime.component import (
    ComponentInstanceType,
    FuncType,
    Linker,
    LinkerInstance,
    ResourceAny,
    ResourceHost,
    ResourceType,
)

from workbench.errors import ComponentError, InvalidOutput
from workbench.run.wit_values import from_plain, snake, to_plain
from workbench.run.worlds import WASI_PREFIX, HostFunction, HostStream, World, interface_of

#: The resource the host hands a message-stream skill's `run` to write its messages to.
STREAM_OUTPUT = "stream-output"
STREAM_OUTPUT_TYPE = 1
_WRITE = f"[method]{STREAM_OUTPUT}.write"


class CsiCaller(Protocol):
    """What a linked component's CSI imports call (see workbench/csi/host.py)."""

    def call(self, function: str, request: Any, label: str) -> Any: ...

    def open_stream(self, function: str, request: Any, label: str) -> int: ...

    def next_event(self, stream: int) -> dict[str, Any] | None: ...

    def close_stream(self, stream: int) -> None: ...


#: Receives each message event a message-stream skill writes (`{"type": "begin"|...}`).
MessageSink = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class _Function:
    name: str
    binding: HostFunction
    ty: FuncType


@dataclass(frozen=True)
class _Stream:
    resource: str
    binding: HostStream
    type_id: int
    init: FuncType
    next: FuncType


@dataclass(frozen=True)
class _Import:
    name: str
    functions: tuple[_Function, ...]
    streams: tuple[_Stream, ...]
    #: The `write` method's type, for the interface that holds `stream-output`.
    write: FuncType | None


@dataclass(frozen=True)
class LinkPlan:
    world: World
    imports: tuple[_Import, ...]


def plan_links(engine: Engine, world: World, imports: Mapping[str, Any]) -> LinkPlan:
    """Check every import against the world's table; a gap is a ComponentError now."""
    planned = []
    next_type_id = STREAM_OUTPUT_TYPE + 1
    for name, extern in imports.items():
        if name.startswith(WASI_PREFIX):
            continue
        interface = interface_of(world, name)
        ty = extern.ty
        if not isinstance(ty, ComponentInstanceType):
            raise ComponentError(
                f"The component imports `{name}` as something other than an interface."
            )
        items = {item_name: item.ty for item_name, item in ty.exports(engine).items()}
        functions, streams, write = [], [], None
        for item_name, item in items.items():
            if not isinstance(item, FuncType) or item_name.startswith("["):
                continue
            binding = interface.functions.get(item_name)
            if binding is None:
                raise _missing(world, name, item_name)
            functions.append(_Function(item_name, binding, item))
        for resource in [n for n, item in items.items() if isinstance(item, ResourceType)]:
            if resource == STREAM_OUTPUT and world.kind == "message-stream":
                write = items.get(_WRITE)
                continue
            binding = interface.streams.get(resource)
            init, step = (
                items.get(f"[constructor]{resource}"),
                items.get(f"[method]{resource}.next"),
            )
            if binding is None or not isinstance(init, FuncType) or not isinstance(step, FuncType):
                raise _missing(world, name, resource)
            streams.append(_Stream(resource, binding, next_type_id, init, step))
            next_type_id += 1
        planned.append(_Import(name, tuple(functions), tuple(streams), write))
    return LinkPlan(world, tuple(planned))


def _missing(world: World, interface: str, item: str) -> ComponentError:
    return ComponentError(
        f"The component imports `{interface}#{item}`, which {world.name} does not have; "
        "rebuild it against the WIT of one released world version."
    )


def make_linker(
    engine: Engine, plan: LinkPlan, caller: CsiCaller, on_message: MessageSink
) -> Linker:
    linker = Linker(engine)
    linker.add_wasip2()
    with linker.root() as root:
        for planned in plan.imports:
            with root.add_instance(planned.name) as instance:
                for function in planned.functions:
                    instance.add_func(function.name, _host_function(function, caller))
                for stream in planned.streams:
                    _add_stream(instance, stream, caller)
                if planned.write is not None:
                    _add_stream_output(instance, planned.write, plan.world, on_message)
    return linker


def _host_function(function: _Function, caller: CsiCaller) -> Callable[..., Any]:
    params, result, binding = function.ty.params, function.ty.result, function.binding

    def call(_store: Any, *args: Any) -> Any:
        arguments = {
            snake(name): to_plain(arg, ty) for (name, ty), arg in zip(params, args, strict=True)
        }
        answer = caller.call(binding.csi, binding.request(arguments), function.name)
        return None if result is None else from_plain(binding.response(answer), result)

    return call


def _add_stream(instance: LinkerInstance, stream: _Stream, caller: CsiCaller) -> None:
    binding, init_type = stream.binding, stream.init.params[0][1]
    event_type = stream.next.result

    def construct(_store: Any, init: Any) -> ResourceHost:
        request = binding.request(to_plain(init, init_type))
        return ResourceHost.own(
            caller.open_stream(binding.csi, request, stream.resource), stream.type_id
        )

    def next_event(store: Any, handle: ResourceAny) -> Any:
        # The guest keeps its handle: this borrow must not be dropped here.
        rep = handle.to_host(store).rep
        while True:
            event = caller.next_event(rep)
            if event is None:
                return None
            plain = binding.event(event)
            if plain is not None:
                return from_plain(plain, event_type)

    instance.add_resource(
        stream.resource,
        ResourceType.host(stream.type_id),
        lambda _store, rep: caller.close_stream(rep),
    )
    instance.add_func(f"[constructor]{stream.resource}", construct)
    instance.add_func(f"[method]{stream.resource}.next", next_event)


class MessageOrder:
    """The kernel's rule for a message stream: begin, then appends and reasoning, then end."""

    def __init__(self) -> None:
        self.open = False
        self.lock = threading.Lock()

    def check(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        with self.lock:
            if kind == "begin" and self.open:
                raise InvalidOutput(
                    "The skill began a message while another was open; end it first (end_message)."
                )
            if kind in ("append", "reasoning", "end") and not self.open:
                raise InvalidOutput(
                    f"The skill wrote a message {kind} before beginning a message; call "
                    "begin_message first."
                )
            self.open = kind != "end" and (self.open or kind == "begin")


def _add_stream_output(
    instance: LinkerInstance, write: FuncType, world: World, on_message: MessageSink
) -> None:
    item_type = write.params[1][1]
    convert = world.line.message_item
    assert convert is not None  # message-stream lines always have one
    order = MessageOrder()

    def write_item(store: Any, handle: ResourceAny, item: Any) -> None:
        try:
            event = convert(to_plain(item, item_type))
            order.check(event)
            on_message(event)
        finally:
            handle.drop(store)  # wasmtime refuses a call that returns with the borrow held

    instance.add_resource(STREAM_OUTPUT, ResourceType.host(STREAM_OUTPUT_TYPE), lambda _s, _r: None)
    instance.add_func(_WRITE, write_item)
