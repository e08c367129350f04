"""Publishing to a real registry (Debian's docker-registry) on loopback, read back with
skopeo exactly as a kernel's OCI client would see it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import copy_project
from tests.conftest import run_workbench as workbench
from tests.servers.oci_registry import PASSWORD, USER, RunningRegistry, oci_registry
from workbench.build.builder import is_up_to_date
from workbench.errors import ComponentError, RegistryError
from workbench.project.model import load_project
from workbench.publish.registry import RegistryCredentials, RegistryTarget, SkillRegistry
from workbench.publish.steps import publish, registry_credentials
from workbench.run.runtime import SkillRuntime

GOOD = RegistryCredentials(USER, PASSWORD)


@pytest.fixture(scope="module")
def http_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with oci_registry(tmp_path_factory.mktemp("registry-http")) as running:
        yield running


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with oci_registry(tmp_path_factory.mktemp("registry-tls"), tls=True) as running:
        yield running


@pytest.fixture
def project(haiku_project, tmp_path: Path) -> Path:
    return copy_project(haiku_project.root, tmp_path / "haiku")


def skopeo(registry: RunningRegistry, reference: str, *options: str) -> bytes:
    tls = (
        ["--cert-dir", str(registry.ca_file.parent / "trust")]
        if registry.tls
        else ["--tls-verify=false"]
    )
    return subprocess.run(
        [
            "skopeo",
            "inspect",
            *options,
            *tls,
            "--creds",
            f"{USER}:{PASSWORD}",
            f"docker://{reference}",
        ],
        check=True,
        capture_output=True,
    ).stdout


def interface(component: Path, runtime: SkillRuntime) -> tuple[list[str], list[str]]:
    return runtime.component_interface(component)


ENV = {"SKILL_REGISTRY_USER": USER, "SKILL_REGISTRY_TOKEN": PASSWORD}


def log_in(registry: RunningRegistry, stdin: str) -> subprocess.CompletedProcess[str]:
    return workbench(
        "login", registry.host, "-u", USER, "--password-stdin", "--insecure", stdin=stdin
    )


def test_published_artifact_is_exactly_what_kernels_pull(http_registry, project, runtime):
    published = workbench(
        "publish",
        project,
        "--registry",
        http_registry.host,
        "--repository",
        "engineering/skills",
        "--insecure",
        env=ENV,
    )
    assert published.returncode == 0, published.stderr
    reference = f"{http_registry.host}/engineering/skills/haiku:latest"
    assert f"Published {reference}" in published.stdout
    assert "may serve its cached copy" in published.stdout
    assert "Current Pharia Kernels will refuse this skill" in published.stderr
    assert "pharia:skill/skill: loaded by only Pharia Kernels before 0.4" in published.stderr

    manifest_bytes = skopeo(http_registry, reference, "--raw")
    config_bytes = skopeo(http_registry, reference, "--config", "--raw")
    component = (project / "build/haiku.wasm").read_bytes()
    manifest = json.loads(manifest_bytes)
    assert list(manifest) == ["config", "layers", "mediaType", "schemaVersion"]
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["schemaVersion"] == 2
    assert manifest["config"]["mediaType"] == "application/vnd.wasm.config.v0+json"
    assert manifest["config"]["size"] == len(config_bytes)
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == "application/wasm" and layer["size"] == len(component)
    assert manifest_bytes.strip() == json.dumps(manifest, separators=(",", ":")).encode()

    config = json.loads(config_bytes)
    assert list(config) == ["created", "author", "architecture", "os", "layerDigests", "component"]
    assert (config["author"], config["architecture"], config["os"]) == (None, "wasm", "wasip2")
    assert config["layerDigests"] == [layer["digest"]]
    imports, exports = interface(project / "build/haiku.wasm", runtime)
    assert config["component"] == {"exports": exports, "imports": imports, "target": None}
    assert "pharia:skill/csi" in imports and exports == ["exports", "run"]
    assert config["created"].endswith("Z") and len(config["created"]) == 30

    digest = published.stdout.split("digest ")[1].split()[0]
    assert digest == "sha256:" + __import__("hashlib").sha256(manifest_bytes.strip()).hexdigest()

    # The target is remembered; publishing the same component again changes nothing.
    assert 'registry = "' + http_registry.host in (project / "workbench.toml").read_text()
    again = workbench("publish", project, env=ENV)
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout and digest in again.stdout
    assert skopeo(http_registry, reference, "--raw") == manifest_bytes


def test_tags_are_listed_and_deleted(http_registry, project, runtime) -> None:
    target = RegistryTarget(http_registry.host, "tags", "haiku", "v1", insecure=True)
    imports, exports = interface(project / "build/haiku.wasm", runtime)
    events: list[object] = []
    publish(project / "build/haiku.wasm", imports, exports, target, GOOD, on_event=events.append)
    publish(
        project / "build/haiku.wasm",
        imports,
        exports,
        RegistryTarget(http_registry.host, "tags", "haiku", "v2", insecure=True),
        GOOD,
    )
    assert any(type(e).__name__ == "UploadProgress" for e in events)
    listed = workbench(
        "tags", project, "-R", http_registry.host, "-r", "tags", "--insecure", env=ENV
    )
    assert listed.stdout.split() == ["v1", "v2"]
    deleted = workbench(
        "tags",
        project,
        "-R",
        http_registry.host,
        "-r",
        "tags",
        "--insecure",
        "--delete",
        "v1",
        env=ENV,
    )
    assert deleted.returncode == 0, deleted.stderr
    assert SkillRegistry(target, GOOD).tags() == ["v2"]


def test_tls_registry_with_its_ca_and_without(tls_registry, project, runtime) -> None:
    imports, exports = interface(project / "build/haiku.wasm", runtime)
    trusted = RegistryTarget(tls_registry.host, "secure", "haiku", ca_file=tls_registry.ca_file)
    result = publish(project / "build/haiku.wasm", imports, exports, trusted, GOOD)
    assert json.loads(skopeo(tls_registry, trusted.reference, "--raw"))["layers"]
    assert result.digest.startswith("sha256:")

    from tests.servers.oci_registry import make_certificates

    other = project.parent / "other-ca"
    other.mkdir()
    wrong_ca, _, _ = make_certificates(other)
    wrong = RegistryTarget(tls_registry.host, "secure", "haiku", ca_file=wrong_ca)
    with pytest.raises(RegistryError, match="is not trusted"):
        publish(project / "build/haiku.wasm", imports, exports, wrong, GOOD)

    untrusted = RegistryTarget(tls_registry.host, "secure", "haiku")
    with pytest.raises(
        RegistryError, match=r"TLS certificate of the registry .* is not trusted; pass --ca-file"
    ):
        publish(project / "build/haiku.wasm", imports, exports, untrusted, GOOD)


@pytest.mark.parametrize("credentials", [RegistryCredentials(USER, "wrong"), None])
def test_wrong_or_missing_credentials(http_registry, project, runtime, credentials) -> None:
    imports, exports = interface(project / "build/haiku.wasm", runtime)
    target = RegistryTarget(http_registry.host, "denied", "haiku", insecure=True)
    with pytest.raises(RegistryError) as caught:
        publish(project / "build/haiku.wasm", imports, exports, target, credentials)
    assert f"The registry {http_registry.host} refused the credentials" in str(caught.value)
    assert "workbench login" in str(caught.value)


def test_a_stopped_registry_is_one_sentence(project, runtime, tmp_path: Path) -> None:
    with oci_registry(tmp_path / "registry") as running:
        host = running.host
    published = workbench("publish", project, "-R", host, "-r", "x", "--insecure", env=ENV)
    assert published.returncode == 1
    assert published.stderr.strip().splitlines()[-1] == (
        f"error: Cannot reach the registry {host} (connection refused); check that it is "
        "running and that the address is right."
    )


def test_publish_needs_a_target_and_builds_when_stale(http_registry, project) -> None:
    missing = workbench("publish", project)
    assert missing.returncode == 1 and "No registry to publish to" in missing.stderr
    source = project / "haiku.py"
    source.write_text(source.read_text().replace("haiku", "poem"))  # the build is now stale
    published = workbench(
        "publish", project, "-R", http_registry.host, "-r", "stale", "--insecure", env=ENV
    )
    assert published.returncode == 0, published.stderr
    assert "Building haiku" in published.stderr  # the changed source is what was published
    assert is_up_to_date(load_project(project))
    assert 'repository = "stale"' in (project / "workbench.toml").read_text()


def test_login_checks_then_saves_in_the_keyring_and_publish_uses_it(
    secret_service, http_registry, project, isolated_home: Path, tmp_path: Path
) -> None:
    refused = log_in(http_registry, "wrong\n")
    assert refused.returncode == 1 and "refused the credentials" in refused.stderr
    assert registry_credentials(http_registry.host) is None

    logged_in = log_in(http_registry, PASSWORD + "\n")
    assert logged_in.returncode == 0, logged_in.stderr
    assert registry_credentials(http_registry.host) == GOOD

    published = workbench(
        "publish", project, "-R", http_registry.host, "-r", "keyring", "--insecure"
    )
    assert published.returncode == 0, published.stderr
    outputs = "".join(p.stdout + p.stderr for p in (refused, logged_in, published))
    assert PASSWORD not in outputs
    for root in (isolated_home, project, http_registry.log.parent):
        for file in root.rglob("*"):
            if file.is_file() and file.name != "htpasswd":
                assert PASSWORD.encode() not in file.read_bytes(), file

    assert workbench("logout", http_registry.host).returncode == 0
    assert registry_credentials(http_registry.host) is None


def test_kernel_compatibility_names_the_world_and_the_kernels_that_load_it() -> None:
    from workbench.run.worlds import detect_world

    assert "0.13.10" in detect_world([], {"pharia:skill/skill-handler@0.3.11": None}).kernels
    assert "0.15" in detect_world([], {"pharia:skill/message-stream@0.5.0": None}).kernels
    assert "before 0.4" in detect_world(["pharia:skill/csi"], {"run": None}).kernels
    with pytest.raises(ComponentError, match="newer than any world"):
        detect_world([], {"pharia:skill/skill-handler@0.6.0": None})


def test_a_push_cut_off_half_way_is_completed_by_a_retry(http_registry, project, runtime):
    from tests.servers.flaky_proxy import flaky_proxy

    component = project / "build/haiku.wasm"
    imports, exports = interface(component, runtime)
    with flaky_proxy(http_registry.host, cut_after=4_000_000) as (proxy, state):
        target = RegistryTarget(proxy, "flaky", "haiku", insecure=True)
        result = publish(component, imports, exports, target, GOOD)
    assert state.cuts == 1, "the proxy cut the upload once"
    direct = f"{http_registry.host}/flaky/haiku:latest"
    manifest = json.loads(skopeo(http_registry, direct, "--raw"))
    assert manifest["layers"][0]["size"] == component.stat().st_size
    assert result.digest.startswith("sha256:")


def test_registry_errors_and_cancel(http_registry, project, runtime) -> None:
    from workbench.cancel import CancelToken
    from workbench.errors import PublishCancelled

    component = project / "build/haiku.wasm"
    imports, exports = interface(component, runtime)
    token = CancelToken()
    token.cancel()
    target = RegistryTarget(http_registry.host, "cancelled", "haiku", insecure=True)
    with pytest.raises(PublishCancelled):
        publish(component, imports, exports, target, GOOD, cancel=token)
    assert SkillRegistry(target, GOOD).tags() == []


def test_a_token_auth_registry(project, runtime, tmp_path: Path) -> None:
    from tests.servers.token_issuer import token_issuer

    component = project / "build/haiku.wasm"
    imports, exports = interface(component, runtime)
    with (
        token_issuer(tmp_path, {USER: PASSWORD}) as issuer,
        oci_registry(tmp_path / "registry", token=(issuer.url, issuer.certificate)) as running,
    ):
        target = RegistryTarget(running.host, "tokens", "haiku", insecure=True)
        result = publish(component, imports, exports, target, GOOD)
        assert SkillRegistry(target, GOOD).tags() == ["latest"]
        with pytest.raises(RegistryError, match="refused the credentials"):
            publish(component, imports, exports, target, RegistryCredentials(USER, "nope"))
    assert issuer.issued and set(issuer.issued) == {USER}
    assert result.digest.startswith("sha256:")


def test_a_failing_registry_says_so(project, runtime) -> None:
    """A gateway in front of the registry answering 503 (a stand-in: a real registry cannot
    be made to fail on demand)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Failing(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_POST = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        component = project / "build/haiku.wasm"
        imports, exports = interface(component, runtime)
        target = RegistryTarget(f"127.0.0.1:{server.server_port}", "x", "haiku", insecure=True)
        with pytest.raises(RegistryError, match=r"failed with 503 .*; try again later"):
            publish(component, imports, exports, target, GOOD)
    finally:
        server.shutdown()
        server.server_close()


def test_skill_environment_variables_as_pharia_skill_reads_them(
    http_registry, project, monkeypatch
) -> None:
    env = {**ENV, "SKILL_REGISTRY": http_registry.host, "SKILL_REPOSITORY": "from-env"}
    published = workbench("publish", project, "--insecure", env=env)
    assert published.returncode == 0, published.stderr
    assert f"Published {http_registry.host}/from-env/haiku:latest" in published.stdout


def test_login_without_a_keyring_points_at_the_variables(http_registry, monkeypatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    logged_in = log_in(http_registry, PASSWORD + "\n")
    assert logged_in.returncode == 1
    assert logged_in.stderr == (
        "error: There is no OS keyring to save the secret in; set SKILL_REGISTRY_TOKEN instead.\n"
    )


def test_only_a_cut_or_unanswered_request_is_unreachable_and_retried(http_registry) -> None:
    """Whether to try again is decided by the error's type, not its wording: a cut upload
    and a timeout are RegistryUnreachable (retried); a 401 is not (never retried)."""
    import hashlib
    import socket
    import time

    from tests.servers.flaky_proxy import flaky_proxy
    from workbench.errors import RegistryUnreachable

    data = bytes(range(256)) * 4096  # 1 MiB: every try is cut while it is sent
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with flaky_proxy(http_registry.host, cut_after=100_000) as (proxy, state):
        state.cuts_left = 10
        target = RegistryTarget(proxy, "cut-always", "haiku", insecure=True)
        with pytest.raises(RegistryUnreachable, match=r"\(the connection was cut\)"):
            SkillRegistry(target, GOOD, retries=2).upload(data, digest)
    assert state.cuts == 3, "the cut upload was tried three times"

    with socket.create_server(("127.0.0.1", 0)) as silent:  # connects, never answers
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(RegistryUnreachable, match=r"did not answer within 0.3 s"):
            SkillRegistry(RegistryTarget(host, "x", "haiku", insecure=True), GOOD, timeout=0.3)

    target = RegistryTarget(http_registry.host, "refused-once", "haiku", insecure=True)
    with pytest.raises(RegistryError, match=r"refused the credentials .*\(401\)") as refused:
        SkillRegistry(target, RegistryCredentials(USER, "wrong")).upload(data, digest)
    assert not isinstance(refused.value, RegistryUnreachable)

    def upload_posts() -> int:
        log = http_registry.log.read_text(errors="replace")
        return log.count('"POST /v2/refused-once/haiku/blobs/uploads/ ')

    deadline = time.monotonic() + 2
    while upload_posts() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # the registry logs a request just after answering it
    assert upload_posts() == 1, "a refused upload is not tried again"
