"""The documents a project keeps, as files: `documents/<namespace>/<collection>/<name>.md`
(or `.txt`), each with optional metadata beside it in `<name>.meta.json`.

A name may hold folders (`guides/setup` is `documents/ns/c/guides/setup.md`), since Document
Index names may hold `/`. Files and folders starting with "." are never documents: the
atomic write's temporary files start with one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import DocumentIndexError
from workbench.fs import atomic_write

DOCUMENTS_FOLDER = "documents"
TEXT_SUFFIXES = (".md", ".txt")
METADATA_SUFFIX = ".meta.json"
#: The Document Index's rule for namespaces and collections (the kernel's
#: src/search/client.rs relies on it to put them in URLs unencoded).
_COLLECTION_PART = re.compile(r"[A-Za-z0-9.\-]+")


@dataclass(frozen=True)
class StoredDocument:
    namespace: str
    collection: str
    name: str
    path: Path
    metadata_path: Path | None
    #: The files' stat (mtime, size, inode, ctime): a change means the text must be re-read.
    signature: str = ""

    @property
    def document_path(self) -> dict[str, str]:
        return {"namespace": self.namespace, "collection": self.collection, "name": self.name}


def collection_folder(root: Path, namespace: str, collection: str) -> Path:
    check_part("namespace", namespace)
    check_part("collection", collection)
    return root / DOCUMENTS_FOLDER / namespace / collection


def check_part(kind: str, value: str) -> None:
    if not isinstance(value, str) or not _COLLECTION_PART.fullmatch(value) or value in (".", ".."):
        raise DocumentIndexError(
            f"{value!r} is not a {kind} name the Document Index accepts; use letters, digits, "
            "dashes and dots only."
        )


def check_name(name: str) -> None:
    parts = name.split("/") if isinstance(name, str) else [""]
    if any(not p or p.startswith(".") or "\\" in p or not p.isprintable() for p in parts):
        raise DocumentIndexError(
            f"{name!r} is not a document name the local index can keep as a file; use "
            "printable names whose parts (between slashes) do not start with a dot."
        )


def shown_folder(namespace: str, collection: str) -> str:
    return f"{DOCUMENTS_FOLDER}/{namespace}/{collection}"


def missing_collection(namespace: str, collection: str) -> DocumentIndexError:
    return DocumentIndexError(
        f"There is no collection {namespace}/{collection} in this project: put its documents "
        f"in {shown_folder(namespace, collection)}/ as .md or .txt files, or add them with "
        f"`workbench docs add FILE --namespace {namespace} --collection {collection}`."
    )


def scan_collection(root: Path, namespace: str, collection: str) -> dict[str, StoredDocument]:
    """The collection's documents by name, each with the stat signature of its files."""
    folder = collection_folder(root, namespace, collection)
    if not folder.is_dir():
        raise missing_collection(namespace, collection)
    found: dict[str, StoredDocument] = {}
    for current, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(current)
        names = set(files)
        for file in sorted(names):
            suffix = Path(file).suffix
            if file.startswith(".") or suffix not in TEXT_SUFFIXES:
                continue
            path = base / file
            name = path.relative_to(folder).with_suffix("").as_posix()
            if name in found:
                raise DocumentIndexError(
                    f"The document {namespace}/{collection}/{name} is there twice, as "
                    f"{found[name].path.name} and {file}; keep one of them."
                )
            meta_name = f"{Path(file).stem}{METADATA_SUFFIX}"
            meta = base / meta_name if meta_name in names else None
            signature = _signature(path, meta)
            if signature is None:  # gone since the folder was listed, or not a file
                continue
            found[name] = StoredDocument(namespace, collection, name, path, meta, signature)
    return dict(sorted(found.items()))


