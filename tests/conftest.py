"""Fixtures for every test: a throwaway HOME so no test sees the developer's own config,
keyring or caches (the wasmtime compile cache included)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        for name, folder in (("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"),
                             ("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state")):
            (home / folder).mkdir(parents=True)
            patch.setenv(name, str(home / folder))
        patch.delenv("WORKBENCH_COMPONENTIZE_PY", raising=False)
        yield home


def seed_code_blocks() -> dict[str, str]:
    """The seed document's fenced blocks by language: what a user would copy by hand."""
    text = (DATA / "seed.md").read_text(encoding="utf-8")
    return {lang.lower(): body for lang, body in re.findall(r"```(\w+)\n(.*?)```", text, re.S)}
