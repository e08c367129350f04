"""One run on one worker of a `RunnerPool`, driven from the parent process: it answers the
worker's CSI calls from the real `CsiHost`, passes the skill's output and messages on as they
come, and kills the worker at the time limit (plus grace) or on cancel."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from workbench.csi.host import CsiHost
from workbench.errors import InternalError, RunCancelled, SkillCrashed, WorkbenchError
from workbench.run.captured_output import OutputListener, Stream
from workbench.run.failures import late_timeout
from workbench.run.linking import MessageSink
from workbench.run.results import RunResult
from workbench.run.worker import RunJob

if TYPE_CHECKING:
    from workbench.run.pool import _Worker

#: How long past its time limit a worker may take to stop the skill itself (an endless loop
#: is stopped by the epoch, and the worker is kept) before it is killed.
GRACE_SECONDS = 0.25
_POLL_SECONDS = 0.02


class Drive:
    """One run on one worker, from the parent: answers its CSI calls, passes its output on,
    and kills it at the time limit (plus grace) or on cancel."""

    def __init__(
        self,
        worker: _Worker,
        job: RunJob,
        host: CsiHost,
        on_output: OutputListener | None,
        on_message: MessageSink | None,
        result: RunResult,
    ) -> None:
        self.worker, self.job, self.host, self.result = worker, job, host, result
        self.on_output = on_output
        self.on_message = on_message
        self.stopped_because: list[str] = []
        self.output: dict[Stream, list[str]] = {"stdout": [], "stderr": []}
        self.started: float | None = None

    def interrupt(self, reason: str) -> None:
        if not self.stopped_because:
            self.stopped_because.append(reason)
            self.host.stopped.set()  # a model call in progress stops waiting

    def run(self) -> bool:
        """Drive the run to its end; True if the worker can be used again."""
        timer: threading.Timer | None = None
        stop_listening = self.host.cancel.add_listener(lambda: self.interrupt("cancelled"))
        try:
            self.worker.send("run", self.job)
            while not self.stopped_because:
                if not self.worker.connection.poll(_POLL_SECONDS):
                    if not self.worker.process.is_alive():
                        return self.died()
                    continue
                message = self.worker.connection.recv()
                kind = message[0]
                if kind == "started":
                    self.started = time.monotonic()
                    if message[1] == "message-stream":
                        self.host.stream_tool_events(self.pass_message)
                    timer = threading.Timer(
                        self.job.limits.timeout + GRACE_SECONDS, self.interrupt, ("timeout",)
                    )
                    timer.daemon = True
                    timer.start()
                elif kind == "output":
                    self.pass_on(message[1], message[2])
                elif kind == "csi":
                    self.worker.send(*self.answer(message[1], message[2:]))
                elif kind == "csi-close":
                    self.host.close_stream(message[1])
                elif kind == "message":
                    self.pass_message(message[1])
                elif kind == "done":
                    self.finish(message[1])
                    return True
            return self.kill()
        except (EOFError, OSError, BrokenPipeError):
            return self.kill() if self.stopped_because else self.died()
        finally:
            if timer is not None:
                timer.cancel()
            stop_listening()
            self.host.stream_tool_events(None)

    def answer(self, method: str, arguments: tuple[Any, ...]) -> tuple[str, Any]:
        if method not in ("call", "open_stream", "next_event"):
            return ("raise", InternalError(f"The skill's process asked for {method!r}."))
        try:
            return ("reply", getattr(self.host, method)(*arguments))
        except WorkbenchError as error:
            return ("raise", error)
        except Exception as error:  # a provider's bug must end the run, not the pool
            return ("raise", InternalError(f"The model call failed ({error}); please report it."))

    def pass_on(self, stream: Stream, text: str) -> None:
        self.output[stream].append(text)
        if self.on_output is not None:
            with contextlib.suppress(Exception):  # a listener's bug must not break the run
                self.on_output(stream, text)

    def pass_message(self, event: dict[str, Any]) -> None:
        self.result.messages.append(event)
        if self.on_message is not None:
            with contextlib.suppress(Exception):  # a listener's bug must not break the run
                self.on_message(event)

    def finish(self, child: RunResult) -> None:
        calls, messages = self.result.csi_calls, self.result.messages
        for name in ("output", "stdout", "stderr", "timings", "world", "skill_kind", "error"):
            setattr(self.result, name, getattr(child, name))
        self.result.csi_calls, self.result.messages = calls, messages

    def kill(self) -> bool:
        self.worker.kill()
        self.result.stdout = "".join(self.output["stdout"])
        self.result.stderr = "".join(self.output["stderr"])
        used = time.monotonic() - self.started if self.started is not None else 0.0
        self.result.timings = replace(self.result.timings, run=used)
        if self.stopped_because == ["timeout"]:
            self.result.error = late_timeout(
                self.job.limits.timeout, used, self.host.stopped_waiting_for
            )
        else:
            self.result.error = RunCancelled("The run was cancelled.")
        return False

    def died(self) -> bool:
        self.worker.kill()
        code = self.worker.process.exitcode
        self.result.stdout = "".join(self.output["stdout"])
        self.result.stderr = "".join(self.output["stderr"])
        self.result.error = SkillCrashed(
            f"The process running the skill ended unexpectedly (exit code {code}); run it "
            "again, and report it if it keeps happening.",
            self.result.stderr.strip(),
        )
        return False
