"""A skill project on disk: its Python module, its WIT, its world and where its build goes.

A project is a folder of one of three kinds (`kinds.py`): a seed project (its own WIT file
and `class Skill`), a wit project (a copy of one of the kernel's versioned worlds, e.g.
`wit/` with `package pharia:skill@0.4.0;`) or an SDK project (pharia-skill's `@skill` or
`@message_stream`, built with the project's own environment and the SDK's WIT).
`workbench.toml` is optional; without it the module is the one file that defines the
skill's class (or uses the SDK's decorator), the WIT is the one `.wit` file (or the `wit/`
folder), and the world is that WIT's only world, the one the skill's class or decorator
implements. The built component does not record its world's name, so the project does.

    [skill]
    module = "haiku"            # the Python module (a file at the project root)
    wit = "skill.wit"           # a .wit file or a folder of them (not for SDK projects)
    world = "skill"
    output = "build/haiku.wasm" # must stay inside the project's build/ folder
    python-path = ["lib"]       # extra folders to bundle, after the project root
    outside-python-path = ["../shared"]  # folders outside the project, named on purpose
    environment = "../sdk-env"  # SDK projects: a virtual environment with pharia-skill
                                # (default: the project's .venv, else the active one)

    [build]
    timeout = 300               # seconds; the build is stopped after that

    [run]
    input = "oak trees"
    model = "luminous-base"     # overrides the model the skill asks for
    timeout = 30                # seconds
    memory-limit = "1GiB"

    [publish]                   # where `workbench publish` pushes (credentials: the keyring)
    registry = "registry.example.com"
    repository = "engineering/skills"
    name = "haiku"              # default: the module's name
    tag = "latest"

Everything a build reads or writes stays where the user can see it: `output` must be a file
in the project's `build/` folder (anything else could overwrite a source file or write
anywhere on the host; `workbench build --output FILE` is the way to pick another place), and
`python-path` folders must be inside the project, because their files are baked into the
component. A folder outside it is bundled only when named under `outside-python-path`, and
even then never `/` or a folder that holds the project (the home folder, say): that would
bake the host's files into the component. The module may not be called `skill`: that is the
bindings' package, which the skill imports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from workbench.config.toml import TomlTable, read_toml
from workbench.errors import ProjectError, UsageError
from workbench.fs import walk_project
from workbench.project import kinds
from workbench.project.kinds import WASI_DEPS, ProjectKind
from workbench.project.settings import (
    DEFAULT_BUILD_TIMEOUT,
    DEFAULT_MAX_PRINTS,
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_TIMEOUT,
    MAXIMUM_MEMORY_LIMIT,
    MINIMUM_MEMORY_LIMIT,
    PublishSettings,
    RunDefaults,
    format_size,
    parse_size,
    publish_settings,
    run_defaults,
    save_publish_settings,
)
from workbench.project.wit import read_wit, wit_files

__all__ = [
    "BUILD_DIR",
    "CONFIG_FILE",
    "DEFAULT_BUILD_TIMEOUT",
    "DEFAULT_MAX_PRINTS",
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIMEOUT",
    "MAXIMUM_MEMORY_LIMIT",
    "MINIMUM_MEMORY_LIMIT",
    "WORLD_MODULE",
    "ProjectKind",
    "PublishSettings",
    "RunDefaults",
    "SkillProject",
    "format_size",
    "load_project",
    "parse_size",
    "save_publish_settings",
    "with_output",
]

CONFIG_FILE = "workbench.toml"
BUILD_DIR = "build"
#: The module name componentize-py gives the generated bindings (`import skill` in the seed).
WORLD_MODULE = "skill"
#: Helper modules componentize-py writes beside the bindings package.
_GENERATED_BINDINGS = ("poll_loop.py",)


@dataclass(frozen=True)
class SkillProject:
    root: Path
    module: str
    #: The project's WIT (a file or a folder); None for an SDK project, whose WIT is the
    #: one inside its environment's pharia-skill.
    wit_path: Path | None
    world: str
    package: str | None
    output: Path
    extra_python_paths: tuple[Path, ...] = ()
    run: RunDefaults = field(default_factory=RunDefaults)
    world_module: str = WORLD_MODULE
    publish: PublishSettings = field(default_factory=PublishSettings)
    build_timeout: float = DEFAULT_BUILD_TIMEOUT
    kind: ProjectKind = ProjectKind.SEED
    #: WIT features the world is gated behind (`@unstable(feature = alpha)`): `--features`.
    features: tuple[str, ...] = ()
    #: SDK projects: what `workbench env` installs (the project's own pin, if it has one).
    sdk_requirement: str = kinds.SDK_DISTRIBUTION
    #: SDK projects: `[skill] environment`, a virtual environment named on purpose.
    environment: Path | None = None

    @property
    def is_sdk(self) -> bool:
        return self.kind is ProjectKind.SDK

    @property
    def module_path(self) -> Path:
        return self.root / f"{self.module}.py"

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def wasi_deps(self) -> Path:
        """SDK projects: where the build puts pydantic-core's WASI wheel (`-p wasi_deps`)."""
        return self.root / WASI_DEPS

    @property
    def python_paths(self) -> tuple[Path, ...]:
        """The `-p` paths in order; in the sandbox the N-th is mounted at `/N/`."""
        if self.is_sdk:
            return (self.root, self.wasi_deps, *self.extra_python_paths)
        return (self.root, *self.extra_python_paths)

    @property
    def source_paths(self) -> tuple[Path, ...]:
        """The `-p` paths that hold the skill's own code (not `wasi_deps`)."""
        return (self.root, *self.extra_python_paths)

    @property
    def qualified_world(self) -> str:
        return f"{self.package}/{self.world}" if self.package else self.world

    def source_files(self) -> list[Path]:
        """Every file of the project's own whose content goes into the component, in a
        stable order (an SDK project's WIT and wasi_deps come from its environment)."""
        files: list[Path] = []
        for base in self.source_paths:
            files += [p for p in walk_project(base, (".py",)) if not self._generated(p, base)]
        return sorted(set(files)) + (wit_files(self.wit_path) if self.wit_path else [])

    def _generated(self, path: Path, base: Path) -> bool:
        # Stub bindings written by `workbench bindings`: every build makes its own.
        top = path.relative_to(base).parts[0]
        return (
            base == self.root
            and not self.is_sdk
            and (
                top in (self.world_module, *_GENERATED_BINDINGS)
                or top.startswith("componentize_py_")
            )
        )

    def editable_files(self) -> list[Path]:
        """Files a user edits: the sources plus workbench.toml (and an SDK project's
        requirements) when present."""
        files = self.source_files()
        if self.is_sdk:
            files += [self.root / n for n in kinds.REQUIREMENT_FILES if (self.root / n).is_file()]
        if self.config_path.exists():
            files.append(self.config_path)
        return files


