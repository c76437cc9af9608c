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
from dunning.errors import ArchiveUnusableError

BUSY_TIMEOUT_S = 30.0
SQLITE_MAGIC = b"SQLite format 3\x00"
# Beside archive.db: a desk is a desk once this file is there (desk.CONFIG_NAME).
_DESK_MARK = "dunning.toml"
# Folders whose files say the desk has a history an empty new archive would silently forget.
_HISTORY_FOLDERS = ("store", "out")
PRIVATE_MODE = 0o600  # archive.db, -wal, -shm and the web secret: the owner only


def open_archive(
    path: Path, *, migrate_schema: bool = True, create: bool = False
) -> sqlite_utils.Database:
    """Open (and create or upgrade) the archive at `path`; read-only on a read-only desk.

    Refuses, naming the file and `dunning restore`, an archive that is damaged, or missing
    beside a desk that holds stored files or letters (`create=True` allows a new one there:
    `init --rebuild`, `restore`).
    """
    check_archive_file(path, create=create)
    if path.exists() and path.stat().st_size and not writable(path):
        return open_read_only(path)
    if not path.exists():
        # Created private before SQLite opens it: -wal and -shm take the database's mode.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    try:
        return _open_writable(path, migrate_schema=migrate_schema)
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and not is_damage(exc):
            raise
        raise damaged(path, str(exc)) from None


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """Whether an SQLite error says the file is damaged (not busy, read-only or full)."""
    text = str(exc).lower()
    if not isinstance(exc, sqlite3.OperationalError):
        return True
    return "malformed" in text or "not a database" in text or "corrupt" in text


def damaged(path: Path, why: str) -> ArchiveUnusableError:
    return ArchiveUnusableError(
        f"{path} is damaged ({why}): nothing was read or changed; restore the last backup with"
        f" `dunning restore BACKUP`, or rebuild from the store with `dunning init --rebuild`."
    )


def check_archive_file(path: Path, *, create: bool = False) -> None:
    """Refuse a missing archive beside a desk with a history, and a file that is not SQLite or
    is shorter than its own header says (a truncated copy, a zeroed disk block)."""
    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        if not create and _desk_has_history(path.parent):
            state = "missing" if not path.exists() else "empty"
            raise ArchiveUnusableError(
                f"{path} is {state} but this desk holds stored files and letters: nothing was"
                f" changed; restore the last backup with `dunning restore BACKUP`, or rebuild"
                f" from the store with `dunning init --rebuild`."
            )
        return
    if _open_in_this_process(path):
        # SQLite here already reads the file (and reports damage itself). Opening and closing
        # another descriptor on it would drop every POSIX lock this process holds on it, and
        # another process's close would then delete the -wal this process still writes to.
        return
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError:
        return  # unreadable: SQLite's own message (permissions) says it better
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise damaged(path, "it is not an SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The header's page count is valid when its "version valid for" matches the change
    # counter; a crash mid-checkpoint may leave the file short, which the WAL then completes.
    counted = header[92:96] == header[24:28]
    wal = path.with_name(path.name + "-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0
    if counted and not wal_pending and pages and size < pages * page_size:
        raise damaged(path, f"it is cut short: {size} of {pages * page_size} bytes")


def _open_in_this_process(path: Path) -> bool:
    """Whether some descriptor of this process (an SQLite connection's) has `path` open."""
    try:
        wanted = path.stat()
    except OSError:
        return False
    for fds in ("/proc/self/fd", "/dev/fd"):
        try:
            names = os.listdir(fds)
        except OSError:
            continue
        for name in names:
            try:
                found = os.stat(f"{fds}/{name}")
            except OSError:
                continue
            if (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino):
                return True
        return False
    return False


def _desk_has_history(folder: Path) -> bool:
    if not (folder / _DESK_MARK).is_file():
        return False
    for name in _HISTORY_FOLDERS:
        root = folder / name
        if root.is_dir() and any(p.is_file() for p in root.rglob("*")):
            return True
    return False


def _open_writable(path: Path, *, migrate_schema: bool) -> sqlite_utils.Database:
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
    try:
        conn.execute("COMMIT")
    except sqlite3.Error:
        # A COMMIT that fails (a full disk) leaves the transaction open: end it, so nothing
        # half-written stays and the next write can begin.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
