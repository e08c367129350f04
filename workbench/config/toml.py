"""Reading the workbench's TOML files (workbench.toml, the user config): one way to read a
file and one way to check a value, so every wrong setting is reported the same way, with
the file and line that set it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError


def read_toml(path: Path, error_type: type[WorkbenchError]) -> dict[str, Any]:
    """The file's content, `{}` if there is no file, `error_type` if it cannot be read."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise error_type(f"{path} is not valid TOML ({error}); fix or delete it.") from error
    except (OSError, UnicodeDecodeError) as error:
        raise error_type(f"Cannot read {path} ({error}).") from error


def key_location(path: Path, key: str) -> str:
    """`path:7` for the line that sets `key` (or opens the table `[key]`), else `path`."""
    pattern = re.compile(rf"\s*({re.escape(key)}\s*=|\[{re.escape(key)}\])")
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.match(line):
                return f"{path}:{number}"
    except (OSError, UnicodeDecodeError):
        pass
    return str(path)


class TomlTable:
    """One table of a TOML file with typed, checked getters. A wrong value raises
    `error_type` with `file:line: `key` must be ...` so the user knows where to look."""

    def __init__(
        self,
        data: dict[str, Any],
        path: Path | str,
        error_type: type[WorkbenchError],
        name: str = "",
    ) -> None:
        """`path` is the file the data came from, or a label such as "the form"."""
        self.data = data
        self.path = path
        self.error_type = error_type
        self.name = name

    def fail(self, key: str, problem: str) -> WorkbenchError:
        """`problem` finishes the sentence "`key` ...", e.g. "must be a string"."""
        dotted = f"{self.name}.{key}" if self.name else key
        where = key_location(self.path, key) if isinstance(self.path, Path) else self.path
        return self.error_type(f"{where}: `{dotted}` {problem}.")

    def table(self, key: str) -> TomlTable:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table ([{key}])")
        name = f"{self.name}.{key}" if self.name else key
        return TomlTable(value, self.path, self.error_type, name)

    def tables(self, key: str) -> dict[str, TomlTable]:
        """`[key.NAME]` tables by NAME."""
        outer = self.table(key)
        found = {}
        for name, value in outer.data.items():
            if not isinstance(value, dict):
                raise outer.fail(name, f"must be a table ([{key}.{name}])")
            found[name] = TomlTable(value, self.path, self.error_type, f"{outer.name}.{name}")
        return found

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, "must be a string")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return list(value)

    def string_map(self, key: str, example: str) -> dict[str, str]:
        value = self.data.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self.fail(key, f"must map names to strings, e.g. {example}")
        return dict(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.string(key, choices[0])
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}")
        return value

    def positive_number(self, key: str, default: float, what: str = "number") -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(key, f"must be a positive {what}")
        return float(value)

    def positive_int(self, key: str, default: int, what: str = "whole number") -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(key, f"must be a positive {what}")
        return value

    def optional_number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "must be a number")
        return float(value)
