"""A skill project on disk: its Python module, its WIT, its world and where its build goes.

A project is a folder. `workbench.toml` is optional; without it the module is the one file
that defines `class Skill`, the WIT is the one `.wit` file (or the `wit/` folder), and the
world is that WIT's only world. The built component does not record its world's name, so
the project does.

    [skill]
    module = "haiku"            # the Python module (a file at the project root)
    wit = "skill.wit"           # a .wit file or a folder of them
    world = "skill"
    output = "build/haiku.wasm" # must stay inside the project's build/ folder
    python-path = ["lib"]       # extra folders to bundle, after the project root
    outside-python-path = ["../shared"]  # folders outside the project, named on purpose

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
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from workbench.config.toml import TomlTable, read_toml
from workbench.errors import ProjectError, UsageError
from workbench.fs import atomic_write, walk_project
from workbench.project.wit import read_wit, wit_files

CONFIG_FILE = "workbench.toml"
BUILD_DIR = "build"
#: The module name componentize-py gives the generated bindings (`import skill` in the seed).
WORLD_MODULE = "skill"
DEFAULT_TIMEOUT = 30.0
#: A build that takes longer is stopped: module-level code can loop for ever.
DEFAULT_BUILD_TIMEOUT = 300.0
DEFAULT_MEMORY_LIMIT = 1 << 30
#: How much of a skill's prints a run keeps (stdout and stderr together).
DEFAULT_MAX_PRINTS = 1 << 20
#: The skill's interpreter alone starts at 12.25 MiB of linear memory.
MINIMUM_MEMORY_LIMIT = 16 << 20
#: A wasm32 linear memory cannot grow past 4 GiB, whatever the limit says.
MAXIMUM_MEMORY_LIMIT = 4 << 30

_SKILL_CLASS = re.compile(r"^class\s+Skill\b", re.MULTILINE)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
#: Helper modules componentize-py writes beside the bindings package.
_GENERATED_BINDINGS = ("poll_loop.py",)


def parse_size(text: str | int) -> int:
    """`"1GiB"`, `"512M"`, `"64mb"` or a number of bytes; units are binary."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str):
        raise TypeError(f"{text!r} is not a size; write it like 512MiB or 1GiB")
    found = _SIZE.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a size; write it like 512MiB or 1GiB")
    unit = (found.group(2) or "").lower()[:1]
    return int(float(found.group(1)) * _UNITS[unit])