def load_project(path: Path | str = ".") -> SkillProject:
    """Read the project at `path` (a folder, or a module file inside one)."""
    path = Path(path).resolve()
    module_hint: str | None = None
    if path.is_file() and path.suffix == ".py":
        path, module_hint = path.parent, path.stem
    if not path.is_dir():
        raise ProjectError(f"{path} is not a folder; give the path of a skill project.")

    config_path = path / CONFIG_FILE
    config = TomlTable(read_toml(config_path, ProjectError), config_path, ProjectError)
    skill = config.table("skill")
    wit_setting = skill.string("wit")
    if wit_setting is None and kinds.uses_sdk(path):
        project = _sdk_project(path, skill, module_hint)
    else:
        project = _wit_project(path, skill, module_hint, wit_setting)
    return replace(
        project,
        output=_output(skill, path, project.module),
        extra_python_paths=_python_paths(skill, path),
        run=run_defaults(config.table("run")),
        publish=publish_settings(config.table("publish"), path),
        build_timeout=config.table("build").positive_number(
            "timeout", DEFAULT_BUILD_TIMEOUT, "number of seconds"
        ),
    )


def _module_file(root: Path, module: str) -> Path:
    module_file = root / f"{module}.py"
    if not module_file.is_file():
        raise ProjectError(
            f"The skill module {module_file.name} is missing from {root}; create "
            "it or fix `module` in workbench.toml."
        )
    return module_file


def _sdk_project(root: Path, skill: TomlTable, module_hint: str | None) -> SkillProject:
    module = skill.string("module") or module_hint or kinds.detect_sdk_module(root)
    module_file = _module_file(root, module)
    configured = skill.string("world")
    world = (
        kinds.check_sdk_world(configured, root / CONFIG_FILE)
        if configured
        else kinds.sdk_world(module_file)
    )
    environment = skill.string("environment")
    return SkillProject(
        root=root,
        module=module,
        wit_path=None,
        world=world,
        package=kinds.SDK_PACKAGE,
        output=root / BUILD_DIR / f"{module}.wasm",
        kind=ProjectKind.SDK,
        sdk_requirement=kinds.sdk_requirement(root) or kinds.SDK_DISTRIBUTION,
        environment=Path(os.path.normpath(root / Path(environment).expanduser()))
        if environment
        else None,
    )


