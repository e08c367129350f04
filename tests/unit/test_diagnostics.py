"""Parsing componentize-py's error output (samples captured from real 0.25.1 builds; the
integration tests check the same against live builds)."""

from pathlib import Path

from workbench.build.diagnostics import Diagnostic, map_sandbox_paths, parse_build_errors

SYNTAX = """Traceback (most recent call last):
  File "/usr/bin/componentize-py", line 8, in <module>
    sys.exit(script())
             ^^^^^^^^
AssertionError:   File "/0/bad.py", line 4
    class Skill(skill.Skill)
                            ^
SyntaxError: expected ':'


Caused by:
    SyntaxError: expected ':' (bad.py, line 4)"""

NESTED = """AssertionError: Traceback (most recent call last):
  File "/0/app.py", line 1, in <module>
    import helpers
  File "/1/helpers.py", line 3, in <module>
    import missing
ModuleNotFoundError: No module named 'missing'


Caused by:
    ModuleNotFoundError: No module named 'missing\'"""


def test_syntax_error_column_accounts_for_stripped_indentation(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import skill\n\n\n    class Skill(skill.Skill)\n")
    (diagnostic,) = parse_build_errors(SYNTAX, [tmp_path], tmp_path)
    assert diagnostic == Diagnostic("SyntaxError: expected ':'", tmp_path / "bad.py", 4, 29)
    assert diagnostic.format(tmp_path) == "bad.py:4:29: SyntaxError: expected ':'"


def test_innermost_project_frame_across_python_paths(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    (diagnostic,) = parse_build_errors(NESTED, [tmp_path, lib], tmp_path)
    assert (diagnostic.path, diagnostic.line) == (lib / "helpers.py", 3)
    assert diagnostic.message == "ModuleNotFoundError: No module named 'missing'"


def test_error_without_a_location_keeps_the_summary(tmp_path: Path) -> None:
    text = "AssertionError: bad world\n\nCaused by:\n    World `nope` not found in package"
    (diagnostic,) = parse_build_errors(text, [tmp_path], tmp_path)
    assert diagnostic.path is None and diagnostic.message == "bad world"


def test_map_sandbox_paths_leaves_unknown_indexes(tmp_path: Path) -> None:
    text = 'File "/0/a.py", line 1\nFile "/7/b.py", line 2'
    assert map_sandbox_paths(text, [tmp_path]) == (
        f'File "{tmp_path}/a.py", line 1\nFile "/7/b.py", line 2'
    )
