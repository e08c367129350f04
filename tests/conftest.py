"""Fixtures for every test: a throwaway HOME so no test sees the developer's own config,
keyring or caches (the wasmtime compile cache included), and the test skills, each built once
per session with componentize-py (6-10 s and ~400 MiB a build) and shared read-only."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from workbench.build.builder import BuildEvent, BuildSucceeded, build
from workbench.project.model import SkillProject, load_project
from workbench.project.scaffold import TEMPLATES
from workbench.run.runtime import SkillRuntime

REPOSITORY = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        for name, folder in (
            ("XDG_CONFIG_HOME", ".config"),
            ("XDG_CACHE_HOME", ".cache"),
            ("XDG_DATA_HOME", ".local/share"),
            ("XDG_STATE_HOME", ".local/state"),
        ):
            (home / folder).mkdir(parents=True)
            patch.setenv(name, str(home / folder))
        for variable in (
            "WORKBENCH_COMPONENTIZE_PY",
            "WORKBENCH_API_KEY",
            "WORKBENCH_CONFIG",
            "DBUS_SESSION_BUS_ADDRESS",
            # An activated environment (with pharia-skill, say) must not decide which
            # environment an SDK project builds with: the tests name it.
            "VIRTUAL_ENV",
        ):
            patch.delenv(variable, raising=False)
        yield home


def run_workbench(
    *args: str | Path, cwd: Path | None = None, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The `workbench` command as a user runs it: a separate process, nothing on stdin
    unless given."""
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *map(str, args)],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def seed_code_blocks() -> dict[str, str]:
    """The seed document's fenced blocks by language: what a user would copy by hand."""
    text = (DATA / "seed.md").read_text(encoding="utf-8")
    return {lang.lower(): body for lang, body in re.findall(r"```(\w+)\n(.*?)```", text, re.S)}


T = TypeVar("T")


async def collect(events: AsyncIterator[T]) -> list[T]:
    return [event async for event in events]


