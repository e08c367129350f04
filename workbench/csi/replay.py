"""Every CSI call recorded to the project's replay file and played back offline.

`workbench run --record` with a real provider writes each call's answer (a stream's events)
under `"calls"` in the replay file, beside the seed's complete-text `"replies"`; with
`--provider replay` the same calls are answered from it, the model never asked. A call is
found by its function and its request exactly (after the model override): a run repeats
exactly, and anything else says it was not recorded.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from workbench.errors import ModelError
from workbench.fs import atomic_write

_lock = threading.Lock()


def _key(function: str, request: Any) -> str:
    return json.dumps([function, request], sort_keys=True, ensure_ascii=False)


class CsiTape:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _document(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(document, dict):
                raise TypeError("not a JSON object")
            return document
        except (OSError, ValueError, TypeError) as error:
            raise ModelError(
                f"The replay file {self.path} cannot be read ({error}); fix it, or record "
                "it again with --record."
            ) from None

    def _calls(self) -> dict[str, dict[str, Any]]:
        calls = self._document().get("calls", [])
        return {_key(c["function"], c["request"]): c for c in calls if isinstance(c, dict)}

    def find(self, function: str, request: Any, label: str) -> dict[str, Any]:
        """The recorded call (`response` or `events`), or a ModelError saying it was not."""
        found = self._calls().get(_key(function, request))
        if found is None:
            raise ModelError(
                f"No recorded answer for this `{label}` call in {self.path.name}; record it by "
                "running once with a real provider and --record."
            )
        return found

    def record(self, function: str, request: Any, **answer: Any) -> None:
        """Keep one call's answer (`response=` or `events=`), replacing an older recording."""
        with _lock:
            document = self._document()
            calls = {
                _key(c["function"], c["request"]): c
                for c in document.get("calls", [])
                if isinstance(c, dict)
            }
            calls[_key(function, request)] = {"function": function, "request": request, **answer}
            document["calls"] = list(calls.values())
            atomic_write(self.path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
