"""Component -> output: the wasmtime runtime, the worlds it can host, and the CSI host side."""
