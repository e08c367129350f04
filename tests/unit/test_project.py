"""Reading a project folder: detection without workbench.toml, settings with it, and one
clear sentence for each way it can be wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPOSITORY
from workbench.errors import ProjectError, UsageError
from workbench.project.model import (
    DEFAULT_BUILD_TIMEOUT,
    DEFAULT_MEMORY_LIMIT,
    format_size,
    load_project,
    parse_size,
    with_output,
)
from workbench.project.scaffold import TEMPLATES, create_project


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    shutil.copy(REPOSITORY / "examples/haiku/haiku.py", tmp_path)
    shutil.copy(TEMPLATES / "skill.wit", tmp_path)
    return tmp_path


def test_detects_module_wit_and_world_without_config(seed_dir: Path) -> None:
    (seed_dir / "helpers.py").write_text("def helper():\n    return 1\n")
    project = load_project(seed_dir)
    assert project.module == "haiku"
    assert project.wit_path == seed_dir / "skill.wit"
    assert (project.package, project.world) == ("pharia:skill", "skill")
    assert project.qualified_world == "pharia:skill/skill"
    assert project.output == seed_dir / "build/haiku.wasm"
    assert project.run.memory_limit == DEFAULT_MEMORY_LIMIT
    assert project.python_paths == (seed_dir,)


def test_a_module_file_path_picks_that_module(seed_dir: Path) -> None:
    shutil.copy(seed_dir / "haiku.py", seed_dir / "other.py")
    assert load_project(seed_dir / "other.py").module == "other"


def test_config_overrides_detection(seed_dir: Path) -> None:
    (seed_dir / "wit").mkdir()
    shutil.move(seed_dir / "skill.wit", seed_dir / "wit/main.wit")
    (seed_dir / "lib").mkdir()
    (seed_dir / "workbench.toml").write_text(
        '[skill]\nmodule = "haiku"\nwit = "wit"\nworld = "skill"\noutput = "build/h.wasm"\n'
        'python-path = ["lib"]\n\n[run]\ninput = "pines"\nmodel = "m"\ntimeout = 5\n'
        'memory-limit = "256MiB"\n'
    )
    project = load_project(seed_dir)
    assert project.wit_path == seed_dir / "wit"
    assert project.output == seed_dir / "build/h.wasm"
    assert project.python_paths == (seed_dir, seed_dir / "lib")
    assert (project.run.input, project.run.model, project.run.timeout) == ("pines", "m", 5.0)
    assert project.run.memory_limit == 256 << 20


def test_sources_skip_generated_bindings_and_build_output(seed_dir: Path) -> None:
    for generated in (
        "skill/__init__.py",
        "componentize_py_types.py",
        "poll_loop.py",
        "build/x.py",
        "__pycache__/y.py",
        ".venv/z.py",
    ):
        (seed_dir / generated).parent.mkdir(parents=True, exist_ok=True)
        (seed_dir / generated).write_text("")
    (seed_dir / "pkg").mkdir()
    (seed_dir / "pkg/util.py").write_text("")
    names = [p.relative_to(seed_dir).as_posix() for p in load_project(seed_dir).source_files()]
    assert names == ["haiku.py", "pkg/util.py", "skill.wit"]


@pytest.mark.parametrize(
    ("arrange", "phrase"),
    [
        (lambda d: (d / "haiku.py").unlink(), "defines `class Skill`"),
        (lambda d: shutil.copy(d / "haiku.py", d / "two.py"), "Several files define"),
        (lambda d: (d / "skill.wit").unlink(), "No .wit file"),
        (lambda d: shutil.copy(d / "skill.wit", d / "more.wit"), "Several .wit files"),
        (lambda d: (d / "skill.wit").write_text("package a:b;\n"), "exactly one world"),
        (lambda d: (d / "workbench.toml").write_text("[skill\n"), "is not valid TOML"),
        (
            lambda d: (d / "workbench.toml").write_text('[skill]\nmodule = "gone"\n'),
            "gone.py is missing",
        ),
        (
            lambda d: (d / "workbench.toml").write_text('[skill]\nworld = "nope"\n'),
            "world `nope` is not declared",
        ),
        (
            lambda d: (d / "workbench.toml").write_text('[skill]\nwit = "x.wit"\n'),
            "x.wit does not exist",
        ),
        (
            lambda d: (d / "workbench.toml").write_text('[run]\n\ntimeout = "soon"\n'),
            "workbench.toml:3: `run.timeout` must be",
        ),
        (
            lambda d: (d / "workbench.toml").write_text('[run]\nmemory-limit = "1MiB"\n'),
            "at least 16 MiB",
        ),
        (
            lambda d: (d / "workbench.toml").write_text('[run]\nmemory-limit = "5GiB"\n'),
            "at most 4 GiB",
        ),
    ],
)
def test_broken_projects_get_one_clear_sentence(seed_dir: Path, arrange, phrase) -> None:
    arrange(seed_dir)
    with pytest.raises(ProjectError) as caught:
        load_project(seed_dir)
    assert phrase in str(caught.value)
    assert "\n" not in str(caught.value)


def test_wit_comments_do_not_count_as_worlds(seed_dir: Path) -> None:
    wit = seed_dir / "skill.wit"
    wit.write_text("// world old { }\n/* world older {\n} */\n" + wit.read_text())
    assert load_project(seed_dir).world == "skill"


def test_new_project_from_template(tmp_path: Path) -> None:
    root = create_project("my-skill", tmp_path / "my-skill")
    project = load_project(root)
    assert project.module == "my_skill"
    assert project.run.input == "oak trees"
    with pytest.raises(ProjectError, match="is not empty"):
        create_project("my-skill", root)
    with pytest.raises(ProjectError, match="cannot name a Python module"):
        create_project("1st", tmp_path / "x")


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1GiB", 1 << 30),
        ("512MiB", 512 << 20),
        ("64m", 64 << 20),
        ("2048", 2048),
        (" 1.5 GB", 3 << 29),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_parse_size_rejects_nonsense_and_format_size_round_trips() -> None:
    with pytest.raises(ValueError):
        parse_size("lots")
    assert format_size(64 << 20) == "64 MiB" and format_size(1 << 30) == "1 GiB"


# --- Safety: where a build may write, which host folders it may bake in, and names that clash.


def _config(root: Path, skill_table: str) -> None:
    (root / "workbench.toml").write_text(f'[skill]\nmodule = "haiku"\n{skill_table}\n')


@pytest.mark.parametrize(
    "output",
    ["haiku.py", "../../x.wasm", "/tmp/x.wasm", "build/../haiku.py", "build", "out/h.wasm"],
)
def test_output_must_stay_in_the_build_folder(seed_dir: Path, output: str) -> None:
    _config(seed_dir, f'output = "{output}"')
    with pytest.raises(ProjectError) as caught:
        load_project(seed_dir)
    # The file and line that set it, and the way to write elsewhere on purpose.
    assert str(caught.value).startswith(f"{seed_dir / 'workbench.toml'}:3: `skill.output`")
    assert "build/ folder" in str(caught.value) or "must name a file" in str(caught.value)


def test_output_in_a_subfolder_of_build_is_fine(seed_dir: Path) -> None:
    _config(seed_dir, 'output = "build/release/haiku.wasm"')
    assert load_project(seed_dir).output == seed_dir / "build/release/haiku.wasm"


@pytest.mark.parametrize("entry", ["../../../../../etc", "/", "/etc", ".."])
def test_python_path_outside_the_project_is_refused(seed_dir: Path, entry: str) -> None:
    _config(seed_dir, f'python-path = ["{entry}"]')
    with pytest.raises(
        ProjectError, match=r"workbench.toml:3: `skill.python-path` names .* outside"
    ):
        load_project(seed_dir)


@pytest.mark.parametrize("entry", ["/", "..", "../.."])
def test_outside_python_path_never_takes_a_folder_holding_the_project(
    seed_dir: Path, entry: str
) -> None:
    _config(seed_dir, f'outside-python-path = ["{entry}"]')
    with pytest.raises(ProjectError, match="holds the project itself"):
        load_project(seed_dir)


def test_outside_python_path_takes_a_folder_named_on_purpose(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPOSITORY / "examples/haiku/haiku.py", root)
    shutil.copy(TEMPLATES / "skill.wit", root)
    (root / "lib").mkdir()
    (tmp_path / "shared").mkdir()
    _config(root, 'python-path = ["lib"]\noutside-python-path = ["../shared"]')
    project = load_project(root)
    assert project.python_paths == (root, root / "lib", tmp_path / "shared")
    _config(root, 'outside-python-path = ["../missing"]')
    with pytest.raises(ProjectError, match="is not a folder"):
        load_project(root)


@pytest.mark.parametrize("configured", [True, False])
def test_a_module_named_skill_clashes_with_the_bindings(seed_dir: Path, configured: bool) -> None:
    shutil.move(seed_dir / "haiku.py", seed_dir / "skill.py")
    if configured:
        (seed_dir / "workbench.toml").write_text('[skill]\nmodule = "skill"\n')
    with pytest.raises(ProjectError) as caught:
        load_project(seed_dir)
    assert "clashes with the bindings' `skill` package" in str(caught.value)
    assert "rename skill.py" in str(caught.value)


def test_build_timeout_defaults_and_is_checked(seed_dir: Path) -> None:
    assert load_project(seed_dir).build_timeout == DEFAULT_BUILD_TIMEOUT == 300
    (seed_dir / "workbench.toml").write_text("[build]\ntimeout = 12\n")
    assert load_project(seed_dir).build_timeout == 12
    (seed_dir / "workbench.toml").write_text('[build]\ntimeout = "never"\n')
    with pytest.raises(ProjectError, match=r"workbench.toml:2: `build.timeout` must be"):
        load_project(seed_dir)


def test_output_flag_never_overwrites_a_source(seed_dir: Path) -> None:
    (seed_dir / "lib").mkdir()
    _config(seed_dir, 'python-path = ["lib"]')
    project = load_project(seed_dir)
    for target in ("haiku.py", "skill.wit", "workbench.toml", "lib/new.py", "new.py"):
        with pytest.raises(UsageError, match="would overwrite the project's source"):
            with_output(project, seed_dir / target)
    with pytest.raises(UsageError, match="is a folder"):
        with_output(project, seed_dir)
    assert with_output(project, seed_dir / "x.wasm").output == seed_dir / "x.wasm"
