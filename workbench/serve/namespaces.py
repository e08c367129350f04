"""What the server serves: skills by namespace and name, from two kinds of source.

* Local projects (`workbench serve PATH...`): each project is the skill named by its folder
  (a component file: by its stem), in one namespace (`local` unless `--namespace` says
  otherwise), run with the workbench's own flow (built when its sources changed, or run
  instantly).
* A namespace file (`--namespaces FILE`) in the kernel's operator format
  (`src/namespace_watcher/config.rs`, `namespace_description.rs` @ 329c933e): one table per
  namespace, `[namespaces.NAME]` as in the kernel's config.toml (or `[NAME]` at the top):

      [namespaces.team]
      registry = "registry.example.com"          # OCI: {registry}/{base-repository}/{name}:{tag}
      base-repository = "engineering/skills"
      skills = [{ name = "haiku" }, { name = "summarize", tag = "v1" }]   # tag: "latest"
      # or: config-url = "file://team.toml" | "https://..." (+ config-access-token), a
      #     namespace description `skills = [...]`, re-read every 10 s as the kernel polls it
      # or: path = "skills"        a file registry: skills/<name>.wasm
      # or: directory = "skills"   watched: every skills/*.wasm, named by its file stem
      # registry-user / registry-password as the kernel reads them; when absent, what
      # `workbench login REGISTRY` saved (or SKILL_REGISTRY_USER/_TOKEN).
      # The workbench's own: insecure = true (plain HTTP), ca-file = "ca.pem".

  Relative paths are read from the namespace file's folder. Experimental chat skills
  (`{type = "chat", ...}`) are not served.
"""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.config.toml import TomlTable, read_toml
from workbench.errors import ConfigError, ProjectError, UsageError
from workbench.project.model import SkillProject, load_project
from workbench.publish.registry import DEFAULT_TAG, RegistryCredentials, RegistryTarget
from workbench.serve.kernel import DEFAULT_NAMESPACE, is_valid_namespace
from workbench.serve.pull import RootTarget

#: The kernel's `namespace_update_interval`.
REFRESH_SECONDS = 10.0


@dataclass(frozen=True)
class ProjectSkill:
    namespace: str
    name: str
    root: Path


@dataclass(frozen=True)
class RegistrySkill:
    namespace: str
    name: str
    target: RegistryTarget
    #: From the namespace file; None: looked up (keyring, environment) when pulled.
    credentials: RegistryCredentials | None = field(default=None, repr=False)


@dataclass(frozen=True)
class FileSkill:
    namespace: str
    name: str
    component: Path


ServedSkill = ProjectSkill | RegistrySkill | FileSkill


@dataclass(frozen=True)
class _Registry:
    host: str
    base_repository: str
    credentials: RegistryCredentials | None = field(default=None, repr=False)
    insecure: bool = False
    ca_file: Path | None = None


@dataclass(frozen=True)
class NamespaceSource:
    """One namespace of the file: where its list of skills comes from, and its registry."""

    namespace: str
    #: Skills listed in place: (name, tag).
    skills: tuple[tuple[str, str], ...] | None = None
    config_url: str | None = None
    config_token: str | None = field(default=None, repr=False)
    directory: Path | None = None
    registry: _Registry | None = None
    #: A file registry: <path>/<name>.wasm.
    path: Path | None = None


def read_namespace_file(path: Path) -> list[NamespaceSource]:
    """The namespaces a kernel config names; ConfigError says what is wrong and where."""
    if not path.is_file():
        raise UsageError(f"There is no namespace file at {path}; give the path of a TOML file.")
    data = read_toml(path, ConfigError)
    top = TomlTable(data, path, ConfigError)
    tables = top.tables("namespaces") if "namespaces" in data else _top_tables(top)
    if not tables:
        raise ConfigError(
            f"{path} names no namespace; add one, e.g. [namespaces.team] with registry, "
            'base-repository and skills = [{ name = "haiku" }].'
        )
    return [_source(name, table, path.parent) for name, table in tables.items()]


