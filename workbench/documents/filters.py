"""Search filters as the Document Index reads them, applied to a document's metadata.

A filter list is AND-combined; each item is `{"with": [...]}` (all of its conditions hold),
`{"without": [...]}` (none holds) or `{"with_one_of": [...]}` (at least one holds). A
condition is `{"metadata": {"field": F, <condition>: value}}` or `{"modality": "text"}`,
the one the kernel adds to every search (kernel src/search/client.rs; every local passage is
text, so it always holds). Field names follow the Document Index (WIT `metadata-filter`):
dots for nested fields (`a.b`), `[]` for any element of an array (`a[].b`), `[n]` for one.
A field that is missing never matches a condition; `is_null` matches an explicit null only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from workbench.errors import DocumentIndexError

Predicate = Callable[[Any], bool]

_NUMBER = {
    "greater_than": lambda a, b: a > b,
    "greater_than_or_equal_to": lambda a, b: a >= b,
    "less_than": lambda a, b: a < b,
    "less_than_or_equal_to": lambda a, b: a <= b,
}
_TIME = {
    "after": lambda a, b: a > b,
    "at_or_after": lambda a, b: a >= b,
    "before": lambda a, b: a < b,
    "at_or_before": lambda a, b: a <= b,
}
CONDITIONS = (*_NUMBER, *_TIME, "equal_to", "is_null")
_COMBINATIONS = {"with": all, "with_one_of": any, "without": lambda found: not any(found)}
_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[\d*\])*)")


def compile_filters(filters: Any) -> Predicate:
    """One predicate over a document's metadata for the whole list; a malformed filter is
    said before anything is searched."""
    if filters is None:
        return lambda metadata: True
    if not isinstance(filters, list):
        raise _bad("`filters` must be a list of filters")
    parts = [_combination(item) for item in filters]
    return lambda metadata: all(part(metadata) for part in parts)


def _combination(item: Any) -> Predicate:
    if not isinstance(item, dict) or len(item) != 1 or next(iter(item)) not in _COMBINATIONS:
        raise _bad(
            f"a filter must be one of {{'with': [...]}}, {{'without': [...]}} or "
            f"{{'with_one_of': [...]}}, not {_short(item)}"
        )
    ((kind, conditions),) = item.items()
    if not isinstance(conditions, list):
        raise _bad(f"`{kind}` takes a list of conditions, not {_short(conditions)}")
    checks = [_condition(condition) for condition in conditions]
    combine = _COMBINATIONS[kind]
    return lambda metadata: combine(check(metadata) for check in checks)


def _condition(condition: Any) -> Predicate:
    if condition == {"modality": "text"}:
        return lambda metadata: True
    if isinstance(condition, dict) and set(condition) == {"modality"}:
        return lambda metadata: False  # an image: the local index holds text only
    if not isinstance(condition, dict) or set(condition) != {"metadata"}:
        raise _bad(f"a condition must be {{'metadata': {{...}}}}, not {_short(condition)}")
    spec = condition["metadata"]
    if not isinstance(spec, dict) or not isinstance(spec.get("field"), str):
        raise _bad(f"a metadata condition needs a `field` name, as in {_short(spec)}")
    rest = {k: v for k, v in spec.items() if k != "field"}
    if len(rest) != 1 or next(iter(rest)) not in CONDITIONS:
        raise _bad(
            f"a metadata condition takes exactly one of {', '.join(CONDITIONS)}, not {_short(spec)}"
        )
    ((name, value),) = rest.items()
    path = _field_path(spec["field"])
    test = _test(name, value)
    return lambda metadata: any(test(found) for found in _resolve(metadata, path))


def _test(name: str, value: Any) -> Callable[[Any], bool]:
    if name in _NUMBER:
        if not _is_number(value):
            raise _bad(f"`{name}` takes a number, not {_short(value)}")
        compare = _NUMBER[name]
        return lambda found: _is_number(found) and compare(float(found), float(value))
    if name in _TIME:
        moment = parse_datetime(value)
        if moment is None:
            raise _bad(
                f"`{name}` takes an RFC 3339 date-time such as 2025-01-31T12:00:00Z, "
                f"not {_short(value)}"
            )
        compare = _TIME[name]
        return lambda found: (when := parse_datetime(found)) is not None and compare(when, moment)
    if name == "is_null":
        if value is not True:
            raise _bad("`is_null` takes true only")
        return lambda found: found is None
    # equal_to: the kernel takes a string, an integer or a boolean (MetadataFieldValue).
    if isinstance(value, bool):
        return lambda found: isinstance(found, bool) and found == value
    if isinstance(value, int):
        return lambda found: _is_number(found) and found == value
    if isinstance(value, str):
        return lambda found: found == value
    raise _bad(f"`equal_to` takes a string, an integer or a boolean, not {_short(value)}")


def _field_path(field: str) -> list[str | int | None]:
    """`a.b[].c[1]` as keys, None for "every element" and indexes for one element."""
    path: list[str | int | None] = []
    for segment in field.split("."):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            raise _bad(f"{field!r} is not a metadata field name (like a, a.b, a[].b or a[1].b)")
        path.append(match.group(1))
        for index in re.findall(r"\[(\d*)\]", match.group(2)):
            path.append(int(index) if index else None)
    return path


def _resolve(metadata: Any, path: list[str | int | None]) -> list[Any]:
    values = [metadata]
    for step in path:
        found: list[Any] = []
        for value in values:
            if isinstance(step, str) and isinstance(value, dict) and step in value:
                found.append(value[step])
            elif step is None and isinstance(value, list):
                found.extend(value)
            elif isinstance(step, int) and isinstance(value, list) and step < len(value):
                found.append(value[step])
        values = found
    return values


def parse_datetime(value: Any) -> datetime | None:
    """An RFC 3339 date-time (a date alone, or one without an offset, is taken as UTC)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().upper())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bad(problem: str) -> DocumentIndexError:
    return DocumentIndexError(f"The search's filters cannot be read: {problem}.")
