"""The `workbench` command as a user runs it: a real process, real builds and runs, and
nothing of ours (traceback, Rust panic) on its output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from tests.conftest import copy_project, run_workbench, seed_code_blocks
from tests.integration.test_run import SEED_MODEL, SEED_PROMPT
from workbench.models import EchoProvider
from workbench.project.model import SkillProject

ECHO_REPLY = EchoProvider().complete_text(SEED_PROMPT, SEED_MODEL).text


def workbench(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = run_workbench(*args, cwd=cwd, env={"RUST_BACKTRACE": "1"})
    assert_nothing_of_ours_leaked(done.stdout + done.stderr)
    return done


def assert_nothing_of_ours_leaked(text: str) -> None:
    """A skill's own traceback may be shown; a frame of ours or a Rust panic never."""
    for sign in ("panicked", "panic in a function", "RUST_BACKTRACE", "wasm backtrace"):
        assert sign not in text, text
    assert not re.search(r'File ".*(site-packages|/workbench/|/lib/python)', text), text


def test_build_then_run_prints_the_echo_reply(haiku_project: SkillProject) -> None:
    built = workbench("build", haiku_project.root)
    assert built.returncode == 0
    assert "up to date (inputs unchanged, cache hit)" in built.stderr
    ran = workbench("run", haiku_project.root, "--input", "oak trees")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == ECHO_REPLY + "\n"


def test_json_result_carries_the_csi_call(haiku_project: SkillProject) -> None:
    ran = workbench(
        "run", haiku_project.root, "--input", "oak trees", "--json", "--model", "luminous-base"
    )
    result = json.loads(ran.stdout)
    assert result["ok"] and result["error"] is None
    (call,) = result["csi_calls"]
    assert call["request"] == {"prompt": SEED_PROMPT, "model": SEED_MODEL}
    assert call["model_served"] == "luminous-base"
    assert set(result["timings"]) == {"load", "instantiate", "run"}


