"""What the command line prints of a skill: control characters shown, not obeyed, and the
skill's prints behind a gutter so none passes for the workbench's own `error:` line."""

from __future__ import annotations

import io

from workbench.cli.output import SkillPrints, terminal_safe
from workbench.errors import UsageError
from workbench.publish.steps import default_target


def test_terminal_escapes_are_written_out() -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil\x1b\\link\x9b1m\tok\n"
    shown = terminal_safe(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert shown == "\\x1b[2J\\x1b]0;pwned\\x07\\x1b]8;;http://evil\\x1b\\link\\x9b1m\tok\n"


def test_skill_prints_sit_behind_a_gutter_across_chunks() -> None:
    out = io.StringIO()
    prints = SkillPrints(out)
    for chunk in ("to std", "out\nerror: the build failed", "\n", "\x1b[31mred\n"):
        prints.write(chunk)
    assert out.getvalue() == "│ to stdout\n│ error: the build failed\n│ \\x1b[31mred\n"


def test_raw_prints_pass_through() -> None:
    out = io.StringIO()
    SkillPrints(out, raw=True).write("\x1b[31mred\n")
    assert out.getvalue() == "\x1b[31mred\n"


def test_a_bad_tag_or_an_upper_case_repository_is_said_before_any_request() -> None:
    for repository, tag, phrase in (
        ("Engineering/Skills", "v1", "not a repository path a registry accepts"),
        ("engineering/skills", "-v1", "not a tag a registry accepts"),
        ("engineering/skills", "v1:latest", "not a tag a registry accepts"),
    ):
        try:
            default_target("127.0.0.1:1", repository, "haiku", tag)
        except UsageError as error:
            assert phrase in str(error)
        else:
            raise AssertionError(f"{repository}:{tag} was accepted")


def test_a_memory_limit_past_what_wasm32_can_use_is_refused(capsys) -> None:
    import pytest

    from workbench.cli.parser import parser

    with pytest.raises(SystemExit):
        parser().parse_args(["run", ".", "--memory-limit", "5GiB"])
    assert "must be at most 4 GiB" in capsys.readouterr().err
    assert parser().parse_args(["run", ".", "--memory-limit", "4GiB"]).memory_limit == 4 << 30


def test_a_trace_never_holds_a_known_secret(tmp_path) -> None:
    from workbench.csi.record import CsiCall, write_trace
    from workbench.redact import remember_secret

    remember_secret("sk-echoed-by-the-model")
    call = CsiCall(
        function="complete-text",
        csi="complete_text",
        request={"prompt": "p", "model": "m"},
        model_requested="m",
        model_served="m",
        response="your key is sk-echoed-by-the-model",
        duration=0.1,
        provider="local",
    )
    write_trace([call], tmp_path / "trace.jsonl")
    written = (tmp_path / "trace.jsonl").read_text()
    assert "sk-echoed-by-the-model" not in written and "your key is •••" in written
