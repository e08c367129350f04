"""The three kinds of project (seed, wit, sdk) read from their code, the commands that build
them, and what an SDK build's errors mean (samples captured from real componentize-py 0.17.2
builds in a pharia-skill 0.20.0 environment; tests/integration/test_sdk.py builds for real)."""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import DATA, REPOSITORY
from workbench.build.commands import build_command, tool_env
from workbench.build.diagnostics import parse_build_errors
from workbench.build.environment import VENV_DIR, read_environment, sdk_python
from workbench.build.sdk import sdk_hint
from workbench.errors import EnvironmentFailed, ProjectError
from workbench.fs import walk_project
from workbench.project.model import ProjectKind, load_project, with_output
from workbench.project.scaffold import TEMPLATES, create_project, template_files


@pytest.fixture
def sdk_dir(tmp_path: Path) -> Path:
    root = tmp_path / "calls"
    shutil.copytree(DATA / "skills/sdk_skill", root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_an_sdk_project_is_found_by_its_import_and_decorator(sdk_dir: Path) -> None:
    project = load_project(sdk_dir)
    assert (project.kind, project.module, project.world) == (ProjectKind.SDK, "calls", "skill")
    assert project.is_sdk and project.wit_path is None and project.features == ()
    assert project.qualified_world == "pharia:skill/skill"
    assert project.python_paths == (sdk_dir, sdk_dir / "wasi_deps")
    assert project.sdk_requirement == "pharia-skill" and project.environment is None


def test_a_message_stream_decorator_picks_the_message_stream_world(tmp_path: Path) -> None:
    project = load_project(DATA / "skills/sdk_stream")
    assert (project.module, project.world) == ("streamer", "message-stream-skill")


def test_workbench_toml_overrides_the_world_and_names_the_environment(sdk_dir: Path) -> None:
    (sdk_dir / "workbench.toml").write_text(
        '[skill]\nworld = "message-stream-skill"\nenvironment = "../env"\npython-path = ["lib"]\n'
    )
    (sdk_dir / "lib").mkdir()
    project = load_project(sdk_dir)
    assert project.world == "message-stream-skill"
    assert project.environment == sdk_dir.parent / "env"
    assert project.python_paths == (sdk_dir, sdk_dir / "wasi_deps", sdk_dir / "lib")
    (sdk_dir / "workbench.toml").write_text('[skill]\nworld = "skill-all"\n')
    with pytest.raises(ProjectError, match=r"`skill.world` is 'skill-all', but a pharia-skill"):
        load_project(sdk_dir)


@pytest.mark.parametrize(
    ("name", "text", "requirement"),
    [
        ("requirements.txt", "requests\npharia-skill==0.20.0  # the SDK\n", "pharia-skill==0.20.0"),
        ("requirements.txt", "Pharia_Skill>=0.19\n", "pharia-skill>=0.19"),
        (
            "pyproject.toml",
            '[project]\ndependencies = ["pharia-skill~=0.20.0"]\n',
            "pharia-skill~=0.20.0",
        ),
    ],
)
def test_the_sdk_requirement_comes_from_requirements_or_pyproject(
    tmp_path: Path, name: str, text: str, requirement: str
) -> None:
    # A module that does not import pharia_skill: the requirement alone makes it an SDK project.
    (tmp_path / "app.py").write_text("@skill\ndef run(csi, input):\n    return input\n")
    (tmp_path / name).write_text(text)
    project = load_project(tmp_path)
    assert (project.kind, project.module) == (ProjectKind.SDK, "app")
    assert project.sdk_requirement == requirement
    assert tmp_path / name in project.editable_files()


def test_pharia_skill_cli_alone_is_not_the_sdk(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("@skill\ndef run(csi, input):\n    return input\n")
    (tmp_path / "requirements.txt").write_text("pharia-skill-cli==0.4.9\n")
    with pytest.raises(ProjectError, match="defines `class Skill`"):
        load_project(tmp_path)


@pytest.mark.parametrize(
    ("arrange", "phrase"),
    [
        (lambda d: (d / "calls.py").write_text("import pharia_skill\n"), "decorated with @skill"),
        (lambda d: shutil.copy(d / "calls.py", d / "two.py"), "Several files use @skill"),
        (
            lambda d: (d / "calls.py").write_text(
                (d / "calls.py").read_text() + "\n@message_stream\ndef more(csi, w, i): ...\n"
            ),
            "uses both @skill and @message_stream",
        ),
    ],
)
def test_broken_sdk_projects_get_one_clear_sentence(sdk_dir: Path, arrange, phrase) -> None:
    arrange(sdk_dir)
    with pytest.raises(ProjectError) as caught:
        load_project(sdk_dir)
    assert phrase in str(caught.value) and "\n" not in str(caught.value)


def test_a_wit_setting_makes_it_a_wit_build_even_with_pharia_skill_around(sdk_dir: Path) -> None:
    shutil.copy(TEMPLATES / "skill.wit", sdk_dir)
    (sdk_dir / "workbench.toml").write_text('[skill]\nmodule = "calls"\nwit = "skill.wit"\n')
    assert load_project(sdk_dir).kind is ProjectKind.SEED


def test_sdk_sources_leave_out_the_environment_and_wasi_deps(sdk_dir: Path) -> None:
    for other in (".venv/lib/site.py", "wasi_deps/pydantic_core/core_schema.py", "build/x.py"):
        (sdk_dir / other).parent.mkdir(parents=True, exist_ok=True)
        (sdk_dir / other).write_text("")
    project = load_project(sdk_dir)
    assert project.source_files() == [sdk_dir / "calls.py"]
    assert walk_project(sdk_dir) == [sdk_dir / "calls.py"]
    assert with_output(project, sdk_dir / "x.wasm").output == sdk_dir / "x.wasm"


@pytest.mark.parametrize(
    ("folder", "world", "package", "features"),
    [
        ("raw_v0_2", "skill", "pharia:skill@0.2.10", ()),
        ("raw_v0_4", "skill", "pharia:skill@0.4.0", ()),
        ("raw_v0_4_stream", "message-stream-skill", "pharia:skill@0.4.0", ()),
        ("raw_v0_5", "skill", "pharia:skill@0.5.0", ("alpha",)),
    ],
)
def test_raw_projects_for_the_kernels_worlds(
    tmp_path: Path, folder: str, world: str, package: str, features: tuple[str, ...]
) -> None:
    source = DATA / "skills" / folder
    project = load_project(source)
    assert (project.kind, project.world, project.package) == (ProjectKind.WIT, world, package)
    assert project.features == features
    command = build_command(project, tmp_path / "out.wasm")
    assert command[1:3] == ["-d", str(project.wit_path)]
    assert ("--features" in command) == bool(features)
    if features:
        assert command[command.index("--features") + 1] == "alpha"
    assert command[command.index("-w") + 1] == world

    # Without workbench.toml the world comes from the class the module defines.
    copy = tmp_path / folder
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "workbench.toml"))
    assert load_project(copy).world == world


