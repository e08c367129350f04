"""`workbench serve`: the Pharia Kernel's HTTP API on the developer's machine."""
