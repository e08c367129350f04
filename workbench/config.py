"""The user's own settings: TOML under the platform's config folder (never secrets).

    theme = "textual-dark"
    save-before-build = "save"     # or "ask"
    cursor-blink = true

    [keymap]                       # binding id -> keys, e.g. run = "ctrl+r"
    run = "f5"

Nothing is created at import time; the file is written only when a setting changes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs

from workbench.errors import WorkbenchError
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
    )


def save_setting(config: UserConfig, key: str, value: str) -> None:
    """Set one top-level string setting, keeping the rest of the file as the user wrote it."""
    line = f'{key} = "{value}"'
    text = config.path.read_text(encoding="utf-8") if config.path.exists() else ""
    pattern = re.compile(rf"^{re.escape(key)}\s*=.*$", re.MULTILINE)
    if pattern.search(text.split("\n[", 1)[0]):
        head, sep, tail = text.partition("\n[")
        text = pattern.sub(line, head, count=1) + sep + tail
    else:
        text = f"{line}\n{text}"
    config.path.parent.mkdir(parents=True, exist_ok=True)
    temporary = config.path.with_name(config.path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(config.path)


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