def test_a_0_5_world_gated_in_the_wit_is_read_from_its_annotation() -> None:
    project = load_project(DATA / "skills/raw_v0_5")
    assert project.features == ("alpha",)
    assert "@unstable(feature = alpha)" in (project.wit_path / "skill.wit").read_text()


def test_the_seed_stays_a_seed_project() -> None:
    project = load_project(REPOSITORY / "examples/haiku")
    assert (project.kind, project.package, project.features) == (
        ProjectKind.SEED,
        "pharia:skill",
        (),
    )


def test_seed_builds_never_see_another_environments_wit(monkeypatch: pytest.MonkeyPatch) -> None:
    # componentize-py adds $VIRTUAL_ENV's site-packages to its path: an active environment
    # with pharia-skill would add the SDK's worlds to the seed's.
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere/with/pharia-skill")
    env = tool_env(None)
    assert env.get("VIRTUAL_ENV") == (sys.prefix if sys.prefix != sys.base_prefix else None)
    assert env["RUST_BACKTRACE"] == "0"


def test_an_environment_is_read_without_starting_anything(tmp_path: Path) -> None:
    venv = tmp_path / VENV_DIR
    site = venv / "lib/python3.11/site-packages"
    assert read_environment(venv) is None
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    environment = read_environment(venv)
    assert environment is not None and not environment.is_complete
    assert (environment.python_version, environment.pharia_skill) == ("3.11.7", None)
    assert environment.describe() == (
        "pharia-skill missing, componentize-py missing, Python 3.11.7"
    )
    activated = environment.activated({"PATH": "/usr/bin", "PYTHONHOME": "/x"})
    assert activated == {"PATH": f"{venv}/bin:/usr/bin", "VIRTUAL_ENV": str(venv)}