def test_seed_copied_by_hand_into_an_empty_folder_builds_and_runs(tmp_path: Path) -> None:
    blocks = seed_code_blocks()
    (tmp_path / "skill.wit").write_text(blocks["wit"])
    (tmp_path / "haiku.py").write_text(blocks["python"])
    assert workbench("build", ".", cwd=tmp_path).returncode == 0
    ran = workbench("run", ".", "--input", "oak trees", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == ECHO_REPLY + "\n"
    assert (tmp_path / "build/haiku.wasm").exists()


def test_new_project_runs_straight_away_building_first(tmp_path: Path) -> None:
    created = workbench("new", "poem", tmp_path / "poem")
    assert created.returncode == 0
    assert {p.name for p in (tmp_path / "poem").iterdir()} == {
        "poem.py",
        "skill.wit",
        "workbench.toml",
        ".gitignore",
    }
    # No --input: the template's workbench.toml has one. The stale project is built first.
    ran = workbench("run", tmp_path / "poem")
    assert ran.returncode == 0, ran.stderr
    assert "Built " in ran.stderr
    assert ran.stdout == ECHO_REPLY + "\n"


def test_new_json_has_one_shape_whether_it_worked_or_not(tmp_path: Path) -> None:
    made = workbench("new", "poem", tmp_path / "poem", "--template", "seed", "--json")
    again = workbench("new", "poem", tmp_path / "poem", "--json")
    assert (made.returncode, again.returncode) == (0, 1)
    good, bad = json.loads(made.stdout), json.loads(again.stdout)
    assert set(good) == set(bad)
    assert good["ok"] and (good["template"], good["module"]) == ("seed", "poem")
    assert not bad["ok"] and bad["error"]["kind"] == "project"
    assert "is not empty; pick a new folder" in bad["error"]["message"]
    # `--template seed` is the default template: the seed's haiku and skill.wit.
    assert {p.name for p in (tmp_path / "poem").iterdir()} == {
        "poem.py",
        "skill.wit",
        "workbench.toml",
        ".gitignore",
    }


def test_failing_skill_exits_1_with_its_traceback_and_one_error_line(behaviours_project):
    ran = workbench("run", behaviours_project.root, "--input", "raise")
    assert ran.returncode == 1
    assert f'File "{behaviours_project.module_path}", line 18, in run' in ran.stderr
    assert ran.stderr.rstrip().splitlines()[-1] == (
        "error: The skill raised ValueError: bad input; its traceback shows where."
    )
    assert ran.stdout == ""


def test_skill_prints_go_to_stderr_and_output_to_stdout(behaviours_project) -> None:
    ran = workbench("run", behaviours_project.root, "--input", "print")
    assert ran.returncode == 0
    assert "to stdout\n" in ran.stderr and "to stderr\n" in ran.stderr
    assert ran.stdout.startswith("[echo: model 'behaviour-model'")


def test_a_last_stderr_line_without_newline_is_printed(behaviours_project) -> None:
    ran = workbench("run", behaviours_project.root, "-i", "tail")
    assert ran.returncode == 0, ran.stderr
    assert "last words\n" in ran.stderr
    assert ran.stdout == "done\n"


def test_timeout_and_memory_limit_flags(behaviours_project) -> None:
    looped = workbench("run", behaviours_project.root, "-i", "loop", "--timeout", "0.5")
    assert looped.returncode == 1
    assert "stopped after 0.5 s" in looped.stderr
    hungry = workbench("run", behaviours_project.root, "-i", "alloc", "--memory-limit", "32MiB")
    assert hungry.returncode == 1
    assert "ran out of memory at its limit of 32 MiB" in hungry.stderr


def test_user_errors_are_one_line(tmp_path: Path, haiku_project: SkillProject) -> None:
    empty = workbench("build", tmp_path)
    assert empty.returncode == 1
    assert empty.stderr.count("\n") == 1 and "defines `class Skill`" in empty.stderr

    no_input = copy_project(haiku_project.root, tmp_path / "h")
    (no_input / "workbench.toml").unlink()  # its [run] input is the default
    missing = workbench("run", no_input)
    assert missing.returncode == 1 and "pass --input TEXT" in missing.stderr

    (no_input / "skill.wit").unlink()
    shutil.copy(no_input / "haiku.py", no_input / "other.py")
    broken = workbench("build", no_input)
    assert broken.returncode == 1 and broken.stderr.count("\n") == 1

    bad_size = workbench("run", haiku_project.root, "-i", "x", "--memory-limit", "lots")
    assert bad_size.returncode == 2 and "memory-limit" in bad_size.stderr


def test_run_json_has_one_shape_for_a_run_and_a_failed_build(
    haiku_project: SkillProject, tmp_path: Path
) -> None:
    ran = workbench("run", haiku_project.root, "--input", "oak trees", "--json")
    broken = copy_project(haiku_project.root, tmp_path / "broken")
    source = broken / "haiku.py"
    source.write_text(source.read_text().replace("def run(self, in_: str) -> str:", "def run("))
    failed = workbench("run", broken, "--input", "oak trees", "--json")
    assert failed.returncode == 1
    good, bad = json.loads(ran.stdout), json.loads(failed.stdout)
    assert set(bad) == set(good)
    assert set(bad["error"]) == {"kind", "message", "details", "diagnostics"}
    assert bad["error"]["kind"] == "build" and bad["provider"] == good["provider"] == "echo"
    assert bad["error"]["diagnostics"][0].startswith(f"{source}:6")


def test_the_skills_output_cannot_drive_the_terminal_unless_raw(haiku_project) -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07 oak"
    ran = workbench("run", haiku_project.root, "--input", hostile)
    assert ran.returncode == 0
    assert "\x1b" not in ran.stdout and "\\x1b[2J\\x1b]0;pwned\\x07 oak" in ran.stdout
    raw = workbench("run", haiku_project.root, "--input", hostile, "--raw")
    assert hostile in raw.stdout


def test_max_prints_bounds_what_run_keeps_and_says_so(behaviours_project) -> None:
    ran = workbench("run", behaviours_project.root, "-i", "print-many:200", "--max-prints", "16KiB")
    assert ran.returncode == 0 and ran.stdout == "200\n"
    assert "more bytes of prints were not kept, past the limit of 16,384" in ran.stderr
    assert ran.stderr.count("q" * 1023) <= 16


def test_workbench_run_stops_a_sleeping_skill_at_its_limit(behaviours_project) -> None:
    started = time.monotonic()
    slept = workbench("run", behaviours_project.root, "-i", "sleep", "--timeout", "1")
    assert slept.returncode == 1
    assert "past its time limit of 1 s" in slept.stderr
    assert time.monotonic() - started < 30  # the skill asked for 1000 s
