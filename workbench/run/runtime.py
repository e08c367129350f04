"""Run a skill component in wasmtime: one engine with a compile cache, one fresh store per run.

The skill gets an empty sandbox: no files, no environment, no sockets. Its stdout and stderr
are captured, its CSI imports are served by the world's host table, and every run is bounded
by a timeout and a memory limit. Epoch interruption is engine-wide, so runs on one runtime
are serialized and each run owns the epoch while it lasts.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasmtime import Config, Engine, Store, WasiConfig, WasmtimeError
from wasmtime.component import Component, Linker

from workbench.errors import (
    ComponentError,
    WorkbenchError,
)
from workbench.project.model import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT
from workbench.run.captured_output import DEFAULT_MAX_PRINTS, CapturedOutput, OutputListener
from workbench.run.captured_output import Stream as Stream  # the front-ends name it here
from workbench.run.csi import CsiCall, CsiHost
from workbench.run.failures import explain_failure
from workbench.run.worlds import KNOWN_WORLDS, World, describe_component


@dataclass(frozen=True)
class RunLimits:
    timeout: float = DEFAULT_TIMEOUT
    memory_limit: int = DEFAULT_MEMORY_LIMIT
    #: Bytes of the skill's prints kept (stdout and stderr together).
    max_prints: int = DEFAULT_MAX_PRINTS


@dataclass(frozen=True)
class LoadedComponent:
    path: Path
    component: Component
    world: World
    imports: tuple[str, ...]
    exports: tuple[str, ...]


@dataclass(frozen=True)
class RunTimings:
    load: float = 0.0
    instantiate: float = 0.0
    run: float = 0.0


@dataclass
class RunResult:
    """Everything one run produced. `error` is None exactly when `output` is set."""

    input: str
    component: Path
    output: str | None = None
    stdout: str = ""
    stderr: str = ""
    csi_calls: list[CsiCall] = field(default_factory=list)
    timings: RunTimings = field(default_factory=RunTimings)
    world: str | None = None
    model_override: str | None = None
    #: The provider that served the run's CSI calls.
    provider: str | None = None
    error: WorkbenchError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        error = None
        if self.error is not None:
            error = {
                "kind": self.error.kind,
                "message": self.error.message,
                "details": getattr(self.error, "details", ""),
                "diagnostics": [d.format() for d in getattr(self.error, "diagnostics", ())],
            }
        return {
            "ok": self.ok,
            "input": self.input,
            "output": self.output,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "csi_calls": [call.to_dict() for call in self.csi_calls],
            "timings": vars(self.timings),
            "world": self.world,
            "model_override": self.model_override,
            "provider": self.provider,
            "component": str(self.component),
            "error": error,
        }


def _settle_wasmtime_threads() -> None:
    # wasmtime's output callbacks run on its own threads; letting them finish before the
    # interpreter shuts down avoids a Rust "panic in a function that cannot unwind" at exit.
    time.sleep(0.01)


class SkillRuntime:
    """Loads and runs skill components. Thread-safe; runs on one runtime take turns."""

    _exit_hook_installed = False

    def __init__(self) -> None:
        config = Config()
        config.cache = True  # compiled code is cached on disk under $XDG_CACHE_HOME/wasmtime
        config.epoch_interruption = True
        self.engine = Engine(config)
        self._loaded: dict[tuple[Path, int, int], LoadedComponent] = {}
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
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
        """Compile (or fetch from cache) the component at `path` and find its world."""
        key = self._cache_key(path)
        with self._load_lock:
            if key in self._loaded:
                return self._loaded[key]
            component = self._compile(path)
            imports = component.type.imports(self.engine)
            exports = component.type.exports(self.engine)
            world = self._choose_world(path, imports, exports, expected_world)
            loaded = LoadedComponent(path, component, world, tuple(imports), tuple(exports))
            self._loaded = {k: v for k, v in self._loaded.items() if k[0] != key[0]}
            self._loaded[key] = loaded
            return loaded

    def component_interface(self, path: Path) -> tuple[list[str], list[str]]:
        """The component's import and export names, in wasmtime's order (for publishing).
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
        reasons = []
        for world in KNOWN_WORLDS:
            reason = world.mismatch(imports, exports, self.engine)
            if reason is None:
                return world
            reasons.append(f"as {world.name} ({world.signature}) {reason}")
        expected = f"the world `{expected_world}`" if expected_world else "a skill world"
        raise ComponentError(
            f"{path.name} does not target {expected}: {'; '.join(reasons)}; the component "
            f"{describe_component(imports, exports)}. Check the WIT world it was built from."
        )

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
    ) -> RunResult:
        """Run the component's `run` with `input`. Never raises for a user's error: the
        returned result carries it. `sandbox_paths` map the guest's `/N/` paths back."""
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
        with self._run_lock:
            self._run_locked(loaded, input, host, limits, sandbox_paths, on_output, result)
        result.timings = RunTimings(load_seconds, result.timings.instantiate, result.timings.run)
        return result

    def _run_locked(
        self,
        loaded: LoadedComponent,
        input: str,
        host: CsiHost,
        limits: RunLimits,
        sandbox_paths: Sequence[Path],
        on_output: OutputListener | None,
        result: RunResult,
    ) -> None:
        captured = CapturedOutput(on_output, sandbox_paths, limits.max_prints)
        stopped_because: list[str] = []

        def interrupt(reason: str) -> None:
            if not stopped_because:
                stopped_because.append(reason)
                host.stopped.set()  # a model call in progress stops waiting
                self.engine.increment_epoch()

        store = Store(self.engine)
        wasi = WasiConfig()  # no preopens, no env, no network: keep it that way
        wasi.stdout_custom = lambda data: captured.write("stdout", data)
        wasi.stderr_custom = lambda data: captured.write("stderr", data)
        store.set_wasi(wasi)
        store.set_epoch_deadline(1)  # the next increment, made only for this run, stops it
        store.set_limits(memory_size=limits.memory_limit)
        timer = threading.Timer(limits.timeout, interrupt, ("timeout",))
        timer.daemon = True
        stop_listening = host.cancel.add_listener(lambda: interrupt("cancelled"))
        instantiate = run = 0.0
        failure: Exception | None = None
        t0 = time.perf_counter()
        try:
            timer.start()
            instance = self._linker(loaded.world, host).instantiate(store, loaded.component)
            t1 = time.perf_counter()
            instantiate = t1 - t0
            func = _find_run(instance, store, loaded.world)
            raw = func(store, loaded.world.encode_input(input))
            func.post_return(store)
            run = time.perf_counter() - t1
            result.output = loaded.world.decode_output(raw)
        except Exception as error:  # every failure becomes a result, never a traceback
            run = time.perf_counter() - t0 - instantiate
            failure = error
        finally:
            timer.cancel()
            stop_listening()
            store.close()
            time.sleep(0.001)  # see _settle_wasmtime_threads
        # Only now has the guest written its last: its unended last line is part of stderr,
        # of what the listener is told and of what explains a failure.
        captured.finish()
        result.stdout = captured.text("stdout")
        result.stderr = captured.text("stderr")
        if failure is not None:
            used = time.perf_counter() - t0
            result.error = explain_failure(
                failure, stopped_because, result.stderr, limits, used, host.stopped_waiting_for
            )
        result.timings = RunTimings(0.0, instantiate, run)

    def _linker(self, world: World, host: CsiHost) -> Linker:
        linker = Linker(self.engine)
        linker.add_wasip2()
        with linker.root() as root:
            for interface, functions in world.host_imports.items():
                with root.add_instance(interface) as instance:
                    for name, make_host_function in functions.items():
                        instance.add_func(name, make_host_function(host))
        return linker


def _find_run(instance: Any, store: Store, world: World) -> Any:
    index = None
    for name in world.run_path:
        index = instance.get_export_index(store, name, index)
    func = instance.get_func(store, index) if index is not None else None
    if func is None:
        raise ComponentError(f"The component has no `{'/'.join(world.run_path)}` function.")
    return func