def test_no_python_3_11_is_one_clear_sentence(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFailed) as caught:
        sdk_python(version=(3, 12), path=str(tmp_path))
    assert str(caught.value) == (
        "pharia-skill needs Python 3.11, and the workbench runs on Python 3.12 with no "
        "python3.11 on PATH; install Python 3.11 and run `workbench env` again."
    )
    assert sdk_python("/x/python", (3, 11), str(tmp_path)) == Path("/x/python")
    found = shutil.which("python3.11")
    if found:
        assert sdk_python(version=(3, 13), path=str(Path(found).parent)) == Path(found)


WRONG_WORLD = """Traceback (most recent call last):
  File "/tmp/sdkx/bin/componentize-py", line 8, in <module>
    sys.exit(script())
             ^^^^^^^^
AssertionError: Traceback (most recent call last):
  File "/0/streamer.py", line 18, in <module>
    @message_stream
     ^^^^^^^^^^^^^^
  File "/2/pharia_skill/message_stream/decorator.py", line 56, in message_stream
    from pharia_skill.bindings.exports.message_stream import (
ModuleNotFoundError: No module named 'pharia_skill.bindings.exports.message_stream'


Caused by:
    ModuleNotFoundError: No module named 'pharia_skill.bindings.exports.message_stream'"""

IN_WASI_DEPS = """Traceback (most recent call last):
  File "/tmp/sdkx/bin/componentize-py", line 8, in <module>
    sys.exit(script())
             ^^^^^^^^
AssertionError: Traceback (most recent call last):
  File "/0/calls.py", line 3, in <module>
    typing_extensions.deprecated(5)
  File "/1/typing_extensions.py", line 3071, in __init__
    raise TypeError(
TypeError: Expected an object of type str for 'message', not 'int'


Caused by:
    TypeError: Expected an object of type str for 'message', not 'int'"""


def test_a_decorator_built_for_the_wrong_world_says_which_world_it_needs() -> None:
    project = load_project(DATA / "skills/sdk_stream")
    wrong = replace(project, world="skill")
    assert sdk_hint(wrong, WRONG_WORLD) == (
        "streamer.py uses @message_stream, which needs the world `message-stream-skill`, but "
        'the build targets `skill`; set `world = "message-stream-skill"` in workbench.toml, '
        "or remove `world` there to pick it from the code."
    )
    (diagnostic,) = parse_build_errors(WRONG_WORLD, project.python_paths, project.root)
    assert (diagnostic.path, diagnostic.line) == (project.module_path, 18)
    skill_side = WRONG_WORLD.replace("exports.message_stream", "exports.skill_handler")
    assert "uses @skill, which needs the world `skill`" in (sdk_hint(project, skill_side) or "")
    assert "outbound HTTP" in (sdk_hint(project, "No module named 'zlib'") or "")
    assert sdk_hint(project, "SyntaxError: expected ':'") is None


def test_a_frame_in_wasi_deps_is_not_the_users_code(sdk_dir: Path) -> None:
    project = load_project(sdk_dir)
    (diagnostic,) = parse_build_errors(IN_WASI_DEPS, project.python_paths, project.root)
    assert (diagnostic.path, diagnostic.line) == (sdk_dir / "calls.py", 3)
    assert (
        diagnostic.message == "TypeError: Expected an object of type str for 'message', not 'int'"
    )


@pytest.mark.parametrize("template", ["seed", "skill", "message-stream"])
def test_every_template_makes_a_project_that_loads(tmp_path: Path, template: str) -> None:
    root = create_project("my-poem", tmp_path / "poem", template=template)
    project = load_project(root)
    assert project.module == "my_poem"
    assert sorted(p.name for p in root.iterdir()) == sorted(template_files("my_poem", template))
    assert project.kind is (ProjectKind.SEED if template == "seed" else ProjectKind.SDK)


def test_sdk_projects_need_no_stub_bindings() -> None:
    import asyncio

    from workbench.build.builder import write_bindings
    from workbench.errors import UsageError

    with pytest.raises(UsageError, match=r"ships its own bindings \(`pharia_skill.bindings`\)"):
        asyncio.run(write_bindings(load_project(DATA / "skills/sdk_stream")))