def _top_tables(top: TomlTable) -> dict[str, TomlTable]:
    if "skills" in top.data:
        raise top.fail(
            "skills",
            "belongs to a namespace: this is a namespace description; name it from a kernel "
            'config, e.g. [namespaces.team] with config-url = "file://THIS.toml"',
        )
    return {
        name: TomlTable(value, top.path, ConfigError, name)
        for name, value in top.data.items()
        if isinstance(value, dict)
    }


def _source(namespace: str, table: TomlTable, folder: Path) -> NamespaceSource:
    if not is_valid_namespace(namespace):
        raise ConfigError(
            f"{table.path}: {namespace!r} is not a namespace name the kernel accepts; use 1 to "
            "64 of a-z, 0-9 and single dashes between them, e.g. my-team."
        )
    directory = table.string("directory")
    if directory is not None:
        return NamespaceSource(namespace, directory=folder / directory)
    registry = None
    host = table.string("registry")
    if host:
        user, password = table.string("registry-user"), table.string("registry-password")
        ca_file = table.string("ca-file")
        registry = _Registry(
            host,
            (table.string("base-repository") or "").strip("/"),
            RegistryCredentials(user or "user", password) if password else None,
            table.boolean("insecure", False),
            folder / ca_file if ca_file else None,
        )
    file_registry = table.string("path")
    if registry is None and file_registry is None:
        raise table.fail(
            "registry",
            "is missing: name an OCI registry (registry, base-repository), a file "
            "registry (path) or a folder to watch (directory)",
        )
    path = folder / file_registry if file_registry and registry is None else None
    url = table.string("config-url")
    if url is not None:
        if url.startswith("file://"):
            url = "file://" + str(folder / url.removeprefix("file://"))
        elif not url.startswith(("http://", "https://")):
            raise table.fail("config-url", "must start with file://, http:// or https://")
        token = table.string("config-access-token")
        return NamespaceSource(namespace, None, url, token, None, registry, path)
    if "skills" not in table.data:
        raise table.fail("skills", "is missing: list them, or give a config-url")
    skills = _skill_list(table.data["skills"], table)
    return NamespaceSource(namespace, skills, registry=registry, path=path)


def _skill_list(value: Any, table: TomlTable) -> tuple[tuple[str, str], ...]:
    """`[{name, tag?}, ...]`, as `SkillDescription::Programmable` reads it (chat skills
    are skipped: the workbench has no chat skill runtime)."""
    if not isinstance(value, list):
        raise table.fail("skills", 'must be a list, e.g. [{ name = "haiku", tag = "v1" }]')
    found = []
    for item in value:
        if isinstance(item, dict) and item.get("type") == "chat":
            continue
        name = item.get("name") if isinstance(item, dict) else None
        tag = item.get("tag", DEFAULT_TAG) if isinstance(item, dict) else None
        if not isinstance(name, str) or not name or not isinstance(tag, str):
            raise table.fail("skills", 'must hold tables like { name = "haiku", tag = "v1" }')
        found.append((name, tag))
    return tuple(found)


def _description(source: NamespaceSource) -> tuple[tuple[str, str], ...]:
    """The namespace's skills now (blocking: a file, a folder or an HTTP request)."""
    if source.skills is not None:
        return source.skills
    if source.directory is not None:
        if not source.directory.is_dir():
            raise ConfigError(f"The directory to watch '{source.directory}' is not a directory.")
        return tuple((p.stem, DEFAULT_TAG) for p in sorted(source.directory.glob("*.wasm")))
    assert source.config_url is not None
    text = _fetch(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"Unable to parse file {source.config_url} into a valid configuration for a team "
            f"owned namespace ({error})."
        ) from None
    where = TomlTable(data, source.config_url, ConfigError)
    return _skill_list(data.get("skills"), where)


def _fetch(source: NamespaceSource) -> str:
    url = source.config_url or ""
    if url.startswith("file://"):
        try:
            return Path(url.removeprefix("file://")).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                f"Unable to read file {url.removeprefix('file://')} ({error})."
            ) from None
    import httpx

    headers = {"Authorization": f"Bearer {source.config_token}"} if source.config_token else {}
    try:
        response = httpx.get(url, headers=headers, timeout=10.0)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise ConfigError(f"Cannot read the namespace description at {url} ({error}).") from None
    return response.text