def format_size(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class RunDefaults:
    input: str | None = None
    model: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    memory_limit: int = DEFAULT_MEMORY_LIMIT
    max_prints: int = DEFAULT_MAX_PRINTS


@dataclass(frozen=True)
class PublishSettings:
    """`[publish]` in workbench.toml: where this skill goes (never credentials)."""

    registry: str | None = None
    repository: str | None = None
    name: str | None = None
    tag: str | None = None
    insecure: bool = False
    ca_file: Path | None = None


@dataclass(frozen=True)
class SkillProject:
    root: Path
    module: str
    wit_path: Path
    world: str
    package: str | None
    output: Path
    extra_python_paths: tuple[Path, ...] = ()
    run: RunDefaults = field(default_factory=RunDefaults)
    world_module: str = WORLD_MODULE
    publish: PublishSettings = field(default_factory=PublishSettings)
    build_timeout: float = DEFAULT_BUILD_TIMEOUT

    @property
    def module_path(self) -> Path:
        return self.root / f"{self.module}.py"

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def python_paths(self) -> tuple[Path, ...]:
        """The `-p` paths in order; in the sandbox the N-th is mounted at `/N/`."""
        return (self.root, *self.extra_python_paths)

    @property
    def qualified_world(self) -> str:
        return f"{self.package}/{self.world}" if self.package else self.world

    def source_files(self) -> list[Path]:
        """Every file whose content goes into the component, in a stable order."""
        files: list[Path] = []
        for base in self.python_paths:
            files += [p for p in walk_project(base, (".py",)) if not self._generated(p, base)]
        return sorted(set(files)) + wit_files(self.wit_path)

    def _generated(self, path: Path, base: Path) -> bool:
        # Stub bindings written by `workbench bindings`: every build makes its own.
        top = path.relative_to(base).parts[0]
        return base == self.root and (
            top in (self.world_module, *_GENERATED_BINDINGS) or top.startswith("componentize_py_")
        )

    def editable_files(self) -> list[Path]:
        """Files a user edits: the sources plus workbench.toml when present."""
        files = self.source_files()
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

    module = skill.string("module") or module_hint or _detect_module(path)
    if module == WORLD_MODULE:
        raise ProjectError(
            f"The module name `{module}` clashes with the bindings' `{WORLD_MODULE}` package "
            f"the skill imports; rename {module}.py (and `module` in workbench.toml)."
        )
    module_file = path / f"{module}.py"
    if not module_file.is_file():
        raise ProjectError(
            f"The skill module {module_file.name} is missing from {path}; create "
            "it or fix `module` in workbench.toml."
        )

    wit_setting = skill.string("wit")
    wit_path = (path / wit_setting) if wit_setting else _detect_wit(path)
    summary = read_wit(wit_path)
    world = skill.string("world")
    if world is None:
        if len(summary.worlds) != 1:
            found = ", ".join(summary.worlds) or "none"
            raise ProjectError(
                f"{wit_path.name} must declare exactly one world to pick it "
                f"without workbench.toml (found: {found}); set `world` there."
            )
        world = summary.worlds[0]
    elif world not in summary.worlds:
        raise ProjectError(
            f"The world `{world}` is not declared in {wit_path.name} (it has: "
            f"{', '.join(summary.worlds) or 'none'}); fix `world` in "
            "workbench.toml."
        )

    output = _output(skill, path, module)
    extra = _python_paths(skill, path)
    return SkillProject(
        root=path,
        module=module,
        wit_path=wit_path,
        world=world,
        package=summary.package,
        output=output,
        extra_python_paths=extra,
        run=_run_defaults(config.table("run")),
        publish=_publish_settings(config.table("publish"), path),
        build_timeout=config.table("build").positive_number(
            "timeout", DEFAULT_BUILD_TIMEOUT, "number of seconds"
        ),
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
    if target in sources or in_source_folder or target.is_relative_to(project.wit_path):
        raise UsageError(
            f"--output {output} would overwrite the project's source {target.name}; "
            "give the path of a .wasm file instead."
        )
    return replace(project, output=target)


def _publish_settings(table: TomlTable, root: Path) -> PublishSettings:
    ca_file = table.string("ca-file")
    return PublishSettings(
        registry=table.string("registry"),
        repository=table.string("repository"),
        name=table.string("name"),
        tag=table.string("tag"),
        insecure=table.boolean("insecure", False),
        ca_file=root / ca_file if ca_file else None,
    )


def _run_defaults(run: TomlTable) -> RunDefaults:
    timeout = run.positive_number("timeout", DEFAULT_TIMEOUT, "number of seconds")
    try:
        memory_limit = parse_size(run.data.get("memory-limit", DEFAULT_MEMORY_LIMIT))
    except (ValueError, TypeError) as error:
        raise run.fail("memory-limit", f"is not a size ({error})") from None
    if memory_limit < MINIMUM_MEMORY_LIMIT:
        raise run.fail(
            "memory-limit",
            f"must be at least {format_size(MINIMUM_MEMORY_LIMIT)}; the interpreter alone "
            "needs 12 MiB",
        )
    if memory_limit > MAXIMUM_MEMORY_LIMIT:
        raise run.fail(
            "memory-limit",
            f"must be at most {format_size(MAXIMUM_MEMORY_LIMIT)}: a 32-bit WebAssembly skill "
            "cannot use more",
        )
    try:
        max_prints = parse_size(run.data.get("max-prints", DEFAULT_MAX_PRINTS))
    except (ValueError, TypeError) as error:
        raise run.fail("max-prints", f"is not a size ({error})") from None
    return RunDefaults(
        input=run.string("input"),
        model=run.string("model"),
        timeout=timeout,
        memory_limit=memory_limit,
        max_prints=max_prints,
    )


def _detect_module(root: Path) -> str:
    candidates = [
        file.stem
        for file in sorted(root.glob("*.py"))
        if _SKILL_CLASS.search(file.read_text(encoding="utf-8", errors="replace"))
    ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ProjectError(
            f"No Python file in {root} defines `class Skill`; create one with "
            "`workbench new` or set `module` in workbench.toml."
        )
    raise ProjectError(
        f"Several files define `class Skill` ({', '.join(candidates)}); set "
        "`module` in workbench.toml."
    )


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


def save_publish_settings(project: SkillProject, settings: PublishSettings) -> None:
    """Write `[publish]` into workbench.toml, keeping the rest of the file as it was."""
    import tomlkit

    path = project.config_path
    document = (
        tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else (tomlkit.document())
    )
    table = tomlkit.table()
    for key, value in (
        ("registry", settings.registry),
        ("repository", settings.repository),
        ("name", settings.name),
        ("tag", settings.tag),
    ):
        if value:
            table[key] = value
    if settings.insecure:
        table["insecure"] = True
    if settings.ca_file:
        table["ca-file"] = os.path.relpath(settings.ca_file, project.root)
    document["publish"] = table
    atomic_write(path, tomlkit.dumps(document))
