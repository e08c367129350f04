"""A real OCI registry (Debian's docker-registry) on loopback, with htpasswd auth, over
plain HTTP or TLS with a throwaway CA."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

USER = "skill-publisher"
PASSWORD = "registry-test-token-51c8"


@dataclass(frozen=True)
class RunningRegistry:
    host: str  # 127.0.0.1:PORT
    storage: Path
    log: Path
    ca_file: Path | None
    process: subprocess.Popen[bytes]

    @property
    def tls(self) -> bool:
        return self.ca_file is not None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a leaf for 127.0.0.1 (CA:FALSE, a SAN, serverAuth: rustls and OpenSSL
    clients both accept it). Returns (ca, leaf certificate, leaf key)."""
    ca_key, ca, key, csr, cert = (
        folder / n for n in ("ca.key", "ca.pem", "leaf.key", "leaf.csr", "leaf.pem")
    )
    extensions = folder / "leaf.ext"
    extensions.write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
    )

    def run(*args: object) -> None:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        ca_key,
        "-out",
        ca,
        "-days",
        "2",
        "-subj",
        "/CN=workbench test CA",
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        csr,
        "-subj",
        "/CN=127.0.0.1",
    )
    run(
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca,
        "-CAkey",
        ca_key,
        "-CAcreateserial",
        "-out",
        cert,
        "-days",
        "2",
        "-extfile",
        extensions,
    )
    trust = folder / "trust"  # skopeo's --cert-dir wants *.crt files
    trust.mkdir(exist_ok=True)
    (trust / "ca.crt").write_bytes(ca.read_bytes())
    return ca, cert, key


@contextmanager
def oci_registry(
    folder: Path, *, tls: bool = False, token: tuple[str, Path] | None = None
) -> Iterator[RunningRegistry]:
    """htpasswd auth, or with `token=(realm URL, signing certificate)` the registry's token
    auth against that issuer."""
    folder.mkdir(parents=True, exist_ok=True)
    htpasswd = folder / "htpasswd"
    htpasswd.write_bytes(
        subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True).stdout
    )
    port = free_port()
    tls_lines, ca = "", None
    if tls:
        ca, cert, key = make_certificates(folder)
        tls_lines = f"  tls:\n    certificate: {cert}\n    key: {key}\n"
    auth_lines = f"auth:\n  htpasswd:\n    realm: workbench-tests\n    path: {htpasswd}\n"
    if token is not None:
        from tests.servers.token_issuer import ISSUER, SERVICE

        auth_lines = (
            f"auth:\n  token:\n    realm: {token[0]}\n    service: {SERVICE}\n"
            f"    issuer: {ISSUER}\n    rootcertbundle: {token[1]}\n"
        )
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {folder / 'storage'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{tls_lines}" + auth_lines
    )
    log = folder / "registry.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config)], stdout=log_file, stderr=subprocess.STDOUT
        )
    running = RunningRegistry(f"127.0.0.1:{port}", folder / "storage", log, ca, process)
    scheme = "https" if tls else "http"
    try:
        for _ in range(200):
            try:
                if (
                    requests.get(
                        f"{scheme}://{running.host}/v2/", timeout=1, verify=str(ca) if ca else True
                    ).status_code
                    == 401
                ):
                    break
            except requests.RequestException:
                time.sleep(0.02)
        else:
            raise RuntimeError(f"docker-registry did not start: {log.read_text()[-2000:]}")
        yield running
    finally:
        process.terminate()
        process.wait(timeout=10)
