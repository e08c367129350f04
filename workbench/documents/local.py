"""The project's own document index: the files under `documents/` (see `layout`), ranked by
SQLite's FTS5 full-text search (BM25), in `build/documents.sqlite`.

Each collection has a full-text index of its own, so one collection's words never change
another's scores. The index follows the files: every call compares the collection's files'
stat with what was indexed and re-reads only what was added, changed or removed. The index
is a cache: a broken or outdated one is thrown away and rebuilt from the files.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.documents import layout, shapes
from workbench.documents.filters import compile_filters
from workbench.documents.layout import StoredDocument
from workbench.documents.passages import match_query, split_passages
from workbench.errors import DocumentIndexError
from workbench.fs import ensure_writable_folder

INDEX_FILE = Path("build") / "documents.sqlite"
#: Bumped when the tables or the passages change: an index of another version is rebuilt.
SCHEMA_VERSION = 1
#: unicode61 with diacritics folded (cafe finds café) and Porter stemming (runs finds run).
_TOKENIZER = "porter unicode61 remove_diacritics 2"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, collection TEXT NOT NULL,
    UNIQUE (namespace, collection));
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, collection_id INTEGER NOT NULL, name TEXT NOT NULL,
    signature TEXT NOT NULL, metadata TEXT NOT NULL,
    first_passage INTEGER NOT NULL, last_passage INTEGER NOT NULL,
    UNIQUE (collection_id, name));
"""


