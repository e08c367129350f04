"""What a build may touch and how long it may take: `output` stays in build/, `--output`
never hits a source, module-level code that never ends is stopped at the time limit or on
SIGTERM together with componentize-py, and a read-only project gets one sentence.

Real componentize-py builds are few: one succeeds, the others are stopped early or refused
before componentize-py starts."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPOSITORY, copy_project, run_workbench


def haiku_copy(target: Path) -> Path:
    return copy_project(REPOSITORY / "examples/haiku", target)


def looping_copy(target: Path, timeout: float | None = None) -> Path:
    """The example with module-level code that never ends (it runs during the build)."""
    root = haiku_copy(target)
    with (root / "haiku.py").open("a") as module:
        module.write("\nwhile True:\n    pass\n")
    if timeout is not None:
        with (root / "workbench.toml").open("a") as config:
            config.write(f"\n[build]\ntimeout = {timeout}\n")
    return root


def componentize_py_pids(root: Path) -> list[int]:
    """componentize-py processes building `root` (a unique tmp path, so no other test's)."""
    found = subprocess.run(
        ["pgrep", "-f", f"componentize-py .*{re.escape(str(root))}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [int(pid) for pid in found.stdout.split()]


@contextmanager
def no_orphans(root: Path) -> Iterator[None]:
    """Whatever the test asserts, kill (by pid) any componentize-py it left for `root`."""
    try:
        yield
    finally:
        for pid in componentize_py_pids(root):
            os.kill(pid, signal.SIGKILL)


def test_output_flag_writes_elsewhere_and_odd_files_do_not_hang(tmp_path: Path) -> None:
    # A FIFO named like a module and two kinds of link loop: neither the workbench's walk
    # nor componentize-py's may block on them (this is the one real build of this file).
    root = haiku_copy(tmp_path / "haiku")
    os.mkfifo(root / "x.py")
    (root / "sub").mkdir()
    (root / "sub/up").symlink_to("..")
    (root / "loop_a").symlink_to("loop_b")
    (root / "loop_b").symlink_to("loop_a")
    source = (root / "haiku.py").read_bytes()
    target = tmp_path / "elsewhere/haiku.wasm"

    done = run_workbench("build", root, "--output", target)

    assert done.returncode == 0, done.stderr
    assert target.read_bytes()[:4] == b"\0asm"
    assert not (root / "build").exists(), "--output replaces the build folder"
    assert (root / "haiku.py").read_bytes() == source


@pytest.mark.parametrize("target", ["haiku.py", "skill.wit", "workbench.toml", "helper.py"])
def test_output_flag_refuses_a_source_file(tmp_path: Path, target: str) -> None:
    root = haiku_copy(tmp_path / "haiku")
    before = {path: path.read_bytes() for path in root.iterdir()}

    done = run_workbench("build", root, "--output", root / target)

    assert done.returncode == 1
    assert "would overwrite the project's source" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert {path: path.read_bytes() for path in root.iterdir()} == before


@pytest.mark.parametrize("output", ["haiku.py", "../../x.wasm", "/tmp/x.wasm"])
def test_configured_output_outside_build_is_refused_with_its_line(
    tmp_path: Path, output: str
) -> None:
    root = haiku_copy(tmp_path / "haiku")
    config = root / "workbench.toml"
    config.write_text(config.read_text().replace("[skill]\n", f'[skill]\noutput = "{output}"\n'))
    source = (root / "haiku.py").read_bytes()

    done = run_workbench("build", root)

    assert done.returncode == 1
    assert f"{config}:2: `skill.output` must be a file in the project's build/ folder" in (
        done.stderr
    )
    assert "--output FILE" in done.stderr
    assert (root / "haiku.py").read_bytes() == source


def test_build_time_limit_stops_componentize_py_and_says_so(tmp_path: Path) -> None:
    root = looping_copy(tmp_path / "looping", timeout=3)
    with no_orphans(root):
        started = time.monotonic()
        done = run_workbench("build", root)
        took = time.monotonic() - started

        assert done.returncode == 1
        assert "The build took longer than 3 s and was stopped" in done.stderr
        assert "[build] in workbench.toml" in done.stderr
        assert took < 30
        assert componentize_py_pids(root) == []
        assert not list((root / "build").glob(".*partial"))


def test_sigterm_stops_the_build_and_componentize_py_with_it(tmp_path: Path) -> None:
    root = looping_copy(tmp_path / "sigterm")
    with no_orphans(root):
        workbench = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "build", str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not componentize_py_pids(root):
                assert workbench.poll() is None, workbench.communicate()
                assert time.monotonic() < deadline, "componentize-py never started"
                time.sleep(0.1)
            time.sleep(1)  # well into the module's endless loop

            workbench.send_signal(signal.SIGTERM)
            _, stderr = workbench.communicate(timeout=30)
        finally:
            if workbench.poll() is None:
                workbench.kill()
                workbench.wait()

        assert componentize_py_pids(root) == [], "componentize-py outlived the workbench"
        assert workbench.returncode == 1
        assert "The build was stopped by SIGTERM" in stderr
        assert "internal error" not in stderr


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(a writable project folder, the same folder mounted read-only). Root ignores file
    modes, so only a read-only mount makes writes fail for real."""
    source, view = tmp_path / "source", tmp_path / "view"
    view.mkdir()
    haiku_copy(source)
    bound = subprocess.run(["mount", "--bind", str(source), str(view)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.decode().strip()}")
    try:
        remounted = subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(view)], capture_output=True
        )
        if remounted.returncode != 0:
            pytest.skip(f"cannot make a read-only mount: {remounted.stderr.decode().strip()}")
        yield source, view
    finally:
        subprocess.run(["umount", str(view)], check=True)


@pytest.mark.parametrize("with_component", [False, True])
def test_read_only_project_gets_one_sentence_and_keeps_its_component(
    read_only_mount: tuple[Path, Path], with_component: bool
) -> None:
    source, view = read_only_mount
    if with_component:  # a last good component, with no input record, so the build runs
        (source / "build").mkdir()
        (source / "build/haiku.wasm").write_bytes(b"\0asm last good")

    done = run_workbench("build", view)

    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "internal error" not in line
    assert f"Cannot write the component into {view / 'build'} (Read-only file system)" in line
    assert "make that folder writable, or build elsewhere with" in line
    if with_component:
        assert (source / "build/haiku.wasm").read_bytes() == b"\0asm last good"
