"""Talking to an OCI registry: what oras-py's `Registry` does, mended where it trips, on
oras-py's auth backends and a requests session. (Not on `Registry` itself: its module
imports jsonschema, a good part of the time `workbench publish` takes.)

What is mended (each seen to fail as shipped): the auth scheme is read from the registry's
own challenge (Basic or Bearer token) instead of assuming a token service; Basic
credentials go out with the first request, so a large blob is never sent unauthenticated
first; `~/.docker/config.json` is never read or written; every request has a timeout; retries
are few and quick instead of sleeping for minutes; uploads report progress and can be
cancelled; upload URLs are built by hand; and every failure is one sentence.
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import oras.auth
import requests

from workbench.cancel import CancelToken
from workbench.errors import PublishCancelled, RegistryError, RegistryUnreachable
from workbench.redact import remember_secret, scrub

DEFAULT_TAG = "latest"
_CHUNK = 256 * 1024


@dataclass(frozen=True)
class RegistryCredentials:
    username: str
    token: str = field(repr=False)

    def __post_init__(self) -> None:
        remember_secret(self.token)  # never shown, whichever way it came in


@dataclass(frozen=True)
class RegistryTarget:
    registry: str  # host[:port]
    repository: str
    name: str
    tag: str = DEFAULT_TAG
    insecure: bool = False  # plain HTTP
    ca_file: Path | None = None

    @property
    def path(self) -> str:
        return f"{self.repository.strip('/')}/{self.name}"

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self.path}:{self.tag}"

    @property
    def base_url(self) -> str:
        return f"{'http' if self.insecure else 'https'}://{self.registry}"


#: (bytes sent, bytes in all) for the blob being uploaded.
ProgressListener = Callable[[int, int], None]


class _ProgressReader:
    """A blob as a file for requests: it reports progress and stops when cancelled."""

    def __init__(
        self, data: bytes, listener: ProgressListener | None, cancel: CancelToken | None
    ) -> None:
        self._data = data
        self._offset = 0
        self._listener = listener
        self._cancel = cancel

    def __len__(self) -> int:
        return len(self._data)

    def rewind(self) -> None:
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        if self._cancel is not None and self._cancel.is_cancelled:
            raise PublishCancelled("The publish was cancelled; nothing was tagged.")
        size = _CHUNK if size is None or size < 0 else min(size, _CHUNK)
        chunk = self._data[self._offset : self._offset + size]
        self._offset += len(chunk)
        if self._listener is not None and chunk:
            self._listener(self._offset, len(self._data))
        return chunk


def challenge_scheme(
    target: RegistryTarget, timeout: float, session: requests.Session
) -> str | None:
    """ "basic", "token" or None (no auth), from `GET /v2/`'s WWW-Authenticate, asked on
    `session`, whose connection is then kept for the requests that follow."""
    verify: bool | str = str(target.ca_file) if target.ca_file else True
    try:
        response = session.request("GET", target.base_url + "/v2/", timeout=timeout, verify=verify)
    except requests.RequestException as error:
        raise _network_error(target, error, timeout) from None
    if response.status_code != 401:
        return None
    challenge = response.headers.get("WWW-Authenticate", "").lower()
    return "token" if challenge.startswith("bearer") else "basic"


def _network_error(target: RegistryTarget, error: Exception, timeout: float) -> RegistryError:
    """One sentence for a failed request; RegistryUnreachable when the request may not have
    arrived whole (cut, or no answer in time), so that trying again may work."""
    if isinstance(error, PublishCancelled):
        return error
    if isinstance(error, requests.exceptions.SSLError):
        return RegistryError(
            f"The TLS certificate of the registry {target.registry} is not trusted; pass "
            "--ca-file with the CA that signed it (or --insecure for a plain-HTTP registry)."
        )
    if isinstance(error, requests.exceptions.Timeout):
        return RegistryUnreachable(
            f"The registry {target.registry} did not answer within "
            f"{timeout:g} s; check it and try again."
        )
    if isinstance(error, requests.exceptions.ConnectionError):
        cause = str(error).lower()
        if "refused" in cause:
            return RegistryError(_cannot_reach(target, "connection refused"))
        if "reset" in cause or "aborted" in cause:
            return RegistryUnreachable(_cannot_reach(target, "the connection was cut"))
        return RegistryError(_cannot_reach(target, "no connection"))
    return RegistryError(f"The request to the registry {target.registry} failed ({error}).")


def _cannot_reach(target: RegistryTarget, why: str) -> str:
    return (
        f"Cannot reach the registry {target.registry} ({why}); check "
        "that it is running and that the address is right."
    )


class SkillRegistry:
    """One registry, one repository path, one set of credentials."""

    def __init__(
        self,
        target: RegistryTarget,
        credentials: RegistryCredentials | None,
        *,
        timeout: float = 30.0,
        retries: int = 2,
    ) -> None:
        self.target = target
        self.credentials = credentials
        self.timeout = timeout
        self.retries = retries
        self._tls_verify: bool | str = str(target.ca_file) if target.ca_file else True
        self.session = requests.Session()
        # Ignore all cookies, as oras does: some registries (Harbor) take one as a sign that
        # they are talking to a browser, and start asking for CSRF tokens.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        scheme = challenge_scheme(target, timeout, self.session)
        self.auth = oras.auth.get_auth_backend(
            scheme or "basic", self.session, target.insecure, tls_verify=self._tls_verify
        )
        # Never read ~/.docker/config.json: its entries would override ours.
        self.auth._auth_config = {"auths": {}}
        self.auth.load_configs = lambda *args, **kwargs: None  # type: ignore[method-assign]
        if credentials is not None:
            self.auth.set_basic_auth(credentials.username, credentials.token)
            if scheme != "token":
                pair = f"{credentials.username}:{credentials.token}".encode()
                self.session.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        # requests has no session-wide timeout; oras's own calls get ours this way.
        plain_request = self.session.request

        def request_with_timeout(*args: Any, **kwargs: Any) -> requests.Response:
            kwargs.setdefault("timeout", self.timeout)
            return plain_request(*args, **kwargs)

        self.session.request = request_with_timeout  # type: ignore[method-assign]

    # Not oras's do_request: it carries a retry decorator that sleeps up to 131 s.
    def do_request(
        self,
        url: str,
        method: str = "GET",
        data: Any = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        stream: bool = False,
    ) -> requests.Response:
        headers = dict(headers or {})
        token_auth = isinstance(self.auth, oras.auth.TokenAuth)
        if token_auth and self.auth.token:
            headers.update(self.auth.get_auth_header())

        def send(with_headers: dict[str, str]) -> requests.Response:
            return self.session.request(
                method,
                url,
                data=data,
                json=json,
                headers=with_headers,
                stream=stream,
                verify=self._tls_verify,
            )

        try:
            response = send(headers)
            if response.status_code in (401, 403) and token_auth:
                # A token is scoped (pull, then push, per repository): ask for one that fits
                # this request instead of resending the last one, as oras would.
                new_headers, changed = self.auth.authenticate_request(
                    response, headers, refresh=True
                )
                if changed:
                    if isinstance(data, _ProgressReader):
                        data.rewind()
                    response = send(new_headers)
        except RegistryError:
            raise
        except (requests.RequestException, OSError) as error:
            raise _network_error(self.target, error, self.timeout) from None
        except ValueError as error:  # oras: "Cannot respond to request for authentication."
            raise self._refused(401) from error
        if response.status_code in (401, 403):
            raise self._refused(response.status_code)
        if response.status_code >= 500:
            raise RegistryError(
                f"The registry {self.target.registry} failed with "
                f"{response.status_code} ({_oci_error(response)}); try again "
                "later."
            )
        return response

    def _refused(self, status: int) -> RegistryError:
        who = f" for {self.credentials.username}" if self.credentials else ""
        return RegistryError(
            f"The registry {self.target.registry} refused the credentials{who} "
            f"({status}); log in again with `workbench login "
            f"{self.target.registry}`."
        )

    def _url(self, path: str) -> str:
        return f"{self.target.base_url}/v2/{self.target.path}/{path}"

    # Reading ----------------------------------------------------------------------------
    def check_access(self) -> None:
        """Raise unless the credentials work (GET /v2/, through the token service if any)."""
        response = self.do_request(f"{self.target.base_url}/v2/")
        if response.status_code != 200:
            raise RegistryError(
                f"The registry {self.target.registry} answered "
                f"{response.status_code} to a login check."
            )

    def manifest(self, reference: str) -> tuple[bytes, str] | None:
        """(manifest bytes, digest) for a tag or digest, or None if there is none."""
        response = self.do_request(
            self._url(f"manifests/{reference}"),
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
        if response.status_code == 404:
            return None
        self._expect(response, "read the manifest")
        return response.content, response.headers.get("Docker-Content-Digest", "")

    def blob(self, digest: str) -> bytes:
        response = self.do_request(self._url(f"blobs/{digest}"))
        self._expect(response, "read a blob")
        return response.content

    def has_blob(self, digest: str) -> bool:
        return self.do_request(self._url(f"blobs/{digest}"), "HEAD").status_code == 200

    def tags(self) -> list[str]:
        response = self.do_request(self._url("tags/list"))
        if response.status_code == 404:
            return []
        self._expect(response, "list the tags")
        return sorted(response.json().get("tags") or [])

    def remove_tag(self, tag: str) -> None:
        found = self.manifest(tag)
        if found is None:
            raise RegistryError(f"There is no tag {tag!r} in {self.target.path}.")
        response = self.do_request(self._url(f"manifests/{found[1]}"), "DELETE")
        if response.status_code in (405, 400):
            raise RegistryError(
                f"The registry {self.target.registry} does not allow deleting "
                "(its storage.delete setting is off)."
            )
        self._expect(response, "delete the tag", (200, 202))

    # Writing ----------------------------------------------------------------------------
    def upload(
        self,
        data: bytes,
        digest: str,
        on_progress: ProgressListener | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        """Upload one blob (POST then a single PUT); a cut-off upload starts over."""
        for attempt in range(self.retries + 1):
            try:
                started = self.do_request(self._url("blobs/uploads/"), "POST")
                self._expect(started, "start an upload", (202,))
                location = started.headers["Location"]
                if location.startswith("/"):
                    location = self.target.base_url + location
                # By hand: re-encoding the registry's own query would break its _state.
                separator = "&" if "?" in location else "?"
                url = f"{location}{separator}digest={urllib.parse.quote(digest)}"
                finished = self.do_request(
                    url,
                    "PUT",
                    data=_ProgressReader(data, on_progress, cancel),
                    headers={"Content-Type": "application/octet-stream"},
                )
                self._expect(finished, "upload a blob", (201,))
                return
            except RegistryUnreachable:
                # Only a cut or unanswered request is worth repeating; a refusal (401, 404,
                # 5xx, a cancel) would only be refused again.
                if attempt == self.retries:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def put_manifest(self, manifest: bytes, tag: str, media_type: str) -> str:
        response = self.do_request(
            self._url(f"manifests/{tag}"),
            "PUT",
            data=manifest,
            headers={"Content-Type": media_type},
        )
        self._expect(response, "tag the manifest", (201,))
        return response.headers.get("Docker-Content-Digest", "")

    def _expect(
        self, response: requests.Response, doing: str, statuses: tuple[int, ...] = (200,)
    ) -> None:
        if response.status_code not in statuses:
            raise RegistryError(
                f"The registry {self.target.registry} would not {doing} in "
                f"{self.target.path} ({response.status_code}: "
                f"{_oci_error(response)})."
            )


def _oci_error(response: requests.Response) -> str:
    """The registry's own words for an error, with any secret it echoed scrubbed."""
    try:
        errors = response.json().get("errors") or []
        return scrub("; ".join(str(e.get("message", e)) for e in errors) or response.reason)
    except (ValueError, AttributeError):
        return scrub(" ".join(response.text.split()))[:160] or str(response.reason)
