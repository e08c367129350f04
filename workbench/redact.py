"""Secrets never shown, logged or written: every API key and registry token the workbench
reads is remembered here, and `scrub()` replaces them, and the credentials in URLs, in any
text before it is shown to the user or written to a file (messages, traces, JSON).
"""

from __future__ import annotations

import re
import threading

MASK = "•••"
#: Secrets shorter than this are not scrubbed: they would mask ordinary words.
_MIN_LENGTH = 6
#: `scheme://user:password@host` -> `scheme://•••@host`.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
#: An Authorization header echoed back by a server, whatever the secret.
_AUTHORIZATION = re.compile(
    r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic)\s+)[^\s\"',}]+"
)

_secrets: set[str] = set()
_lock = threading.Lock()


def remember_secret(secret: str | None) -> None:
    """Scrub `secret` from everything shown or written from now on (this process)."""
    if secret and len(secret) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(secret)


def scrub(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + MASK, text)
    return _URL_CREDENTIALS.sub(lambda m: m.group("scheme") + MASK + "@", text)
