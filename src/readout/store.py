"""The batch store: one SQLite file (standard library `sqlite3`, WAL mode) that loses nothing.

Three tables (see `MIGRATIONS`):

- `documents`: one row per distinct text (keyed by the SHA-256 of the text; for input that could
  not be decoded, of its raw bytes), with the name and source it was first seen under, its
  metadata (JSON), when it was first seen, and (migration 2) the exact text that was analysed
  (for HTML input, the converted text). `text` is NULL for input that has no usable text (empty,
  binary, invalid UTF-8, too large) and for rows written before migration 2 until a batch run
  sees that input again.
- `results`: the full `SummaryResult` JSON plus provenance columns. The natural key is
  (sha256, engine, model, prompt_version, schema_version): a re-run with nothing new finds every
  key and neither calls the engine nor writes; a new model or prompt adds a row and keeps the old.
- `failures`: the error class, a one-line message, how many runs tried, first and last try; one
  row per (sha256, engine, model, prompt_version, schema_version), deleted when a retry succeeds.

Every document is written in one transaction together with its outcome (a result or a failure),
so for one engine configuration `count(results) + count(failures) == count(documents)` at every
instant, whatever kills the process. Schema changes are numbered migrations tracked in
`PRAGMA user_version`. Overlapping batch runs are excluded by `BatchLock`, an `fcntl.flock` on
`<db>.lock` that the OS releases when the holder exits, even on SIGKILL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ReadoutError, UserError
from .schema import SCHEMA_VERSION, SummaryResult

__all__ = [
    "MIGRATIONS",
    "BatchLock",
    "Config",
    "LockedError",
    "Store",
    "StoreError",
    "default_db_path",
]

MIGRATIONS: list[str] = [
    # 1: documents, results, failures
    """
    CREATE TABLE documents (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,             -- record id, or the file path
        source      TEXT NOT NULL,             -- path or URL it was first seen at
        sha256      TEXT NOT NULL UNIQUE,      -- of the text (of the raw bytes if undecodable)
        metadata    TEXT NOT NULL DEFAULT '{}',-- JSON object of strings
        first_seen  TEXT NOT NULL              -- ISO 8601, UTC
    );
    CREATE TABLE results (
        id                INTEGER PRIMARY KEY,
        document_id       INTEGER NOT NULL REFERENCES documents(id),
        sha256            TEXT NOT NULL,
        engine            TEXT NOT NULL,
        model             TEXT NOT NULL DEFAULT '',
        prompt_version    TEXT NOT NULL DEFAULT '',
        schema_version    TEXT NOT NULL,
        prompt_tokens     INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens      INTEGER NOT NULL DEFAULT 0,
        requests          INTEGER NOT NULL DEFAULT 0,
        duration_ms       REAL NOT NULL DEFAULT 0,
        created_at        TEXT NOT NULL,       -- ISO 8601, UTC
        result            TEXT NOT NULL,       -- the full SummaryResult as JSON
        UNIQUE (sha256, engine, model, prompt_version, schema_version)
    );
    CREATE INDEX results_document ON results(document_id);
    CREATE INDEX results_created ON results(created_at);
    CREATE TABLE failures (
        id              INTEGER PRIMARY KEY,
        document_id     INTEGER NOT NULL REFERENCES documents(id),
        sha256          TEXT NOT NULL,
        engine          TEXT NOT NULL,
        model           TEXT NOT NULL DEFAULT '',
        prompt_version  TEXT NOT NULL DEFAULT '',
        schema_version  TEXT NOT NULL,
        error           TEXT NOT NULL,         -- error class, e.g. InputError
        message         TEXT NOT NULL,         -- one line
        attempts        INTEGER NOT NULL DEFAULT 1,
        first_tried     TEXT NOT NULL,
        last_tried      TEXT NOT NULL,
        UNIQUE (sha256, engine, model, prompt_version, schema_version)
    );
    CREATE INDEX failures_document ON failures(document_id);
    """,
    # 2: the exact text of each document (NULL: no usable text, or recorded before migration 2)
    """
    ALTER TABLE documents ADD COLUMN text TEXT;
    """,
]
"""Numbered migrations: script N (from 1) takes `user_version` from N-1 to N. Append only."""


class StoreError(ReadoutError):
    """The database cannot be used (not SQLite, newer schema, unwritable)."""


class LockedError(ReadoutError):
    """Another batch run holds the database lock (the CLI exits 0: the other run does the work)."""

    exit_code = 0


def default_db_path() -> Path:
    """`READOUT_DB` if set, else `readout.db` under the user data directory (platformdirs)."""
    from platformdirs import user_data_path

    from .config import ENV_DB

    env = os.environ.get(ENV_DB, "").strip()
    if env:
        return Path(env).expanduser()
    return user_data_path("readout", appauthor=False) / "readout.db"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Config:
    """The engine configuration part of a result's natural key ('' stands for none)."""

    engine: str
    model: str = ""
    prompt_version: str = ""
    schema_version: str = SCHEMA_VERSION

    @classmethod
    def of(cls, engine: Any) -> Config:
        """The key of an `Engine` instance (its declared name, model and prompt version)."""
        return cls(
            engine=str(engine.name),
            model=str(engine.model or ""),
            prompt_version=str(engine.prompt_version or ""),
        )

    def key(self, sha256: str) -> tuple[str, str, str, str, str]:
        return (sha256, self.engine, self.model, self.prompt_version, self.schema_version)