class LocalDocumentIndex:
    """The `DocumentIndex` of the project at `root`; `database` overrides where the index
    lives (":memory:" keeps it in memory)."""

    def __init__(self, root: Path, database: Path | str | None = None) -> None:
        self.root = root
        self._database = database
        self._connection: sqlite3.Connection | None = None
        # One connection, used by one thread at a time: CSI batches may search at once.
        self._lock = threading.Lock()
        self.description = (
            f"local index of {root / layout.DOCUMENTS_FOLDER} (BM25 full-text ranking, not "
            "embeddings; one index per collection, whatever index name is asked for)"
        )

    # The DocumentIndex interface ---------------------------------------------------------

    def search(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        search = shapes.search_request(request)
        namespace, collection = search.namespace, search.collection
        accepts = compile_filters(search.filters)
        expression = match_query(search.query)
        with self._lock, self._sqlite_errors():
            table = self._sync(namespace, collection)
            if expression is None or search.max_results == 0:
                return []
            rows = self._db().execute(
                f"SELECT d.name, d.metadata, p.start, p.text, -bm25({table}) "
                f"FROM {table} AS p JOIN documents AS d ON d.id = p.document "
                f"WHERE {table} MATCH ? ORDER BY bm25({table}), d.name, p.start",
                (expression,),
            )
            results: list[dict[str, Any]] = []
            metadata: dict[str, Any] = {}
            for name, metadata_json, start, text, score in rows:
                if search.min_score is not None and score < search.min_score:
                    break  # ranked best first: the rest score lower still
                if name not in metadata:
                    metadata[name] = json.loads(metadata_json)
                if not accepts(metadata[name]):
                    continue
                results.append(_result(namespace, collection, name, start, text, score))
                if len(results) >= search.max_results:
                    break
            return results

    def document(self, path: dict[str, Any]) -> dict[str, Any]:
        found = self._find(path)
        return {
            "path": found.document_path,
            "contents": [{"modality": "text", "text": self._text(found)}],
            "metadata": self._metadata(found),
        }

    def metadata(self, path: dict[str, Any]) -> Any:
        return self._metadata(self._find(path))

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # For the command line ----------------------------------------------------------------

    def add(
        self,
        namespace: str,
        collection: str,
        file: Path,
        name: str | None = None,
        metadata: Any = None,
    ) -> Path:
        """Copy a UTF-8 text or Markdown file into the collection (indexed at the next
        search); return where it went."""
        return layout.add_document(self.root, namespace, collection, file, name, metadata)

    def list_documents(
        self, namespace: str | None = None, collection: str | None = None
    ) -> list[StoredDocument]:
        return layout.list_documents(self.root, namespace, collection)

    # The index ---------------------------------------------------------------------------

    def _find(self, path: dict[str, Any]) -> StoredDocument:
        return layout.find_document(self.root, *shapes.document_path(path))

    def _shown(self, path: Path) -> str:
        with contextlib.suppress(ValueError):
            return path.relative_to(self.root).as_posix()
        return str(path)

    def _text(self, document: StoredDocument) -> str:
        return layout.read_text(document.path, self._shown(document.path))

    def _metadata(self, document: StoredDocument) -> Any:
        meta = document.metadata_path
        return layout.read_metadata(meta, self._shown(meta) if meta else "")

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._open()
        return self._connection

    def _open(self) -> sqlite3.Connection:
        target = self._database_path()
        try:
            connection = self._connect(target)
        except sqlite3.OperationalError:  # locked, or cannot be opened: said by the caller
            raise
        except sqlite3.DatabaseError:  # not a database at all (a crash, or another file)
            connection = None
        if connection is None:  # of another version, or broken: rebuilt from the files
            for suffix in ("", "-journal", "-wal", "-shm"):
                if target != ":memory:":
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
            connection = self._connect(target)
            assert connection is not None
        return connection

    def _database_path(self) -> str:
        if self._database is not None:
            return str(self._database)
        path = self.root / INDEX_FILE
        try:
            ensure_writable_folder(path.parent)
        except OSError:
            return ":memory:"  # a read-only project is still searchable, indexed per run
        return str(path)

    def _connect(self, target: str) -> sqlite3.Connection | None:
        """A connection to the index at `target`, made if new; None if it is outdated."""
        # Autocommit: each sync is one explicit transaction (see `_sync`).
        connection = sqlite3.connect(
            target, timeout=10, check_same_thread=False, isolation_level=None
        )
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return connection
            if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                connection.close()
                return None
            connection.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        except BaseException:
            connection.close()
            raise
        return connection

    def _sync(self, namespace: str, collection: str) -> str:
        """Bring the collection's index up to date with its files; return its table."""
        files = layout.scan_collection(self.root, namespace, collection)
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            table = self._update(db, namespace, collection, files)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return table

    @contextlib.contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as error:
            if "fts5" in str(error).lower():
                raise DocumentIndexError(
                    "This Python's SQLite has no FTS5 full-text search, which the local "
                    "document index needs; use a Python whose sqlite3 module has it."
                ) from None
            raise DocumentIndexError(
                f"The local document index {self._shown(self.root / INDEX_FILE)} cannot be "
                f"used ({error}); close other workbenches using it, or delete the file."
            ) from None

    def _update(
        self,
        db: sqlite3.Connection,
        namespace: str,
        collection: str,
        files: dict[str, StoredDocument],
    ) -> str:
        row = db.execute(
            "SELECT id FROM collections WHERE namespace = ? AND collection = ?",
            (namespace, collection),
        ).fetchone()
        if row is None:
            row = db.execute(
                "INSERT INTO collections (namespace, collection) VALUES (?, ?) RETURNING id",
                (namespace, collection),
            ).fetchone()
        # Named by its row id, never by the user's names: nothing of theirs reaches the SQL.
        table = f"passages_{int(row[0])}"
        db.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING "
            f"fts5(text, document UNINDEXED, start UNINDEXED, tokenize = '{_TOKENIZER}')"
        )
        indexed = {
            name: (document_id, signature, first, last)
            for document_id, name, signature, first, last in db.execute(
                "SELECT id, name, signature, first_passage, last_passage FROM documents "
                "WHERE collection_id = ?",
                (row[0],),
            )
        }
        for name, (document_id, signature, first, last) in indexed.items():
            if name not in files or files[name].signature != signature:
                # A document's passages have consecutive row ids: deleting by range is quick
                # where `WHERE document = ?` would read the whole collection's index.
                db.execute(f"DELETE FROM {table} WHERE rowid BETWEEN ? AND ?", (first, last))
                db.execute("DELETE FROM documents WHERE id = ?", (document_id,))
        for name, stored in files.items():
            if name in indexed and indexed[name][1] == stored.signature:
                continue
            text = self._text(stored)
            metadata = json.dumps(self._metadata(stored))
            passages = split_passages(text)
            (first,) = db.execute(f"SELECT coalesce(max(rowid), 0) + 1 FROM {table}").fetchone()
            (document_id,) = db.execute(
                "INSERT INTO documents (collection_id, name, signature, metadata, "
                "first_passage, last_passage) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (row[0], name, stored.signature, metadata, first, first + len(passages) - 1),
            ).fetchone()
            db.executemany(
                f"INSERT INTO {table} (rowid, text, document, start) VALUES (?, ?, ?, ?)",
                [(first + n, p.text, document_id, p.start) for n, p in enumerate(passages)],
            )
        return table


def _result(
    namespace: str, collection: str, name: str, start: int, text: str, score: float
) -> dict[str, Any]:
    return {
        "document_path": {"namespace": namespace, "collection": collection, "name": name},
        "content": text,
        "score": score,
        # Inclusive at both ends, in characters of the document's one text item (item 0).
        "start": {"item": 0, "position": start},
        "end": {"item": 0, "position": start + len(text) - 1},
    }