def _wit_project(
    root: Path, skill: TomlTable, module_hint: str | None, wit_setting: str | None
) -> SkillProject:
    module = skill.string("module") or module_hint or kinds.detect_module(root)
    if module == WORLD_MODULE:
        raise ProjectError(
            f"The module name `{module}` clashes with the bindings' `{WORLD_MODULE}` package "
            f"the skill imports; rename {module}.py (and `module` in workbench.toml)."
        )
    module_file = _module_file(root, module)
    wit_path = (root / wit_setting) if wit_setting else _detect_wit(root)
    summary = read_wit(wit_path)
    kind = ProjectKind.WIT if summary.is_kernel_package else ProjectKind.SEED
    world = skill.string("world")
    if world is None:
        world = summary.worlds[0] if len(summary.worlds) == 1 else None
        if world is None and kind is ProjectKind.WIT:
            world = kinds.class_world(module_file, summary.worlds)
        if world is None:
            found = ", ".join(summary.worlds) or "none"
            raise ProjectError(
                f"{wit_path.name} must declare exactly one world to pick it "
                f"without workbench.toml (found: {found}); set `world` there."
            )
    elif world not in summary.worlds:
        raise ProjectError(
            f"The world `{world}` is not declared in {wit_path.name} (it has: "
            f"{', '.join(summary.worlds) or 'none'}); fix `world` in "
            "workbench.toml."
        )
    return SkillProject(
        root=root,
        module=module,
        wit_path=wit_path,
        world=world,
        package=summary.package,
        output=root / BUILD_DIR / f"{module}.wasm",
        kind=kind,
        features=summary.world_features.get(world, ()),
    )


def _output(skill: TomlTable, root: Path, module: str) -> Path:
    """`output`, which must name a file in the build folder: anywhere else it could
    overwrite the skill's own sources or write outside the project."""
    setting = skill.string("output")
    if setting is None:
        return root / BUILD_DIR / f"{module}.wasm"
    # Lexically, so `build/../haiku.py` is seen for what it is.
    output = Path(os.path.normpath(root / setting))
    if Path(setting).is_absolute() or not output.is_relative_to(root / BUILD_DIR):
        raise skill.fail(
            "output",
            f"must be a file in the project's {BUILD_DIR}/ folder, like "
            f'"{BUILD_DIR}/{module}.wasm"; to write elsewhere use `workbench build --output FILE`',
        )
    if output == root / BUILD_DIR:
        raise skill.fail("output", f'must name a file, like "{BUILD_DIR}/{module}.wasm"')
    return output


def _python_paths(skill: TomlTable, root: Path) -> tuple[Path, ...]:
    """`python-path` (inside the project) then `outside-python-path` (named on purpose):
    every file under these folders is baked into the component."""
    paths: list[Path] = []
    for entry in skill.strings("python-path"):
        folder = (root / entry).resolve()
        if not folder.is_relative_to(root):
            raise skill.fail(
                "python-path",
                f"names {entry!r}, which is outside the project; list folders outside it "
                "under `outside-python-path` so bundling them is a choice",
            )
        paths.append(_folder(skill, "python-path", entry, folder))
    for entry in skill.strings("outside-python-path"):
        folder = (root / entry).resolve()
        if root.is_relative_to(folder):
            raise skill.fail(
                "outside-python-path",
                f"names {entry!r}, which holds the project itself ({folder}); every host "
                "file under it would be baked into the component, so name a smaller folder",
            )
        paths.append(_folder(skill, "outside-python-path", entry, folder))
    return tuple(paths)


def _folder(skill: TomlTable, key: str, entry: str, folder: Path) -> Path:
    if not folder.is_dir():
        raise skill.fail(key, f"names {entry!r}, which is not a folder ({folder})")
    return folder


def with_output(project: SkillProject, output: Path) -> SkillProject:
    """The project building to `output`, a path the user typed (`build --output`): anywhere
    they like except over one of the project's own sources."""
    target = output.resolve()
    if target.is_dir():
        raise UsageError(f"--output {output} is a folder; give the path of a .wasm file.")
    sources = {file.resolve() for file in (*project.editable_files(), project.module_path)}
    in_source_folder = target.suffix == ".py" and any(
        target.is_relative_to(base) for base in project.python_paths
    )
    in_wit = project.wit_path is not None and target.is_relative_to(project.wit_path)
    if target in sources or in_source_folder or in_wit:
        raise UsageError(
            f"--output {output} would overwrite the project's source {target.name}; "
            "give the path of a .wasm file instead."
        )
    return replace(project, output=target)


def _detect_wit(root: Path) -> Path:
    if (root / "wit").is_dir():
        return root / "wit"
    candidates = sorted(root.glob("*.wit"))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ProjectError(
            f"No .wit file in {root}; copy the skill's skill.wit there or set "
            "`wit` in workbench.toml."
        )
    names = ", ".join(c.name for c in candidates)
    raise ProjectError(f"Several .wit files in {root} ({names}); set `wit` in workbench.toml.")
