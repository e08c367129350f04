"""WIT values as wasmtime-py gives them, turned into plain Python and back, led by the types
the component itself declares.

Plain values are what the world tables and the CSI speak (see worlds/): a record is a dict
keyed by its fields in snake_case, an enum case is its name in snake_case, a variant case is
`"case"` without a payload and `{"case": payload}` with one, an option is the value or None,
a result is `{"ok": ...}` or `{"err": ...}`, `list<u8>` is bytes. Because the conversion reads
the component's own types, each world version's exact shapes (0.4 inserted `reasoning` into
`message-item`, say) come out right without a table of them.

wasmtime-py tags a variant (`Variant(tag, payload)`) only where two cases share a Python type;
otherwise it passes the bare payload. Both ways are handled here, by asking the type.
"""

from __future__ import annotations

from typing import Any

from wasmtime.component import (
    U8,
    BorrowType,
    EnumType,
    FlagsType,
    ListType,
    OptionType,
    OwnType,
    Record,
    RecordType,
    ResultType,
    TupleType,
    ValType,
    Variant,
    VariantType,
)


def snake(name: str) -> str:
    return name.replace("-", "_")


def kebab(name: str) -> str:
    return name.replace("_", "-")


def to_plain(value: Any, ty: ValType) -> Any:
    """A value the guest passed (typed `ty`) as plain Python."""
    if isinstance(ty, RecordType):
        return {snake(name): to_plain(getattr(value, name), field) for name, field in ty.fields}
    if isinstance(ty, ListType):
        if isinstance(ty.element, U8):
            return bytes(value)
        return [to_plain(item, ty.element) for item in value]
    if isinstance(ty, OptionType):
        return None if value is None else to_plain(value, ty.payload)
    if isinstance(ty, EnumType):
        return snake(value)
    if isinstance(ty, ResultType | VariantType):
        tag, payload_type, payload = _case_of(value, ty)
        if isinstance(ty, ResultType):
            plain = None if payload_type is None else to_plain(payload, payload_type)
            return {tag: plain}
        if payload_type is None:
            return snake(tag)
        return {snake(tag): to_plain(payload, payload_type)}
    if isinstance(ty, TupleType):
        return [to_plain(item, element) for item, element in zip(value, ty.elements, strict=True)]
    if isinstance(ty, FlagsType):
        return sorted(snake(flag) for flag in value)
    return value  # numbers, strings, chars, bools; resources pass through untouched


def from_plain(plain: Any, ty: ValType) -> Any:
    """A plain value as wasmtime-py takes it for type `ty` (to hand to the guest)."""
    if isinstance(ty, RecordType):
        record = Record()
        for name, field in ty.fields:
            setattr(record, name, from_plain(plain.get(snake(name)), field))
        return record
    if isinstance(ty, ListType):
        if isinstance(ty.element, U8):
            return bytes(plain)
        return [from_plain(item, ty.element) for item in plain]
    if isinstance(ty, OptionType):
        return None if plain is None else from_plain(plain, ty.payload)
    if isinstance(ty, EnumType):
        return kebab(plain)
    if isinstance(ty, ResultType | VariantType):
        tag, payload = (plain, None) if isinstance(plain, str) else next(iter(plain.items()))
        cases = dict(_cases(ty))
        tag = tag if isinstance(ty, ResultType) else kebab(tag)
        if tag not in cases:
            raise ValueError(f"{tag!r} is not a case of this variant ({', '.join(cases)})")
        case_type = cases[tag]
        value = None if case_type is None else from_plain(payload, case_type)
        return Variant(tag, value) if ty._tagged() else value
    if isinstance(ty, TupleType):
        return tuple(
            from_plain(item, element) for item, element in zip(plain, ty.elements, strict=True)
        )
    if isinstance(ty, FlagsType):
        return {kebab(flag) for flag in plain}
    return plain


def _cases(ty: ResultType | VariantType) -> list[tuple[str, ValType | None]]:
    if isinstance(ty, ResultType):
        return [("ok", ty.ok), ("err", ty.err)]
    return ty.cases


def _case_of(value: Any, ty: ResultType | VariantType) -> tuple[str, ValType | None, Any]:
    """Which case `value` is: read from its tag, or (untagged) from its Python type, the way
    wasmtime-py itself tells the cases apart."""
    cases = _cases(ty)
    if ty._tagged():
        for name, case_type in cases:
            if name == value.tag:
                return name, case_type, value.payload
        raise ValueError(f"{value.tag!r} is not a case of this variant")
    for name, case_type in cases:
        if case_type is None:
            if value is None:
                return name, None, None
            continue
        classes: set[type] = set()
        case_type.add_classes(classes)
        if isinstance(value, tuple(classes)):
            return name, case_type, value
    raise ValueError(f"{value!r} matches no case of this variant")


def is_resource(ty: Any) -> bool:
    return isinstance(ty, OwnType | BorrowType)
