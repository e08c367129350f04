"""Run a skill component in wasmtime: one engine with a compile cache, one fresh store per run.

The skill gets an empty sandbox: no files, no environment, no sockets. Its stdout and stderr
are captured, its CSI imports are linked from its world's table (run/worlds/), a message
stream's messages are passed on as they are written, and every run is bounded by a timeout
and a memory limit. Runs on one runtime proceed at once, each on its caller's thread: the
engine's epoch ticks for all of them and each store decides on every tick whether its own run
goes on (run/deadlines.py), so a timeout or a cancel stops only its own run.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmtime import Config, Engine, Store, WasiConfig, WasmtimeError
from wasmtime.component import Component, ResourceHost

from workbench.csi.host import CsiHost
from workbench.errors import ComponentError
from workbench.run.captured_output import CapturedOutput, OutputListener
from workbench.run.captured_output import Stream as Stream  # the front-ends name it here
from workbench.run.deadlines import EpochClock
from workbench.run.failures import explain_failure
from workbench.run.linking import (
    STREAM_OUTPUT_TYPE,
    LinkPlan,
    MessageSink,
    make_linker,
    plan_links,
)
from workbench.run.results import RunLimits as RunLimits  # the app names them here
from workbench.run.results import RunResult as RunResult
from workbench.run.results import RunTimings
from workbench.run.skill_io import SkillMetadata, decode_output, encode_input
from workbench.run.wit_values import to_plain
from workbench.run.worlds import World, detect_world


@dataclass(frozen=True)
class LoadedComponent:
    path: Path
    component: Component
    world: World
    plan: LinkPlan
    imports: tuple[str, ...]
    exports: tuple[str, ...]


def _settle_wasmtime_threads() -> None:
    # wasmtime's output callbacks run on its own threads; letting them finish before the
    # interpreter shuts down avoids a Rust "panic in a function that cannot unwind" at exit.
    time.sleep(0.01)


#: How long a skill's metadata() may take (it only returns what the build computed).
METADATA_TIMEOUT = 10.0


class SkillRuntime:
    """Loads and runs skill components. Thread-safe: runs on one runtime proceed at once."""

    _exit_hook_installed = False

    def __init__(self) -> None:
        config = Config()
        config.cache = True  # compiled code is cached on disk under $XDG_CACHE_HOME/wasmtime
        config.epoch_interruption = True
        self.engine = Engine(config)
        self._loaded: dict[tuple[Path, int, int], LoadedComponent] = {}
        self._load_lock = threading.Lock()
        self._clock = EpochClock(self.engine)
        if not SkillRuntime._exit_hook_installed:
            atexit.register(_settle_wasmtime_threads)
            SkillRuntime._exit_hook_installed = True

    @staticmethod
    def _cache_key(path: Path) -> tuple[Path, int, int]:
        try:
            stat = path.stat()
        except OSError:
            raise ComponentError(
                f"There is no component at {path}; build the skill first (`workbench build`)."
            ) from None
        return (path.resolve(), stat.st_mtime_ns, stat.st_size)

    def load(self, path: Path, expected_world: str | None = None) -> LoadedComponent:
        """Compile (or fetch from cache) the component at `path`, find its world and check
        that the world's tables serve every import."""
        key = self._cache_key(path)
        with self._load_lock:
            if key in self._loaded:
                return self._loaded[key]
            component = self._compile(path)
            imports = component.type.imports(self.engine)
            exports = component.type.exports(self.engine)
            world = self._choose_world(path, imports, exports, expected_world)
            try:
                plan = plan_links(self.engine, world, imports)
            except ComponentError as error:
                raise ComponentError(f"{path.name}: {error}") from None
            loaded = LoadedComponent(path, component, world, plan, tuple(imports), tuple(exports))
            self._loaded = {k: v for k, v in self._loaded.items() if k[0] != key[0]}
            self._loaded[key] = loaded
            return loaded

    def component_interface(self, path: Path) -> tuple[list[str], list[str]]:
        """The component's import and export names, in wasmtime's order, from compiling it:
        the reference run/component_names.py is checked against (publishing reads those).
        Uses the compile cache; does not require a world this runtime can run."""
        key = self._cache_key(path)
        with self._load_lock:
            loaded = self._loaded.get(key)
        if loaded is not None:
            return list(loaded.imports), list(loaded.exports)
        component = self._compile(path)
        imports = list(component.type.imports(self.engine))
        return imports, list(component.type.exports(self.engine))

    def _compile(self, path: Path) -> Component:
        try:
            return Component.from_file(self.engine, str(path))
        except WasmtimeError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "unknown"
            raise ComponentError(
                f"{path} is not a valid WebAssembly component ({first}); "
                "rebuild it with `workbench build --force`."
            ) from None

    def _choose_world(
        self, path: Path, imports: Any, exports: Any, expected_world: str | None
    ) -> World:
        try:
            return detect_world(imports, exports)
        except ComponentError as error:
            expected = f" (the project expects `{expected_world}`)" if expected_world else ""
            raise ComponentError(f"{path.name}{expected}: {error}") from None

    def run(
        self,
        component_path: Path,
        input: str,
        host: CsiHost,
        *,
        limits: RunLimits | None = None,
        expected_world: str | None = None,
        sandbox_paths: Sequence[Path] = (),
        on_output: OutputListener | None = None,
        on_message: MessageSink | None = None,
    ) -> RunResult:
        """Run the component's `run` with `input`. Never raises for a user's error: the
        returned result carries it. `sandbox_paths` map the guest's `/N/` paths back;
        `on_message` hears each message a message-stream skill writes, as it writes it."""
        limits = limits or RunLimits()
        result = RunResult(
            input=input,
            component=component_path,
            model_override=host.model_override,
            csi_calls=host.calls,
        )
        started = time.perf_counter()
        try:
            loaded = self.load(component_path, expected_world)
        except ComponentError as error:
            result.error = error
            return result
        load_seconds = time.perf_counter() - started
        result.world = loaded.world.name
        result.skill_kind = loaded.world.kind
        self._run_loaded(loaded, input, host, limits, sandbox_paths, on_output, on_message, result)
        result.timings = RunTimings(load_seconds, result.timings.instantiate, result.timings.run)
        return result

    def _run_loaded(
        self,
        loaded: LoadedComponent,
        input: str,
        host: CsiHost,
        limits: RunLimits,
        sandbox_paths: Sequence[Path],
        on_output: OutputListener | None,
        on_message: MessageSink | None,
        result: RunResult,
    ) -> None:
        captured = CapturedOutput(on_output, sandbox_paths, limits.max_prints)
        world = loaded.world

        def message(event: dict[str, Any]) -> None:
            result.messages.append(event)
            if on_message is not None:
                with contextlib.suppress(Exception):  # a listener's bug must not break the run
                    on_message(event)

        store = Store(self.engine)
        wasi = WasiConfig()  # no preopens, no env, no network: keep it that way
        wasi.stdout_custom = lambda data: captured.write("stdout", data)
        wasi.stderr_custom = lambda data: captured.write("stderr", data)
        store.set_wasi(wasi)
        store.set_limits(memory_size=limits.memory_limit)
        # On stop, a model call in progress stops waiting; the store traps on the next tick.
        deadline = self._clock.start(limits.timeout, lambda _reason: host.stopped.set())
        guard = deadline.guard(store)
        stop_listening = host.cancel.add_listener(lambda: deadline.stop("cancelled"))
        instantiate = run = 0.0
        failure: Exception | None = None
        t0 = time.perf_counter()
        try:
            arguments = [encode_input(world, input)]
            linker = make_linker(self.engine, loaded.plan, host, message)
            if world.kind == "message-stream":
                host.stream_tool_events(message)
            instance = linker.instantiate(store, loaded.component)
            t1 = time.perf_counter()
            instantiate = t1 - t0
            func = _find_export(instance, store, world, "run")
            if world.kind == "message-stream":
                arguments.append(ResourceHost.own(1, STREAM_OUTPUT_TYPE))
            raw = func(store, *arguments)
            plain = to_plain(raw, func.type(store).result) if world.kind != "seed" else raw
            func.post_return(store)
            run = time.perf_counter() - t1
            result.output = decode_output(world, plain, result.messages, sandbox_paths)
        except Exception as error:  # every failure becomes a result, never a traceback
            run = time.perf_counter() - t0 - instantiate
            failure = error
        finally:
            self._clock.finish(deadline)
            stop_listening()
            host.stream_tool_events(None)
            store.close()
            del guard  # wasmtime calls it no more once the store is closed
            time.sleep(0.001)  # see _settle_wasmtime_threads
        # Only now has the guest written its last: its unended last line is part of stderr,
        # of what the listener is told and of what explains a failure.
        captured.finish()
        result.stdout = captured.text("stdout")
        result.stderr = captured.text("stderr")
        if failure is not None:
            used = time.perf_counter() - t0
            result.error = explain_failure(
                failure,
                deadline.stopped_because,
                result.stderr,
                limits,
                used,
                host.stopped_waiting_for,
            )
        result.timings = RunTimings(0.0, instantiate, run)

    def metadata(self, component_path: Path) -> SkillMetadata | None:
        """What a skill says about itself (`metadata()` of 0.3 and later `skill-handler`
        skills); None for a world without it. Raises ComponentError if it cannot be read."""
        loaded = self.load(component_path)
        if loaded.world.kind != "function" or loaded.world.line.line == "0.2":
            return None
        store = Store(self.engine)
        store.set_wasi(WasiConfig())
        deadline = self._clock.start(METADATA_TIMEOUT)
        guard = deadline.guard(store)
        try:
            linker = make_linker(self.engine, loaded.plan, CsiHost(_NoModel()), lambda _e: None)
            instance = linker.instantiate(store, loaded.component)
            func = _find_export(instance, store, loaded.world, "metadata")
            plain = to_plain(func(store), func.type(store).result)
            func.post_return(store)
        except Exception as error:  # a skill whose metadata traps: say so, once
            if deadline.stopped:
                raise ComponentError(
                    f"{component_path.name}: its metadata() did not answer within "
                    f"{METADATA_TIMEOUT:g} s; check the skill's description and schemas."
                ) from None
            raise ComponentError(
                f"{component_path.name}: its metadata() failed ({_first_line(error)}); "
                "check the skill's description and schemas."
            ) from None
        finally:
            self._clock.finish(deadline)
            store.close()
            del guard
        return SkillMetadata.from_plain(plain)


class _NoModel:
    """The provider behind metadata(): a skill must not call the CSI there (the kernel
    refuses it too: `CsiUseFromMetadata`)."""

    kind = "none"
    OFFLINE = True
    name = "metadata"

    def __getattr__(self, name: str) -> Any:
        raise ComponentError("The skill used the CSI while describing itself in metadata().")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _find_export(instance: Any, store: Store, world: World, name: str) -> Any:
    index = instance.get_export_index(store, world.export) if world.export else None
    if world.export and index is None:
        raise ComponentError(f"The component has no `{world.export}` export.")
    index = instance.get_export_index(store, name, index)
    func = instance.get_func(store, index) if index is not None else None
    if func is None:
        where = f"{world.export}#{name}" if world.export else name
        raise ComponentError(f"The component has no `{where}` function.")
    return func
