"""A component's top-level import and export names, read from its binary without compiling.

Compiling a component only to ask what it imports and exports takes seconds (18-48 MB of
code); the names sit in its top-level import and export sections and take milliseconds to
read. The sections of nested components and core modules are skipped by their sizes, never
read. The format is the component model's binary encoding (its Binary.md): a preamble, then
sections of `id:byte size:u32 contents`; the import section (10) is a vector of
`name externdesc`, the export section (11) of `name sortidx externdesc?`.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from workbench.errors import ComponentError

_MAGIC = b"\0asm"
_COMPONENT_LAYER = b"\x01\x00"
_IMPORTS, _EXPORTS = 10, 11


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def byte(self) -> int:
        value = self.data[self.at]
        self.at += 1
        return value

    def u32(self) -> int:
        result, shift = 0, 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def name(self) -> str:
        length = self.u32()
        text = self.data[self.at : self.at + length].decode("utf-8")
        self.at += length
        return text

    def extern_name(self) -> str:
        kind = self.byte()
        name = self.name()
        if kind == 0x01:  # a name with a version suffix: the suffix follows as a name
            self.name()
        elif kind != 0x00:
            raise ValueError(f"unknown name kind {kind:#x}")
        return name

    def extern_desc(self) -> None:
        kind = self.byte()
        if kind == 0x00:  # a core module: 0x11 typeidx
            self.byte()
            self.u32()
        elif kind in (0x01, 0x04, 0x05):  # func, component, instance: typeidx
            self.u32()
        elif kind == 0x02:  # value: bound
            self.byte()
            self.u32()
        elif kind == 0x03:  # type: eq typeidx, or sub resource
            if self.byte() == 0x00:
                self.u32()
        else:
            raise ValueError(f"unknown extern kind {kind:#x}")

    def sort_index(self) -> None:
        if self.byte() == 0x00:  # a core sort has a second byte
            self.byte()
        self.u32()


def _sections(file: BinaryIO) -> list[tuple[int, bytes]]:
    """The import and export sections' contents, in order; every other section skipped."""
    found = []
    while True:
        head = file.read(1)
        if not head:
            return found
        size, shift = 0, 0
        while True:
            byte = file.read(1)[0]
            size |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
        if head[0] in (_IMPORTS, _EXPORTS):
            found.append((head[0], file.read(size)))
        else:
            file.seek(size, 1)


def component_names(path: Path) -> tuple[list[str], list[str]]:
    """The component's import and export names in the order it declares them (the order
    wasmtime lists them in); a ComponentError if it is not a component."""
    imports: list[str] = []
    exports: list[str] = []
    try:
        with open(path, "rb") as file:
            preamble = file.read(8)
            if preamble[:4] != _MAGIC or preamble[6:8] != _COMPONENT_LAYER:
                raise ValueError("not a WebAssembly component")
            for section, contents in _sections(file):
                reader = _Reader(contents)
                for _ in range(reader.u32()):
                    name = reader.extern_name()
                    if section == _IMPORTS:
                        reader.extern_desc()
                        imports.append(name)
                    else:
                        reader.sort_index()
                        if reader.byte() == 0x01:  # an optional ascribed type
                            reader.extern_desc()
                        exports.append(name)
    except OSError as error:
        raise ComponentError(
            f"Cannot read the component {path} ({error.strerror or error}); build it first."
        ) from None
    except (ValueError, IndexError, UnicodeDecodeError) as error:
        raise ComponentError(
            f"{path} is not a valid WebAssembly component ({error}); rebuild it with "
            "`workbench build --force`."
        ) from None
    return imports, exports
