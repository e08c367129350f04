"""The user's own settings: TOML under the platform's config folder (never secrets).

    theme = "textual-dark"
    save-before-build = "save"     # or "ask"
    cursor-blink = true
    prepare-runtime = true         # build the development runtime when a project opens
    build-behind-instant = true    # build the component behind each instant result
    confirm-instant = false        # watch mode: re-run each instant result on the component

    default-provider = "local"     # echo (offline) unless set

    [keymap]                       # binding id -> keys, e.g. run = "ctrl+r"
    run = "f5"

    [providers.local]              # model servers; their keys live in the OS keyring
    kind = "openai"                # openai, aleph-alpha, echo or replay
    base-url = "http://localhost:11434/v1"
    mode = "chat"                  # or "completions"
    max-tokens = 256
    temperature = 0.2
    stop = ["\n\n"]
    timeout = 60

    [documents]                    # what a skill's search, documents, document_metadata read
    backend = "local"              # documents/ in the project (BM25), or "remote"
    url = "https://document-index.example.com"   # remote: its token is in the OS keyring

    [tools]                        # the MCP servers a skill's tools come from
    mcp-servers = ["http://127.0.0.1:8000/mcp"]

Nothing is created at import time; the file is written only when a setting changes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import platformdirs
import tomlkit

from workbench.config.toml import TomlTable, read_toml
from workbench.errors import ConfigError
from workbench.fs import atomic_write
from workbench.models.http import Sampling
from workbench.models.providers import DEFAULT_PROVIDER, KINDS, ProviderSettings

CONFIG_ENV = "WORKBENCH_CONFIG"
DEFAULT_THEME = "textual-dark"


@dataclass(frozen=True)
class DocumentSettings:
    backend: Literal["local", "remote"] = "local"
    #: The Document Index API's base URL, for the remote backend.
    url: str | None = None


@dataclass(frozen=True)
class UserConfig:
    path: Path
    theme: str = DEFAULT_THEME
    save_before_build: Literal["save", "ask"] = "save"
    cursor_blink: bool = True
    prepare_runtime: bool = True
    build_behind_instant: bool = True
    confirm_instant: bool = False
    keymap: dict[str, str] = field(default_factory=dict)
    default_provider: str = DEFAULT_PROVIDER
    providers: dict[str, ProviderSettings] = field(default_factory=dict)
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    #: The MCP servers (URLs of their streamable HTTP endpoints) tools are listed from.
    mcp_servers: tuple[str, ...] = ()


def config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return platformdirs.user_config_path("workbench") / "config.toml"


def load_config(path: Path | None = None) -> UserConfig:
    path = path or config_path()
    data = TomlTable(read_toml(path, ConfigError), path, ConfigError)
    return UserConfig(
        path=path,
        theme=data.string("theme", DEFAULT_THEME) or DEFAULT_THEME,
        save_before_build=data.choice("save-before-build", ("save", "ask")),  # type: ignore[arg-type]
        cursor_blink=data.boolean("cursor-blink", True),
        prepare_runtime=data.boolean("prepare-runtime", True),
        build_behind_instant=data.boolean("build-behind-instant", True),
        confirm_instant=data.boolean("confirm-instant", False),
        keymap=data.string_map("keymap", 'run = "f5"'),
        default_provider=data.string("default-provider", DEFAULT_PROVIDER) or DEFAULT_PROVIDER,
        providers={
            name: parse_provider(name, table) for name, table in data.tables("providers").items()
        },
        documents=parse_documents(data.table("documents")),
        mcp_servers=tuple(data.table("tools").strings("mcp-servers")),
    )


def parse_documents(table: TomlTable) -> DocumentSettings:
    """`[documents]`: the local index (the default), or a remote Document Index by URL."""
    backend = table.choice("backend", ("local", "remote"))
    url = table.string("url")
    if backend == "remote" and not url:
        raise table.fail("url", 'must be the Document Index\'s URL when backend is "remote"')
    return DocumentSettings(backend, url)  # type: ignore[arg-type]


def parse_provider(name: str, table: TomlTable) -> ProviderSettings:
    """A `[providers.NAME]` table (from the config file, or the providers form), checked."""
    kind = table.data.get("kind")
    if kind not in KINDS:
        raise table.fail("kind", f"must be one of {', '.join(KINDS)}")
    sampling = Sampling(
        table.positive_int("max-tokens", 256),
        table.optional_number("temperature"),
        tuple(table.strings("stop")),
    )
    return ProviderSettings(
        name,
        kind,
        table.string("base-url"),
        table.choice("mode", ("chat", "completions")),
        sampling,
        table.positive_number("timeout", 60.0, "number of seconds"),
    )


def save_setting(config: UserConfig, key: str, value: str) -> None:
    """Set one top-level setting, keeping the rest of the file (comments too) as it was."""
    document = _document(config.path)
    if key in document:
        document[key] = value
    else:
        # A new top-level key must come before the first table to stay top-level.
        body = document.body
        document.add(key, value)
        item = body.pop()
        body.insert(0, item)
    _write(config.path, document)


def save_provider(config: UserConfig, settings: ProviderSettings) -> UserConfig:
    """Add or replace `[providers.NAME]`; returns the config as it is now."""
    document = _document(config.path)
    providers = document.setdefault("providers", tomlkit.table(is_super_table=True))
    table = tomlkit.table()
    table.update(settings.to_toml())
    providers[settings.name] = table
    _write(config.path, document)
    return load_config(config.path)


def save_backends(
    config: UserConfig, documents: DocumentSettings, mcp_servers: Sequence[str]
) -> UserConfig:
    """Replace `[documents]` and `[tools]` (the F8 dialog's second form); returns the config
    as it is now. Nothing secret: the Document Index's token is in the keyring."""
    document = _document(config.path)
    table = tomlkit.table()
    table["backend"] = documents.backend
    if documents.url:
        table["url"] = documents.url
    document["documents"] = table
    tools = tomlkit.table()
    tools["mcp-servers"] = list(mcp_servers)
    document["tools"] = tools
    _write(config.path, document)
    return load_config(config.path)


def _document(path: Path) -> tomlkit.TOMLDocument:
    if not path.exists():
        return tomlkit.document()
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except Exception as error:  # tomlkit's parse errors have no common base of their own
        raise ConfigError(f"{path} is not valid TOML ({error}); fix or delete it.") from error


def _write(path: Path, document: tomlkit.TOMLDocument) -> None:
    atomic_write(path, tomlkit.dumps(document))
