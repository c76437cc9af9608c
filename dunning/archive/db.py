"""The archive database: one SQLite file in WAL mode, written in BEGIN IMMEDIATE transactions."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from dunning.archive.migrations import migrate
from dunning.archive.search.index import reindex_all

BUSY_TIMEOUT_S = 30.0


def open_archive(path: Path, *, migrate_schema: bool = True) -> sqlite_utils.Database:
    """Open (and create or upgrade) the archive at `path`; read-only on a read-only desk."""
    if path.exists() and not writable(path):
        return open_read_only(path)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a commit is on disk before the ingest removes the file from the inbox, so even a
    # power cut cannot leave a file neither in the inbox nor in the archive.
    conn.execute("PRAGMA synchronous = FULL")
    db = sqlite_utils.Database(conn)
    if migrate_schema:
        migrate(db)
        _carry_out_maintenance(db)
    return db


def writable(path: Path) -> bool:
    """Whether the database and its folder (for the WAL files) can be written."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def open_read_only(path: Path) -> sqlite_utils.Database:
    """The archive of a read-only desk (a share mounted read-only, a CD, an old backup).

    `mode=ro` still reads the WAL; when even its -shm file cannot be opened, `immutable=1`
    reads the database file alone (a desk closed cleanly has nothing left in the WAL).
    Reading commands work; a write fails with "attempt to write a readonly database".
    """
    for query in ("mode=ro", "immutable=1"):
        uri = f"{path.resolve().as_uri()}?{query}"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            conn.close()
            continue
        return sqlite_utils.Database(conn)
    raise sqlite3.OperationalError(f"unable to open database file {path}")


def _carry_out_maintenance(db: sqlite_utils.Database) -> None:
    """Work a migration asked for that needs application code (rebuilding the search index)."""
    conn: sqlite3.Connection = db.conn
    if not conn.execute("SELECT 1 FROM _maintenance WHERE task = 'reindex'").fetchone():
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have rebuilt it while we waited for the lock.
        if conn.execute("DELETE FROM _maintenance WHERE task = 'reindex'").rowcount:
            reindex_all(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken with BEGIN IMMEDIATE so readers never deadlock a writer.

    Write with `conn.execute` inside it: sqlite-utils' table helpers wrap themselves in
    `with conn:`, which would commit this transaction half-way.
    """
    conn: sqlite3.Connection = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
