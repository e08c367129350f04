"""Just enough WIT reading to find a file's package and worlds (componentize-py checks the rest)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import ProjectError

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_PACKAGE = re.compile(r"^\s*package\s+([^;\s]+)\s*;", re.MULTILINE)
#: A world with the gates written just before it: `@unstable(feature = alpha) world skill {`.
_WORLD = re.compile(
    r"^\s*((?:@[a-z]+\s*\([^)]*\)\s*)*)world\s+(%?[a-z][a-z0-9-]*)\s*\{", re.MULTILINE
)
_UNSTABLE = re.compile(r"@unstable\s*\(\s*feature\s*=\s*([a-z0-9-]+)\s*\)")
#: The kernel's versioned skill packages (`pharia:skill@0.4.0`); the seed's has no version.
_KERNEL_PACKAGE = re.compile(r"^pharia:skill@\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class WitSummary:
    package: str | None
    worlds: tuple[str, ...]
    #: The features a world is gated behind (`@unstable(feature = X)`), by world.
    world_features: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_kernel_package(self) -> bool:
        """True for one of the kernel's versioned `pharia:skill@X.Y.Z` packages."""
        return self.package is not None and bool(_KERNEL_PACKAGE.match(self.package))


def wit_files(path: Path) -> list[Path]:
    """A WIT path is a file or a folder of `.wit` files (as componentize-py's `-d` takes it)."""
    if path.is_dir():
        return sorted(path.glob("*.wit"))
    return [path]


def read_wit(path: Path) -> WitSummary:
    if not path.exists():
        raise ProjectError(
            f"The WIT file {path} does not exist; create it or fix `wit` in workbench.toml."
        )
    package: str | None = None
    worlds: list[str] = []
    features: dict[str, tuple[str, ...]] = {}
    for file in wit_files(path):
        try:
            text = _COMMENTS.sub("", file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise ProjectError(f"Cannot read the WIT file {file} ({error}).") from error
        found = _PACKAGE.search(text)
        if found and package is None:
            package = found.group(1)
        for gates, name in _WORLD.findall(text):
            worlds.append(name.lstrip("%"))
            gated = tuple(_UNSTABLE.findall(gates))
            if gated:
                features[name.lstrip("%")] = gated
    return WitSummary(package=package, worlds=tuple(worlds), world_features=features)