def sse_events(text: str) -> list[tuple[str, Any]]:
    """Server-sent events as (event, data), parsed as strictly as the SDK's DevCsi parses
    them: each block exactly `event: X\ndata: Y`."""
    found = []
    for block in text.split("\n\n"):
        if not block:
            continue
        event, data = block.split("\n")
        assert event.startswith("event: ") and data.startswith("data: "), block
        found.append((event.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return found


def build_events(project: SkillProject, force: bool = False) -> list[BuildEvent]:
    return asyncio.run(collect(build(project, force=force)))


#: A build's events, each with the seconds since the build began at which it arrived.
TimedEvents = list[tuple[float, BuildEvent]]


async def collect_timed(events: AsyncIterator[BuildEvent]) -> TimedEvents:
    started = time.monotonic()
    return [(time.monotonic() - started, event) async for event in events]


def copy_project(source: Path, target: Path, with_wit: bool = True) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    if with_wit and not any(target.glob("*.wit")):
        shutil.copy(TEMPLATES / "skill.wit", target / "skill.wit")
    return target


def built(project_dir: Path, builds: dict[Path, TimedEvents]) -> SkillProject:
    """Build the project for real (forced: a copied `build/` must not make it a cache hit)
    and keep its events in `builds` under its folder, so the build tests can read the stream
    of a build that already ran instead of paying for another."""
    project = load_project(project_dir)
    events = asyncio.run(collect_timed(build(project, force=True)))
    builds[project.root] = events
    assert isinstance(events[-1][1], BuildSucceeded), events[-1]
    return project


@pytest.fixture(scope="session")
def session_builds() -> dict[Path, TimedEvents]:
    """The events of each session fixture's build, by project folder."""
    return {}


@pytest.fixture(scope="session")
def haiku_project(
    tmp_path_factory: pytest.TempPathFactory, session_builds: dict[Path, TimedEvents]
) -> SkillProject:
    """The bundled example, built; tests must not change its files (copy it instead)."""
    return built(
        copy_project(REPOSITORY / "examples/haiku", tmp_path_factory.mktemp("example") / "haiku"),
        session_builds,
    )


@pytest.fixture(scope="session")
def behaviours_project(
    tmp_path_factory: pytest.TempPathFactory, session_builds: dict[Path, TimedEvents]
) -> SkillProject:
    return built(
        copy_project(DATA / "skills/behaviours", tmp_path_factory.mktemp("skills") / "behaviours"),
        session_builds,
    )


@pytest.fixture(scope="session")
def runtime() -> SkillRuntime:
    return SkillRuntime()


# --- SDK (pharia-skill) projects --------------------------------------------------------------
#: The pharia-skill release the SDK tests build with (pip installs it from PyPI once a session).
SDK_VERSION = "0.20.0"


@dataclass(frozen=True)
class SdkEnvironment:
    """The session's one environment with pharia-skill, made by `workbench env` itself."""

    #: The virtual environment (`<project>/.venv`); every SDK test project names it.
    root: Path
    #: The project it was made for (a copy of tests/data/skills/sdk_skill pinning SDK_VERSION).
    project: Path
    #: That `workbench env PROJECT --json` run, and how long it took.
    made_by: subprocess.CompletedProcess[str]
    seconds: float


@pytest.fixture(scope="session")
def sdk_environment(tmp_path_factory: pytest.TempPathFactory) -> SdkEnvironment:
    """One environment with pharia-skill for the whole session (pip, ~10 s): made once by
    `workbench env`, then used by every SDK project through `[skill] environment`."""
    project = copy_project(
        DATA / "skills/sdk_skill", tmp_path_factory.mktemp("sdk-env") / "env_maker", False
    )
    (project / "requirements.txt").write_text(f"pharia-skill=={SDK_VERSION}\n")
    started = time.monotonic()
    done = run_workbench("env", project, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return SdkEnvironment(project / ".venv", project, done, time.monotonic() - started)


def sdk_project(source: Path, target: Path, environment: SdkEnvironment) -> Path:
    """A copy of the SDK skill at `source` that builds with the session's environment."""
    copy_project(source, target, with_wit=False)
    (target / "workbench.toml").write_text(f'[skill]\nenvironment = "{environment.root}"\n')
    return target


@pytest.fixture(scope="session")
def sdk_skill_build(
    tmp_path_factory: pytest.TempPathFactory,
    sdk_environment: SdkEnvironment,
    session_builds: dict[Path, TimedEvents],
) -> tuple[SkillProject, Path]:
    """tests/data/skills/sdk_skill (`@skill`, world `skill` of pharia:skill@0.3.11) built
    once with the workbench's builder: (the project, its component). Read-only: copy it
    (with `sdk_project`) to change it."""
    root = tmp_path_factory.mktemp("sdk-skills") / "sdk_skill"
    project = built(sdk_project(DATA / "skills/sdk_skill", root, sdk_environment), session_builds)
    return project, project.output


@pytest.fixture(scope="session")
def sdk_stream_build(
    tmp_path_factory: pytest.TempPathFactory,
    sdk_environment: SdkEnvironment,
    session_builds: dict[Path, TimedEvents],
) -> tuple[SkillProject, Path]:
    """tests/data/skills/sdk_stream (`@message_stream`, world `message-stream-skill` of
    pharia:skill@0.3.11) built once: (the project, its component). Read-only."""
    root = tmp_path_factory.mktemp("sdk-skills") / "sdk_stream"
    project = built(sdk_project(DATA / "skills/sdk_stream", root, sdk_environment), session_builds)
    return project, project.output


@dataclass(frozen=True)
class SecretService:
    bus_address: str
    password: str


@contextmanager
def session_bus(home: Path) -> Iterator[str]:
    """A private D-Bus session bus; yields its address and stops it on the way out."""
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": str(home)},
    )
    try:
        assert bus.stdout is not None
        yield bus.stdout.readline().strip()
    finally:
        bus.terminate()
        bus.wait(timeout=10)


@contextmanager
def keyring_daemon(home: Path, bus_address: str, password: str | None) -> Iterator[None]:
    """gnome-keyring's Secret Service on the bus, its keyring under `home`: unlocked with
    `password`, or locked without one. It runs in the foreground, as our child, so that it
    is stopped on the way out (`--start` hands over to a daemon that no test stops)."""
    runtime_dir = home / "run"  # its control socket: private, not another daemon's
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "DBUS_SESSION_BUS_ADDRESS": bus_address,
        "XDG_RUNTIME_DIR": str(runtime_dir),
    }
    env.pop("DISPLAY", None)  # no unlock prompt can be shown, as on a server
    command = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
    daemon = subprocess.Popen(
        [*command, "--unlock"] if password is not None else command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert daemon.stdin is not None
        daemon.stdin.write(password or "")
        daemon.stdin.close()
        _wait_for_secret_service(bus_address)
        yield
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


@pytest.fixture(scope="session")
def secret_service(isolated_home: Path) -> Iterator[SecretService]:
    """A real Secret Service: gnome-keyring on a private D-Bus session bus, unlocked, with
    its keyring under the tests' HOME."""
    import keyring

    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: apt-get install gnome-keyring dbus dbus-x11")
    password = "keyring-test-password"
    with (
        session_bus(isolated_home) as address,
        keyring_daemon(isolated_home, address, password),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        patch.delenv("DISPLAY", raising=False)
        import keyring.backends.SecretService

        # keyring detects backends once per process; this one may have looked before the
        # daemon ran. A fresh process finds it by itself (the CLI tests show that).
        keyring.set_keyring(keyring.backends.SecretService.Keyring())
        yield SecretService(address, password)
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())  # what a machine without one has


def _wait_for_secret_service(address: str) -> None:
    """gnome-keyring registers on the bus a moment after it starts."""
    import time

    for _ in range(100):
        probe = subprocess.run(
            [
                "dbus-send",
                f"--bus={address}",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if "boolean true" in probe.stdout:
            return
        time.sleep(0.05)
    pytest.fail("gnome-keyring did not register the Secret Service on the test bus")
