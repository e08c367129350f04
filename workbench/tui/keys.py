"""Key bindings as data, free of Textual: which keys a keymap gives each binding id, and
which keys end up bound to two actions at once."""

from __future__ import annotations

from collections.abc import Mapping


def effective_keys(defaults: Mapping[str, str], keymap: Mapping[str, str]) -> dict[str, list[str]]:
    """Binding id -> its keys after the user's keymap ("f5" or "f5,ctrl+r")."""
    return {
        binding_id: [key.strip() for key in keymap.get(binding_id, keys).split(",") if key.strip()]
        for binding_id, keys in defaults.items()
    }


def keymap_conflicts(defaults: Mapping[str, str], keymap: Mapping[str, str]) -> list[str]:
    """One sentence per key that the keymap leaves bound to more than one binding id."""
    owners: dict[str, list[str]] = {}
    for binding_id, keys in effective_keys(defaults, keymap).items():
        for key in keys:
            owners.setdefault(key, []).append(binding_id)
    return [
        f"{key} is bound to {' and '.join(ids)}"
        for key, ids in owners.items()
        if len(ids) > 1 and any(binding_id in keymap for binding_id in ids)
    ]


def unknown_ids(defaults: Mapping[str, str], keymap: Mapping[str, str]) -> list[str]:
    return sorted(set(keymap) - set(defaults))
