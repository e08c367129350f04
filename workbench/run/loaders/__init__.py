"""The loader modules of instant runs (see workbench/run/instant.py): package data, read as
text and built into a development runtime with componentize-py, never imported here."""

from __future__ import annotations

import re

#: The development runtime's main module, at the sandbox's first path like a skill's own.
LOADER_MODULE = "workbench_loader"

_LOADER_FRAME = re.compile(rf'^\s*File "/0/{LOADER_MODULE}\.py", line \d+, in ')


def is_loader_frame(line: str) -> bool:
    """A traceback line of the loader's own: a component's traceback has no such frame, and
    the loader is no file of the user's, so traces leave it out."""
    return bool(_LOADER_FRAME.match(line))