_KEY = "sha256 = ? AND engine = ? AND model = ? AND prompt_version = ? AND schema_version = ?"


class BatchLock:
    """An exclusive, non-blocking lock on `<db>.lock` (fcntl.flock: released on any exit)."""

    def __init__(self, db: str | Path) -> None:
        self.path = Path(f"{db}.lock")
        self._fd: int | None = None

    def acquire(self) -> BatchLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = ""
            with contextlib.suppress(OSError):
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                who = f" ({holder})" if holder else ""
                raise LockedError(
                    f"another readout batch is running on {str(self.path)[:-5]}{who}; nothing done"
                ) from None
            raise StoreError(f"cannot lock {self.path}: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {_now()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            finally:
                os.close(self._fd)  # closing the descriptor releases the flock
                self._fd = None

    def __enter__(self) -> BatchLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements (comments stay with their statement)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


class Store:
    """The batch database. Open it with `Store(path)`; use it as a context manager to close it."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly and not self.path.exists():
            raise UserError(f"{self.path}: no such database (run `readout batch` first)")
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: no implicit transactions; we BEGIN/COMMIT explicitly.
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self.conn.execute("PRAGMA busy_timeout = 30000")
            mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() != "wal" and not readonly:
                self.conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives any process crash (SIGKILL included); only
            # an OS crash or power cut can roll back the last few commits, never corrupt them.
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(readonly=readonly)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the database: {exc}") from None

    # --- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def user_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def has_text(self) -> bool:
        """Whether the schema stores document texts (migration 2; False for an old file read
        without migrating)."""
        return self.user_version >= 2

    @property
    def total_changes(self) -> int:
        """Rows changed through this connection since it was opened (for tests and reports)."""
        return self.conn.total_changes

    def _migrate(self, *, readonly: bool) -> None:
        target = len(MIGRATIONS)
        version = self.user_version
        if version > target:
            raise StoreError(
                f"{self.path}: database schema version {version} is newer than this readout "
                f"({target}); upgrade readout"
            )
        if readonly and version == 0:
            raise StoreError(f"{self.path}: not a readout database yet; run `readout batch`")
        if version == target or readonly:
            # A reader (export, failures) never writes, not even a migration: it may not own
            # the file. It reads an older schema as it is (`has_text` says what is missing).
            return
        with self._transaction():
            version = self.user_version  # another process may have migrated meanwhile
            for number in range(version + 1, target + 1):
                for statement in _split_sql(MIGRATIONS[number - 1]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, taken at once (BEGIN IMMEDIATE); rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # --- lookups ----------------------------------------------------------------------------

    def status(self, sha256: str, config: Config) -> str | None:
        """'done' if a result exists for this text and configuration, 'failed' if a failure does."""
        key = config.key(sha256)
        if self.conn.execute(f"SELECT 1 FROM results WHERE {_KEY}", key).fetchone():
            return "done"
        if self.conn.execute(f"SELECT 1 FROM failures WHERE {_KEY}", key).fetchone():
            return "failed"
        return None

    def counts(self) -> dict[str, int]:
        return {
            table: int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("documents", "results", "failures")
        }

    # --- writes: one transaction per document -----------------------------------------------

    def missing_text(self, sha256: str) -> bool:
        """True when the document exists without its text (a row from before migration 2)."""
        row = self.conn.execute(
            "SELECT 1 FROM documents WHERE sha256 = ? AND text IS NULL", (sha256,)
        ).fetchone()
        return row is not None

    def store_text(self, sha256: str, text: str) -> None:
        """Fill in the text of a document recorded without it (one transaction)."""
        with self._transaction():
            self.conn.execute(
                "UPDATE documents SET text = ? WHERE sha256 = ? AND text IS NULL", (text, sha256)
            )

    def _document_id(
        self,
        *,
        sha256: str,
        name: str,
        source: str,
        metadata: Mapping[str, str],
        text: str | None,
    ) -> int:
        row = self.conn.execute(
            "SELECT id, text IS NULL FROM documents WHERE sha256 = ?", (sha256,)
        ).fetchone()
        if row:
            if row[1] and text is not None:  # recorded before texts were stored: fill it in
                self.conn.execute("UPDATE documents SET text = ? WHERE id = ?", (text, row[0]))
            return int(row[0])
        cur = self.conn.execute(
            "INSERT INTO documents (name, source, sha256, metadata, first_seen, text)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (name, source, sha256, json.dumps(dict(metadata), ensure_ascii=False), _now(), text),
        )
        return int(cur.lastrowid or 0)

    def record_result(
        self,
        *,
        sha256: str,
        name: str,
        source: str,
        metadata: Mapping[str, str],
        config: Config,
        result: SummaryResult,
        text: str | None = None,
    ) -> None:
        """Store a document (if new) and its result, and drop its failure, atomically.

        `text` is the exact text that was summarized (stored with a new document, or filled in
        for a document recorded without it).
        """
        pv = result.provenance
        usage = pv.usage
        payload = result.model_dump_json()
        with self._transaction():
            doc_id = self._document_id(
                sha256=sha256, name=name, source=source, metadata=metadata, text=text
            )
            self.conn.execute(
                "INSERT OR IGNORE INTO results (document_id, sha256, engine, model, prompt_version,"
                " schema_version, prompt_tokens, completion_tokens, total_tokens, requests,"
                " duration_ms, created_at, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc_id,
                    *config.key(sha256),
                    usage.prompt_tokens if usage else 0,
                    usage.completion_tokens if usage else 0,
                    usage.total_tokens if usage else 0,
                    usage.requests if usage else 0,
                    pv.duration_ms,
                    pv.created_at.isoformat(),
                    payload,
                ),
            )
            self.conn.execute(f"DELETE FROM failures WHERE {_KEY}", config.key(sha256))

    def record_failure(
        self,
        *,
        sha256: str,
        name: str,
        source: str,
        metadata: Mapping[str, str],
        config: Config,
        error: str,
        message: str,
        text: str | None = None,
    ) -> None:
        """Store a document (if new) and its failure (or count one more attempt), atomically.

        `text` is the document's text, None when the input had no usable text.
        """
        message = " ".join(message.split())[:2000]
        now = _now()
        with self._transaction():
            doc_id = self._document_id(
                sha256=sha256, name=name, source=source, metadata=metadata, text=text
            )
            self.conn.execute(
                "INSERT INTO failures (document_id, sha256, engine, model, prompt_version,"
                " schema_version, error, message, attempts, first_tried, last_tried)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
                " ON CONFLICT (sha256, engine, model, prompt_version, schema_version) DO UPDATE SET"
                " error = excluded.error, message = excluded.message,"
                " attempts = failures.attempts + 1, last_tried = excluded.last_tried",
                (doc_id, *config.key(sha256), error, message, now, now),
            )

    # --- reading back -------------------------------------------------------------------------

    def failures(self) -> list[dict[str, Any]]:
        """Every failure with its document, most recently tried first."""
        cur = self.conn.execute(
            "SELECT d.name, d.source, f.sha256, f.engine, f.model, f.prompt_version,"
            " f.schema_version, f.error, f.message, f.attempts, f.first_tried, f.last_tried"
            " FROM failures f JOIN documents d ON d.id = f.document_id"
            " ORDER BY f.last_tried DESC, f.id DESC"
        )
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur]

    def failed_documents(self, config: Config) -> Iterator[dict[str, Any]]:
        """Stream the documents that failed with `config`, oldest failure first, with their text
        (None when not stored) and the recorded error and message.

        The ids are read first, then each document on its own, so the caller may record
        outcomes (which delete failures) while iterating.
        """
        key = (config.engine, config.model, config.prompt_version, config.schema_version)
        where = "engine = ? AND model = ? AND prompt_version = ? AND schema_version = ?"
        ids = [
            int(r[0])
            for r in self.conn.execute(f"SELECT id FROM failures WHERE {where} ORDER BY id", key)
        ]
        text = "d.text" if self.has_text else "NULL"
        for failure_id in ids:
            cur = self.conn.execute(
                f"SELECT d.name, d.source, d.sha256, d.metadata, {text} AS text, f.error,"
                " f.message FROM failures f JOIN documents d ON d.id = f.document_id"
                " WHERE f.id = ?",
                (failure_id,),
            )
            row = cur.fetchone()
            if row is not None:
                yield dict(zip([c[0] for c in cur.description], row, strict=True))

    def count_failures(self, config: Config) -> int:
        """How many documents failed with `config`."""
        return int(
            self.conn.execute(
                "SELECT count(*) FROM failures WHERE engine = ? AND model = ?"
                " AND prompt_version = ? AND schema_version = ?",
                (config.engine, config.model, config.prompt_version, config.schema_version),
            ).fetchone()[0]
        )

    def iter_results(self, *, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Stream results with their document, oldest first; `since` filters on `created_at`.

        Each row has the document's `text` (None when not stored).
        """
        text = "d.text" if self.has_text else "NULL"
        sql = (
            "SELECT d.name, d.source, d.sha256, d.metadata, d.first_seen, r.engine, r.model,"
            " r.prompt_version, r.schema_version, r.total_tokens, r.created_at, r.result,"
            f" {text} AS text FROM results r JOIN documents d ON d.id = r.document_id"
        )
        params: tuple[str, ...] = ()
        if since:
            sql += " WHERE r.created_at >= ?"
            params = (since,)
        cur = self.conn.execute(sql + " ORDER BY r.created_at, r.id", params)
        cols = [c[0] for c in cur.description]
        for row in cur:
            yield dict(zip(cols, row, strict=True))
