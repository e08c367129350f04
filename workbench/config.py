"""The user's own settings: TOML under the platform's config folder (never secrets).

    theme = "textual-dark"
    save-before-build = "save"     # or "ask"
    cursor-blink = true

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

Nothing is created at import time; the file is written only when a setting changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs
import tomlkit

from workbench.errors import ModelError, WorkbenchError
from workbench.models.providers import DEFAULT_PROVIDER, ProviderSettings, parse_provider
from workbench.toml_files import key_location, read_toml

CONFIG_ENV = "WORKBENCH_CONFIG"
DEFAULT_THEME = "textual-dark"


class ConfigError(WorkbenchError):
    kind = "config"


@dataclass(frozen=True)
class UserConfig:
    path: Path
    theme: str = DEFAULT_THEME
    save_before_build: Literal["save", "ask"] = "save"
    cursor_blink: bool = True
    keymap: dict[str, str] = field(default_factory=dict)
    default_provider: str = DEFAULT_PROVIDER
    providers: dict[str, ProviderSettings] = field(default_factory=dict)


def config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return platformdirs.user_config_path("workbench") / "config.toml"


def load_config(path: Path | None = None) -> UserConfig:
    path = path or config_path()
    data = read_toml(path, ConfigError)
    return UserConfig(
        path=path,
        theme=_value(data, "theme", str, DEFAULT_THEME, path),
        save_before_build=_choice(data, "save-before-build", ("save", "ask"), path),
        cursor_blink=_value(data, "cursor-blink", bool, True, path),
        keymap=_keymap(data, path),
        default_provider=_value(data, "default-provider", str, DEFAULT_PROVIDER, path),
        providers=_providers(data, path),
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


def _document(path: Path) -> tomlkit.TOMLDocument:
    if not path.exists():
        return tomlkit.document()
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except Exception as error:  # tomlkit's parse errors have no common base of their own
        raise ConfigError(f"{path} is not valid TOML ({error}); fix or delete it.") from error


def _write(path: Path, document: tomlkit.TOMLDocument) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
    temporary.replace(path)


def _providers(data: dict[str, Any], path: Path) -> dict[str, ProviderSettings]:
    tables = data.get("providers", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{key_location(path, 'providers')}: [providers] must hold tables.")
    try:
        return {
            name: parse_provider(name, table, key_location(path, f"providers.{name}"))
            for name, table in tables.items()
        }
    except ModelError as error:
        raise ConfigError(str(error)) from None


def _value(data: dict[str, Any], key: str, kind: type, default: Any, path: Path) -> Any:
    value = data.get(key, default)
    if not isinstance(value, kind):
        raise ConfigError(f"{key_location(path, key)}: `{key}` must be a {kind.__name__}.")
    return value


def _choice(data: dict[str, Any], key: str, choices: tuple[str, ...], path: Path) -> Any:
    value = _value(data, key, str, choices[0], path)
    if value not in choices:
        where = key_location(path, key)
        raise ConfigError(f"{where}: `{key}` must be one of {', '.join(choices)}.")
    return value


def _keymap(data: dict[str, Any], path: Path) -> dict[str, str]:
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
        raise ConfigError(
            f'{key_location(path, "keymap")}: [keymap] maps binding ids to keys, e.g. run = "f5".'
        )
    return dict(keymap)
