"""A small token issuer for docker-registry's `auth.token` (the Docker token protocol):
Basic credentials in, an RS256-signed JWT out, with the signing certificate in `x5c` so the
registry can check it against its `rootcertbundle`."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ISSUER = "workbench-test-issuer"
SERVICE = "workbench-test-registry"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class TokenIssuer:
    url: str
    certificate: Path
    issued: list[str]


def make_signing_pair(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "token.key", folder / "token.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=token issuer",
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


@contextmanager
def token_issuer(folder: Path, users: dict[str, str]) -> Iterator[TokenIssuer]:
    key_path, cert_path = make_signing_pair(folder)
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    der = subprocess.run(
        ["openssl", "x509", "-in", str(cert_path), "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    issued: list[str] = []

    def sign(claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = key.sign(
            signing_input.encode(),
            padding.PKCS1v15(),  # type: ignore[union-attr]
            hashes.SHA256(),
        )
        return f"{signing_input}.{_b64(signature)}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            auth = self.headers.get("Authorization", "")
            user, _, password = (
                base64.b64decode(auth[6:]).decode().partition(":")
                if auth.startswith("Basic ")
                else ("", "", "")
            )
            if users.get(user) != password or not user:
                self.send_response(401)
                self.end_headers()
                return
            access = []
            for scope in query.get("scope", []):
                kind, name, actions = scope.split(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
            now = int(time.time())
            token = sign(
                {
                    "iss": ISSUER,
                    "sub": user,
                    "aud": query.get("service", [""])[0],
                    "exp": now + 300,
                    "nbf": now - 10,
                    "iat": now,
                    "jti": secrets.token_hex(8),
                    "access": access,
                }
            )
            issued.append(user)
            body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield TokenIssuer(f"http://127.0.0.1:{server.server_port}/token", cert_path, issued)
    finally:
        server.shutdown()
        server.server_close()
