"""Reading the workbench's TOML files with errors that point at the file and line."""

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
    except OSError:
        pass
    return str(path)