def find_document(root: Path, namespace: str, collection: str, name: str) -> StoredDocument:
    folder = collection_folder(root, namespace, collection)
    if not folder.is_dir():
        raise missing_collection(namespace, collection)
    check_name(name)
    for suffix in TEXT_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            meta = path.with_name(f"{path.stem}{METADATA_SUFFIX}")
            return StoredDocument(
                namespace, collection, name, path, meta if meta.is_file() else None
            )
    raise DocumentIndexError(
        f"There is no document {name!r} in the collection {namespace}/{collection}: put it in "
        f"{shown_folder(namespace, collection)}/{name}.md (or .txt), or add it with "
        f"`workbench docs add FILE --namespace {namespace} --collection {collection} "
        f"--name {name}`."
    )


def read_text(path: Path, shown: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentIndexError(f"Cannot read {shown} ({error.strerror or error}).") from None
    try:
        # utf-8-sig: a byte order mark is not part of the text (nor of its positions).
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentIndexError(
            f"{shown} is not UTF-8 text (a byte at {error.start} cannot be read); the local "
            "index takes UTF-8 text and Markdown files only, so convert it or remove it."
        ) from None


def read_metadata(path: Path | None, shown: str) -> Any:
    if path is None or not path.is_file():  # none, or removed since the folder was listed
        return None
    text = read_text(path, shown)
    try:
        return json.loads(text)
    except ValueError as error:
        raise DocumentIndexError(
            f"{shown} is not valid JSON ({error}); fix it or remove it."
        ) from None


def list_documents(
    root: Path, namespace: str | None = None, collection: str | None = None
) -> list[StoredDocument]:
    """Every document under `documents/`, or in one namespace or collection, sorted. A
    namespace or collection asked for by name must be there."""
    base = root / DOCUMENTS_FOLDER
    if namespace is not None:
        check_part("namespace", namespace)
        if collection is None and not (base / namespace).is_dir():
            raise DocumentIndexError(
                f"There is no namespace {namespace} in this project: its collections go in "
                f"{DOCUMENTS_FOLDER}/{namespace}/<collection>/."
            )
    found: list[StoredDocument] = []
    for ns in [namespace] if namespace is not None else _subfolders(base):
        for coll in [collection] if collection is not None else _subfolders(base / ns):
            if namespace is None and not (base / ns / coll).is_dir():
                continue  # a collection asked for across namespaces: where it is
            found.extend(scan_collection(root, ns, coll).values())
    return found


def _subfolders(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(".") and _COLLECTION_PART.fullmatch(p.name)
    )


def add_document(
    root: Path,
    namespace: str,
    collection: str,
    file: Path,
    name: str | None = None,
    metadata: Any = None,
) -> Path:
    """Copy a UTF-8 text or Markdown `file` into the collection as `name` (default: the
    file's stem), with `metadata` (if given) beside it; return the document's new path."""
    folder = collection_folder(root, namespace, collection)
    name = file.stem if name is None else name
    check_name(name)
    if not file.is_file():
        raise DocumentIndexError(f"There is no file {file} to add.")
    text = read_text(file, str(file))
    suffix = ".md" if file.suffix.lower() in (".md", ".markdown") else ".txt"
    target = folder / f"{name}{suffix}"
    other = target.with_suffix(".txt" if suffix == ".md" else ".md")
    if other.exists():
        raise DocumentIndexError(
            f"The collection {namespace}/{collection} already has {name!r} as {other.name}; "
            "remove that file first, or give this one another --name."
        )
    try:
        atomic_write(target, text)
        if metadata is not None:
            meta = target.with_name(f"{target.stem}{METADATA_SUFFIX}")
            atomic_write(meta, json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    except OSError as error:
        raise DocumentIndexError(
            f"Cannot write {target} ({error.strerror or error}); check the folder's "
            "permissions and free space."
        ) from None
    return target


def _signature(path: Path, meta: Path | None) -> str | None:
    parts = []
    for file in (path, meta):
        if file is None:
            parts.append("-")
            continue
        try:
            st = file.stat()
        except OSError:
            if file is meta:  # a metadata file removed meanwhile: the document has none
                parts.append("-")
                continue
            return None
        parts.append(f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}:{st.st_ctime_ns}")
    return "|".join(parts)
