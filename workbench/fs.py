"""Files on disk: the one atomic write, and the one walk over a project's files.

An atomic write puts the new content in a temporary file beside the target and renames it
over, so a crash or a full disk never leaves half a file. The project walk prunes folders
that are never a skill's sources (virtual environments, VCS data, build output, caches)
instead of walking into them and filtering afterwards: a `.venv` holds thousands of files.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

#: Folders a project walk never enters (any folder starting with "." is skipped too, a
#: project's `.venv` among them). `wasi_deps` is where an SDK build puts pydantic-core's
#: WASI wheel: the environment's, not the skill's sources.
PRUNED_DIRS = frozenset(
    {"__pycache__", "build", "node_modules", "venv", "env", "site-packages", "wasi_deps"}
)


def atomic_write(path: Path, content: str | bytes) -> None:
    """Replace `path` with `content` (text is UTF-8) in one step, keeping its permissions."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def ensure_writable_folder(folder: Path) -> None:
    """Create `folder` if needed and prove a file can be created in it (OSError if not), so
    a read-only folder fails at once instead of after a long job whose result is lost."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".probe.")
    os.close(descriptor)
    os.unlink(temporary)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def walk_project(root: Path, suffixes: Iterable[str] | None = None) -> list[Path]:
    """Regular files under `root`, sorted, in folders a skill's sources can live in.

    Pruned folders are never entered, symbolic links to folders are not followed (a link
    loop or a link out of the project cannot make the walk endless or leave the project),
    and special files (FIFOs, sockets, devices) are never returned, so nothing that reads
    the result can block on one.
    """
    wanted = tuple(suffixes) if suffixes is not None else None
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _pruned(d))
        base = Path(folder)
        for name in files:
            if wanted is not None and not name.endswith(wanted):
                continue
            path = base / name
            if _is_regular_inside(path, root):
                found.append(path)
    return sorted(found)


def _pruned(name: str) -> bool:
    return name.startswith(".") or name in PRUNED_DIRS


def in_pruned_folder(path: Path, root: Path) -> bool:
    """True for a path the project walk never reaches (inside .git, .venv, build, ...)."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return True
    return any(_pruned(part) for part in parts[:-1])


def _is_regular_inside(path: Path, root: Path) -> bool:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return False
    except OSError:  # a dangling link, or gone since the folder was listed
        return False
    return not path.is_symlink() or path.resolve().is_relative_to(root.resolve())
