"""Integration fixtures live in tests/conftest.py, shared with the TUI tests."""

from tests.conftest import build_events, built, collect, copy_project

__all__ = ["build_events", "built", "collect", "copy_project"]
