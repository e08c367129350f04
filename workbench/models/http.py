"""What every HTTP model provider shares: one client, bounded retries with backoff for 429
and 5xx, cancelling that stops the retries and drops the request in flight, a cap on the
size of a reply, and one clear sentence for each way a server can fail; for replies read
whole and for streams of server-sent events alike."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.cancel import CancelToken
from workbench.credentials import API_KEY_ENV
from workbench.errors import ModelError, RunCancelled
from workbench.models.sse import SseDecoder
from workbench.redact import remember_secret, scrub

if TYPE_CHECKING:  # imported with the first client (see HttpModelProvider.__init__)
    import httpx

#: Retry-After is honoured up to this many seconds; a longer wait is reported instead.
MAX_RETRY_AFTER = 10.0
#: A reply larger than this is cut off and reported: it would only fill the host's memory.
MAX_REPLY_BYTES = 16 << 20


@dataclass(frozen=True)
class Sampling:
    """Per-provider defaults for every completion."""

    max_tokens: int = 256
    temperature: float | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class HttpSettings:
    base_url: str
    api_key: str | None = None
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 0.5
    sampling: Sampling = field(default_factory=Sampling)


class HttpModelProvider:
    """Base for providers that talk JSON over HTTP. Subclasses set `kind` and `LABEL`."""

    LABEL = "model server"
    OFFLINE = False

    def __init__(self, name: str, settings: HttpSettings) -> None:
        # httpx (and the rich and click of its CLI) is slow to import: it is imported with the
        # first provider, as the module's global; every other use is in a method, after this.
        global httpx
        import httpx

        self.name = name
        self.settings = settings
        headers = {"Accept": "application/json"}
        if settings.api_key:
            remember_secret(settings.api_key)
            headers["Authorization"] = f"Bearer {settings.api_key}"
        self._client = httpx.Client(
            base_url=settings.base_url.rstrip("/") + "/", headers=headers, timeout=settings.timeout
        )

    def close(self) -> None:
        self._client.close()

    def use_api_key(self, api_key: str) -> None:
        """Use this key instead of the stored one (to test a key before saving it)."""
        remember_secret(api_key)
        self._client.headers["Authorization"] = f"Bearer {api_key}"

    def _where(self) -> str:
        named = "" if self.name == self.kind else f"{self.name} "  # type: ignore[attr-defined]
        return f"the {named}{self.LABEL} at {scrub(self.settings.base_url)}"

    def request_json(
        self,
        method: str,
        path: str,
        *,
        model: str | None = None,
        body: dict[str, Any] | None = None,
        cancel: CancelToken | None = None,
    ) -> Any:
        """Send one request (retrying 429 and 5xx) and return its JSON, or raise ModelError;
        raise RunCancelled as soon as `cancel` is, and send nothing after that."""
        response = self._exchange(method, path, model, body, cancel, self._receive)
        try:
            return response.json()
        except ValueError:
            raise ModelError(
                f"{_capital(self._where())} answered{_about(model)} with malformed "
                "JSON; check that the base URL points at the API."
            ) from None

    def stream_events(
        self,
        path: str,
        *,
        model: str,
        body: dict[str, Any],
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        """POST `body` and yield the data of each server-sent event the moment its last line
        is in. The request goes out at the first pull, with the same retries, errors and
        cancelling as `request_json` until the server starts to answer; after that, a pull
        waits at most the timeout for more, cancelling cuts the connection, and the reply is
        capped like any other. Closing the iterator closes the connection."""
        response = self._exchange("POST", path, model, body, cancel, self._open)
        token = cancel or CancelToken()
        stop_listening = token.add_listener(lambda: _cut(response))
        decoder = SseDecoder()
        size = 0
        stalled = ModelError(
            f"{_capital(self._where())} stopped sending its stream{_about(model)} "
            f"for {self.settings.timeout:g} s; try again or raise its timeout."
        )
        try:
            try:
                last_event = time.monotonic()
                for chunk in response.iter_bytes():
                    self._stop_if_cancelled(cancel)
                    size += len(chunk)
                    if size > MAX_REPLY_BYTES:
                        raise self._too_big()
                    events = decoder.feed(chunk)
                    # httpx times out a silent read; this, a drip that never ends an event.
                    if events:
                        last_event = time.monotonic()
                    elif time.monotonic() - last_event > self.settings.timeout:
                        raise stalled
                    for event in events:
                        yield event
                        self._stop_if_cancelled(cancel)
                        # The time the reader took over the event is not the server's.
                        last_event = time.monotonic()
            except httpx.TimeoutException:
                raise stalled from None
            except httpx.HTTPError as error:
                self._stop_if_cancelled(cancel)  # a cut made by the cancel, not a failure
                raise ModelError(
                    scrub(
                        f"The stream from {self._where()}{_about(model)} broke off ({error}); "
                        "run again."
                    )
                ) from None
            self._stop_if_cancelled(cancel)  # a cut can also look like the end of the reply
            yield from decoder.finish()
        finally:
            stop_listening()
            response.close()

    def _exchange(
        self,
        method: str,
        path: str,
        model: str | None,
        body: dict[str, Any] | None,
        cancel: CancelToken | None,
        receive: Callable[[httpx.Request, CancelToken], httpx.Response],
    ) -> httpx.Response:
        """Send the request until it succeeds, retrying 429 and 5xx with backoff; return the
        successful response as `receive` gave it, or raise ModelError for any failure."""
        about = _about(model)
        # Without a token nothing can cancel, and waiting on a fresh one is a plain sleep.
        backoff_clock = cancel or CancelToken()
        attempt = 0
        while True:
            self._stop_if_cancelled(cancel)
            if self._client.is_closed:
                raise ModelError(
                    f"{_capital(self._where())} was closed (its settings changed or the app "
                    "is closing); run again."
                )
            try:
                response = self._send(method, path, body, cancel, receive)
            except httpx.ConnectError as error:
                raise ModelError(
                    f"Cannot reach {self._where()} ({_reason(error)}); start the "
                    "server or fix its base URL."
                ) from None
            except httpx.TimeoutException:
                raise ModelError(
                    f"{_capital(self._where())} did not answer{about} within "
                    f"{self.settings.timeout:g} s; try again or raise its "
                    "timeout."
                ) from None
            except httpx.HTTPError as error:
                raise ModelError(
                    scrub(f"The request to {self._where()} failed ({error}).")
                ) from None

            status = response.status_code
            if status < 300:
                return response
            retryable = status == 429 or status >= 500
            if retryable and attempt < self.settings.retries:
                wait = _retry_after(response) or self.settings.backoff * 2**attempt
                if wait <= MAX_RETRY_AFTER:
                    attempt += 1
                    backoff_clock.wait(wait)
                    continue
            if status == 429:
                raise ModelError(
                    f"{_capital(self._where())} is rate limiting requests{about} "
                    f"(429, {attempt + 1} tries); wait a little and run again."
                )
            if status >= 500:
                raise ModelError(
                    f"{_capital(self._where())} failed{about} with {status} "
                    f"({attempt + 1} tries): {_detail(response)}; try again later."
                )
            if status in (401, 403):
                raise ModelError(
                    f"{_capital(self._where())} refused the API key{about} ({status}); store "
                    f"the right one with `workbench key set {self.name}` or set {API_KEY_ENV}."
                )
            if status == 404 and model:
                raise ModelError(
                    f"{_capital(self._where())} has no model {model!r} (404); list "
                    f"its models with `workbench models --provider {self.name}`."
                )
            if status >= 400:
                raise ModelError(
                    f"{_capital(self._where())} rejected the request{about} "
                    f"({status}): {_detail(response)}."
                )
            where_to = scrub(response.headers.get("Location", "elsewhere"))
            raise ModelError(
                f"{_capital(self._where())} redirected the request{about} ({status}) to "
                f"{where_to}; set the provider's base URL to the address it points at."
            )

    def _stop_if_cancelled(self, cancel: CancelToken | None) -> None:
        if cancel is not None and cancel.is_cancelled:
            raise RunCancelled(f"The call to {self._where()} was cancelled.")

    def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        cancel: CancelToken | None,
        receive: Callable[[httpx.Request, CancelToken], httpx.Response],
    ) -> httpx.Response:
        """One attempt, as far as `receive` reads it. With a token it runs on a thread of its
        own, so that the caller can stop waiting the moment the token is cancelled, even
        before the server has begun to answer."""
        request = self._client.build_request(method, path.lstrip("/"), json=body)
        # The whole attempt has one deadline: httpx's timeout is per read, and a server that
        # sends a byte every few seconds would otherwise hold the call for ever.
        attempt_token = CancelToken()
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            attempt_token.cancel()

        deadline = threading.Timer(self.settings.timeout, expire)
        deadline.daemon = True
        outcome: Future[httpx.Response] = Future()
        settled = threading.Event()

        def attempt() -> None:
            try:
                outcome.set_result(receive(request, attempt_token))
            except BaseException as error:  # handed over to the waiting caller
                outcome.set_exception(error)
            finally:
                settled.set()

        stop_forwarding = (cancel or CancelToken()).add_listener(attempt_token.cancel)
        stop_listening = attempt_token.add_listener(settled.set)
        try:
            deadline.start()
            threading.Thread(target=attempt, name="model-request", daemon=True).start()
            settled.wait()
        finally:
            deadline.cancel()
            stop_listening()
            stop_forwarding()
        given_up = timed_out.is_set() or (cancel is not None and cancel.is_cancelled)
        if given_up and outcome.done() and outcome.exception() is None:
            outcome.result().close()  # a stream's open response that nobody will read
        if timed_out.is_set():
            raise httpx.ReadTimeout("the attempt's deadline passed", request=request)
        self._stop_if_cancelled(cancel)
        return outcome.result()

    def _receive(self, request: httpx.Request, cancel: CancelToken) -> httpx.Response:
        """Send `request` and read its answer whole."""
        self._stop_if_cancelled(cancel)
        return self._read_whole(self._client.send(request, stream=True), cancel)

    def _open(self, request: httpx.Request, cancel: CancelToken) -> httpx.Response:
        """Send `request` and wait for the head of its answer only, leaving a success's body
        to be streamed; a failure's body is read whole, for its message."""
        self._stop_if_cancelled(cancel)
        response = self._client.send(request, stream=True)
        if response.status_code >= 300:
            return self._read_whole(response, cancel)
        # If the caller has stopped waiting (cancelled, timed out), nobody will read this.
        cancel.add_listener(response.close)
        return response

    def _read_whole(self, response: httpx.Response, cancel: CancelToken) -> httpx.Response:
        """Read `response` a chunk at a time; once `cancel` fires, the connection is cut
        (never returned to the pool half-read) and nothing more is read."""
        stop_listening = cancel.add_listener(lambda: _cut(response))
        try:
            chunks = []
            size = 0
            for chunk in response.iter_raw():
                self._stop_if_cancelled(cancel)
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    _cut(response)
                    raise self._too_big()
                chunks.append(chunk)
        finally:
            stop_listening()
            response.close()
        # The raw bytes with the original headers, so a compressed body is decoded as usual.
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=b"".join(chunks),
            request=response.request,
            extensions={"reason_phrase": response.reason_phrase.encode()},
        )

    def _too_big(self) -> ModelError:
        return ModelError(
            f"{_capital(self._where())} answered with more than "
            f"{MAX_REPLY_BYTES >> 20} MiB; a model reply is never that long, so "
            "check that the base URL points at the API."
        )

    def malformed(self, model: str | None, what: str) -> ModelError:
        return ModelError(
            f"{_capital(self._where())} answered{_about(model)} without {what}; check "
            "that the base URL points at the right kind of API."
        )


def _cut(response: httpx.Response) -> None:
    """Shut the response's socket down: this wakes a read blocked on it in another thread,
    which closing alone would not."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # already closed, by either side
            sock.shutdown(socket.SHUT_RDWR)


def _about(model: str | None) -> str:
    return f" for model {model!r}" if model else ""


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _reason(error: httpx.HTTPError) -> str:
    text = str(error)
    return "connection refused" if "refused" in text.lower() or not text else text


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _detail(response: httpx.Response) -> str:
    """What the server said went wrong, short, with any secret it echoed scrubbed (before
    shortening, so no part of a secret survives the cut)."""
    try:
        data = response.json()
    except ValueError:
        return scrub(" ".join(response.text.split()))[:200] or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            return scrub(str(error.get("message") or error))[:200]
        return scrub(str(error))[:200]
    return scrub(str(data))[:200]
