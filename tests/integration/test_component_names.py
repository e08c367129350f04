"""A component's import and export names read from its binary, without compiling it: the
same names in the same order as wasmtime gives after compiling, for every kind of skill."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import ComponentError
from workbench.run.component_names import component_names


def test_names_match_wasmtimes_for_every_world(
    runtime, haiku_project, sdk_skill_build, sdk_stream_build, raw_build
) -> None:
    components = [
        haiku_project.output,
        sdk_skill_build[1],
        sdk_stream_build[1],
        *(raw_build(name).output for name in ("raw_v0_2", "raw_v0_4_stream", "raw_v0_5")),
    ]
    for component in components:
        imports, exports = component_names(component)
        assert (imports, exports) == runtime.component_interface(component), component
        assert any(name.startswith("wasi:") for name in imports)


def test_what_is_not_a_component_says_so(tmp_path: Path) -> None:
    module = tmp_path / "module.wasm"
    module.write_bytes(b"\0asm\x01\x00\x00\x00")  # a core module, not a component
    with pytest.raises(ComponentError, match="is not a valid WebAssembly component"):
        component_names(module)
    cut = tmp_path / "cut.wasm"
    cut.write_bytes(b"\0asm\x0d\x00\x01\x00\x0a\x05\x01\x00")  # an import section cut short
    with pytest.raises(ComponentError, match="is not a valid WebAssembly component"):
        component_names(cut)
    with pytest.raises(ComponentError, match="Cannot read the component"):
        component_names(tmp_path / "missing.wasm")