class Namespaces:
    """The skills served, by "namespace/name". Thread-safe; the namespace file's
    descriptions and watched folders are re-read at most every REFRESH_SECONDS."""

    def __init__(
        self,
        projects: Sequence[Path] = (),
        namespace: str = DEFAULT_NAMESPACE,
        sources: Sequence[NamespaceSource] = (),
        refresh: float = REFRESH_SECONDS,
    ) -> None:
        if not is_valid_namespace(namespace):
            raise UsageError(
                f"{namespace!r} is not a namespace name the kernel accepts; use 1 to 64 of "
                "a-z, 0-9 and single dashes between them, e.g. local or my-team."
            )
        #: The namespace the projects are served in.
        self.default = namespace
        #: The projects (and component files) given, by "namespace/name".
        self.projects: dict[str, ProjectSkill | FileSkill] = {}
        for root in projects:
            skill = _local_skill(namespace, Path(root))
            key = f"{namespace}/{skill.name}"
            if key in self.projects:
                raise UsageError(
                    f"Two paths would both be served as {key} ({_where(self.projects[key])} "
                    f"and {_where(skill)}); serve them with separate --namespace values."
                )
            self.projects[key] = skill
        self.sources = list(sources)
        self._refresh = refresh
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._listed: dict[str, ServedSkill] = {}
        #: Namespaces whose description could not be read: the kernel's error for each.
        self.broken: dict[str, str] = {}

    @property
    def first_project(self) -> ProjectSkill | None:
        found = (s for s in self.projects.values() if isinstance(s, ProjectSkill))
        return next(found, None)

    def skills(self) -> dict[str, ServedSkill]:
        """Every skill served now, by "namespace/name" (blocking: may read files or HTTP)."""
        with self._lock:
            if time.monotonic() - self._read_at >= self._refresh:
                self._listed, self.broken = self._read_sources()
                self._read_at = time.monotonic()
            return {**self._listed, **self.projects}

    def find(self, namespace: str, name: str) -> ServedSkill | None:
        return self.skills().get(f"{namespace}/{name}")

    def project(self, skill: ProjectSkill) -> SkillProject:
        """The project as it is on disk now: its settings may have changed since."""
        try:
            return load_project(skill.root)
        except OSError as error:  # e.g. the folder was removed while served
            raise ProjectError(f"Cannot read the project at {skill.root} ({error}).") from None

    def _read_sources(self) -> tuple[dict[str, ServedSkill], dict[str, str]]:
        listed: dict[str, ServedSkill] = {}
        broken: dict[str, str] = {}
        for source in self.sources:
            try:
                names = _description(source)
            except ConfigError as error:
                broken[source.namespace] = str(error)
                continue
            for name, tag in names:
                listed[f"{source.namespace}/{name}"] = _served(source, name, tag)
        return listed, broken


def _local_skill(namespace: str, path: Path) -> ProjectSkill | FileSkill:
    """A project folder, named by the folder; or a component file, named by its stem (as
    the kernel names the files of a watched folder)."""
    if path.suffix == ".wasm":
        if not path.is_file():
            raise UsageError(f"There is no component at {path}; give a .wasm file or a project.")
        return FileSkill(namespace, path.stem, path.resolve())
    project = load_project(path)  # a folder that is no project is said at once
    return ProjectSkill(namespace, project.root.name, project.root)


def _where(skill: ProjectSkill | FileSkill) -> Path:
    return skill.root if isinstance(skill, ProjectSkill) else skill.component


def _served(source: NamespaceSource, name: str, tag: str) -> ServedSkill:
    if source.directory is not None:
        return FileSkill(source.namespace, name, source.directory / f"{name}.wasm")
    if source.registry is None:
        assert source.path is not None
        return FileSkill(source.namespace, name, source.path / f"{name}.wasm")
    registry = source.registry
    kind = RegistryTarget if registry.base_repository else RootTarget
    target = kind(
        registry.host,
        registry.base_repository,
        name,
        tag,
        insecure=registry.insecure,
        ca_file=registry.ca_file,
    )
    return RegistrySkill(source.namespace, name, target, registry.credentials)
