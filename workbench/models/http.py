"""What every HTTP model provider shares: one client, bounded retries with backoff for 429
and 5xx, and one clear sentence for each way a server can fail."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from workbench.credentials import API_KEY_ENV
from workbench.errors import ModelError

#: Retry-After is honoured up to this many seconds; a longer wait is reported instead.
MAX_RETRY_AFTER = 10.0


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
        self.name = name
        self.settings = settings
        headers = {"Accept": "application/json"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        self._client = httpx.Client(
            base_url=settings.base_url.rstrip("/") + "/", headers=headers, timeout=settings.timeout
        )

    def close(self) -> None:
        self._client.close()

    def use_api_key(self, api_key: str) -> None:
        """Use this key instead of the stored one (to test a key before saving it)."""
        self._client.headers["Authorization"] = f"Bearer {api_key}"

    def _where(self) -> str:
        named = "" if self.name == self.kind else f"{self.name} "  # type: ignore[attr-defined]
        return f"the {named}{self.LABEL} at {self.settings.base_url}"

    def request_json(
        self,
        method: str,
        path: str,
        *,
        model: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """Send one request (retrying 429 and 5xx) and return its JSON, or raise ModelError."""
        about = f" for model {model!r}" if model else ""
        attempt = 0
        while True:
            try:
                response = self._client.request(method, path.lstrip("/"), json=body)
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
                raise ModelError(f"The request to {self._where()} failed ({error}).") from None

            status = response.status_code
            retryable = status == 429 or status >= 500
            if retryable and attempt < self.settings.retries:
                wait = _retry_after(response) or self.settings.backoff * 2**attempt
                if wait <= MAX_RETRY_AFTER:
                    attempt += 1
                    time.sleep(wait)
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
            try:
                return response.json()
            except ValueError:
                raise ModelError(
                    f"{_capital(self._where())} answered{about} with malformed "
                    "JSON; check that the base URL points at the API."
                ) from None

    def malformed(self, model: str | None, what: str) -> ModelError:
        about = f" for model {model!r}" if model else ""
        return ModelError(
            f"{_capital(self._where())} answered{about} without {what}; check "
            "that the base URL points at the right kind of API."
        )


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
    try:
        data = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200] or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:200]
        return str(error)[:200]
    return str(data)[:200]
