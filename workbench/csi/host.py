"""The host side of the Cognitive System Interface: every CSI function, each call recorded.

`CsiHost` is what a world's host functions call (in this process, or from a worker process
through the pool): one function by its `/csi/v1` name with the kernel's JSON request. It
applies the user's model override, asks the provider, and records every call, failed ones
included, so the trace shows what the skill asked and what came back. Streams are opened,
pulled one event at a time as the provider sends them, and recorded when they end.

Every wait on a provider runs on its own thread and stops the moment the run is cancelled
or stopped (timeout), and the provider's own token is cancelled so it sends nothing more.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from workbench.cancel import CancelToken
from workbench.csi import backends, chunking, inference, language
from workbench.csi.backends import CsiBackends
from workbench.csi.inference import Served, ServedStream
from workbench.csi.record import CsiCall, json_size, preview_value
from workbench.csi.replay import CsiTape
from workbench.errors import CsiUnavailable, ModelError, RunCancelled, WorkbenchError
from workbench.models.base import ModelProvider
from workbench.models.replay import RecordingProvider, ReplayProvider

T = TypeVar("T")

#: The CSI functions a provider serves, by their `/csi/v1` names.
FUNCTIONS: dict[str, Callable[[ModelProvider, Any, CancelToken], Served]] = {
    "complete_text": inference.complete_text,
    "complete": inference.complete,
    "chat": inference.chat,
    "explain": inference.explain,
    # Served here, as the kernel serves them itself: the provider only lends its tokenizer.
    "chunk": chunking.chunk,
    "chunk_with_offsets": chunking.chunk_with_offsets,
    "select_language": language.select_language,
}
STREAMS: dict[str, Callable[[ModelProvider, Any, CancelToken], ServedStream]] = {
    "completion_stream": inference.completion_stream,
    "chat_stream": inference.chat_stream,
}
_REPLAYED = ("Answered from the replay file, not by a model.",)
#: How often a waiting call looks at the cancel token.
_POLL_SECONDS = 0.05
#: Events a stream's record keeps (it still counts them all).
_RECORDED_EVENTS = 200


@dataclass
class _OpenStream:
    label: str
    csi: str
    request: Any
    requested: str | None
    started: float
    served: ServedStream
    #: The request as the provider got it (the model overridden): what a recording keys on.
    overridden: Any
    #: Cancelled when the stream is dropped or the run stops: the provider stops reading.
    cancel: CancelToken
    events: list[Any] = field(default_factory=list)
    #: Every event, kept only while recording (a replay must repeat all of them).
    all_events: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    size: int = 0
    finished: bool = False


@dataclass
class CsiHost:
    provider: ModelProvider
    model_override: str | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    #: The document index and tools (csi/backends.py); none by default.
    backends: CsiBackends = field(default_factory=CsiBackends)
    on_call: Callable[[CsiCall], None] | None = None
    calls: list[CsiCall] = field(default_factory=list)
    #: Set by the runtime when the run is stopped (timeout), so a model call stops waiting.
    stopped: threading.Event = field(default_factory=threading.Event)
    #: The model a call was waiting for when the run was stopped: a slow server, not a loop.
    stopped_waiting_for: str | None = None
    _streams: dict[int, _OpenStream] = field(default_factory=dict)
    _tool_sink: Callable[[dict[str, Any]], None] | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # Calls ---------------------------------------------------------------------------------
    def call(self, function: str, request: Any, label: str) -> Any:
        """Serve one CSI function; the answer is the kernel's JSON for it."""
        request = self._in_namespace(function, request)
        asked, requested = request, _first_model(request)
        request = self._overridden(request)
        started = time.perf_counter()
        self._check_cancelled()
        try:
            serve = self._server_of(function, label)
            if self._replaying(function):
                served = self._replayed(function, request, label)
            else:
                served = self._wait(lambda cancel: serve(request, cancel), requested)
                if self._recording(function):
                    self._tape().record(function, request, response=served.response)
        except WorkbenchError as error:
            self._record(label, function, asked, None, started, requested, error=error)
            raise
        self._record(label, function, asked, served.response, started, requested, served=served)
        self._check_cancelled()
        return served.response

    def complete_text(self, prompt: str, model: str) -> str:
        """The seed world's one function."""
        return str(self.call("complete_text", {"prompt": prompt, "model": model}, "complete-text"))

    # Streams -------------------------------------------------------------------------------
    def open_stream(self, function: str, request: Any, label: str) -> int:
        asked, requested = request, _first_model(request)
        request = self._overridden(request)
        started = time.perf_counter()
        self._check_cancelled()
        stream_cancel = CancelToken()
        try:
            open_served = STREAMS.get(function)
            if open_served is None:
                raise CsiUnavailable(
                    f"The skill called `{label}`, a CSI stream the workbench does not know."
                )
            if self._replaying(function):
                found = self._tape().find(function, request, label)
                served = ServedStream(iter(found.get("events", [])), requested, _REPLAYED)
            else:
                served = self._wait(
                    lambda cancel: open_served(self.provider, request, cancel),
                    requested,
                    stream_cancel,
                )
        except WorkbenchError as error:
            self._record(label, function, asked, None, started, requested, error=error)
            raise
        stream_id = next(self._ids)
        self._streams[stream_id] = _OpenStream(
            label, function, asked, requested, started, served, request, stream_cancel
        )
        return stream_id

    def next_event(self, stream_id: int) -> dict[str, Any] | None:
        """The stream's next event as the provider sends it; None once it has ended."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.finished:
            return None
        try:
            event = self._wait(
                lambda _cancel: next(stream.served.events, None), stream.requested, stream.cancel
            )
        except WorkbenchError as error:
            self._finish(stream, error)
            raise
        if event is None:
            if self._recording(stream.csi):
                self._tape().record(stream.csi, stream.overridden, events=stream.all_events)
            self._finish(stream)
            return None
        if self._recording(stream.csi):
            stream.all_events.append(event)
        stream.count += 1
        stream.size += json_size(event)
        if len(stream.events) < _RECORDED_EVENTS:
            stream.events.append(preview_value(event))
        if event.get("event") == "error":
            message = (event.get("data") or {}).get("message", "the stream failed")
            error = ModelError(f"The model's stream for `{stream.label}` failed: {message}")
            self._finish(stream, error)
            raise error
        return event

    def close_stream(self, stream_id: int) -> None:
        """The skill dropped the stream (its end, or before it)."""
        stream = self._streams.pop(stream_id, None)
        if stream is not None and not stream.finished:
            self._finish(stream)
            stream.cancel.cancel()
            # A pull the cancel left running ends at once (its socket is cut); closing the
            # stream while it runs is refused, and the cancel already dropped it.
            with contextlib.suppress(ValueError):
                stream.served.close()

    def close_streams(self) -> None:
        """Drop every stream still open (a run that was stopped never dropped its own)."""
        for stream_id in list(self._streams):
            self.close_stream(stream_id)

    def _finish(self, stream: _OpenStream, error: WorkbenchError | None = None) -> None:
        stream.finished = True
        events: list[Any] = list(stream.events)
        if stream.count > len(events):
            events.append(f"… [{stream.count:,} events, first {len(events)} shown]")
        self._record(
            stream.label,
            stream.csi,
            stream.request,
            events,
            stream.started,
            stream.requested,
            error=error,
            served=stream.served,
            response_chars=stream.size,
        )

    # Recording and replay ------------------------------------------------------------------
    # The seed's complete-text is recorded by the provider itself (models/replay.py); every
    # other function is recorded here, by its kernel JSON, in the same file.
    def _tape(self) -> CsiTape:
        path = getattr(self.provider, "path", None)
        assert isinstance(path, Path)
        return CsiTape(path)

    def _replaying(self, function: str) -> bool:
        return function != "complete_text" and isinstance(self.provider, ReplayProvider)

    def _recording(self, function: str) -> bool:
        return function != "complete_text" and isinstance(self.provider, RecordingProvider)

    def _replayed(self, function: str, request: Any, label: str) -> Served:
        found = self._tape().find(function, request, label)
        return Served(found.get("response"), _first_model(request), None, None, _REPLAYED)

    # Plumbing ------------------------------------------------------------------------------
    def _server_of(self, function: str, label: str) -> Callable[[Any, CancelToken], Served]:
        provided = FUNCTIONS.get(function)
        if provided is not None:
            return lambda request, cancel: provided(self.provider, request, cancel)
        backend = backends.SERVED.get(function)
        if backend is not None:
            served_here = replace(self.backends, on_tool_event=self._tool_event)
            return lambda request, cancel: backend(served_here, request, cancel)
        raise CsiUnavailable(
            f"The skill called `{label}`, a CSI function the workbench does not know."
        )

    def stream_tool_events(self, sink: Callable[[dict[str, Any]], None] | None) -> None:
        """A message-stream run hears each tool event where the kernel streams it (a
        function skill's run has no stream, and the kernel drops them there too)."""
        self._tool_sink = sink

    def _tool_event(self, event: dict[str, Any]) -> None:
        if self._tool_sink is not None:
            self._tool_sink({"type": "tool", "event": event})

    def _in_namespace(self, function: str, request: Any) -> Any:
        """Tool requests name the skill's namespace, which the world leaves to the host."""
        tools = function in ("invoke_tool", "list_tools") and isinstance(request, dict)
        if tools and request.get("namespace") is None:
            return {**request, "namespace": self.backends.namespace}
        return request

    def _overridden(self, request: Any) -> Any:
        if not self.model_override:
            return request
        if isinstance(request, list):
            return [self._overridden(item) for item in request]
        if isinstance(request, dict) and "model" in request:
            return {**request, "model": self.model_override}
        return request

    def _wait(
        self,
        call: Callable[[CancelToken], T],
        requested: str | None,
        call_cancel: CancelToken | None = None,
    ) -> T:
        """Run a blocking provider call on its own thread; stop waiting the moment the run is
        cancelled or stopped, and cancel the call's own token (a stream's lives as long as
        the stream) so the provider stops too: it cuts the connection, sends nothing more."""
        call_cancel = call_cancel or CancelToken()
        outcome: Future[T] = Future()

        def target() -> None:
            try:
                outcome.set_result(call(call_cancel))
            except BaseException as error:
                outcome.set_exception(error)

        threading.Thread(target=target, name="csi-call", daemon=True).start()
        try:
            while True:
                try:
                    return outcome.result(timeout=_POLL_SECONDS)
                except FutureTimeout:
                    if self.stopped.is_set():
                        served = self.model_override or requested or "?"
                        self.stopped_waiting_for = f"{served!r} of {self.provider.name}"
                    self._check_cancelled()
        finally:
            if not outcome.done():
                call_cancel.cancel()

    def _check_cancelled(self) -> None:
        if self.cancel.is_cancelled or self.stopped.is_set():
            raise RunCancelled("The run was cancelled.")

    def _record(
        self,
        label: str,
        function: str,
        request: Any,
        response: Any,
        started: float,
        requested: str | None,
        *,
        error: WorkbenchError | None = None,
        served: Served | ServedStream | None = None,
        response_chars: int | None = None,
    ) -> None:
        reason = None
        if error is not None:
            cancelled = isinstance(error, RunCancelled)
            reason = "stopped while waiting for the model" if cancelled else str(error)
        call = CsiCall(
            function=label,
            csi=function,
            request=preview_value(request),
            response=None if response is None else preview_value(response),
            duration=time.perf_counter() - started,
            provider=backends.SERVED_BY.get(function, self.provider.name),
            error=reason,
            model_requested=requested,
            model_served=(served.model if served is not None else None)
            or (self.model_override or requested if requested else None),
            prompt_tokens=getattr(served, "prompt_tokens", None),
            completion_tokens=getattr(served, "completion_tokens", None),
            notes=tuple(served.notes) if served is not None else (),
            request_chars=json_size(request),
            response_chars=response_chars
            if response_chars is not None
            else (None if response is None else json_size(response)),
        )
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)


def _first_model(request: Any) -> str | None:
    first = request[0] if isinstance(request, list) and request else request
    model = first.get("model") if isinstance(first, dict) else None
    return model if isinstance(model, str) else None
