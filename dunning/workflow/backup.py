"""`dunning backup` and `dunning restore`: the desk survives the loss of its disk.

A backup folder holds snapshots and the files they share:

    DEST/store/ab/<sha256>.pdf      the originals, named by hash (copied once: incremental)
    DEST/out/<pack>/...             the letters (copied once per file)
    DEST/snapshots/<stamp>/         archive.db (SQLite online backup), dunning.toml,
                                    templates/, manifest.json
    DEST/LATEST                     the name of the newest complete snapshot

The database is copied with SQLite's online backup in one step: a consistent snapshot while
`serve` or `watch` write. The store and out/ are copied after it, so every file the snapshot
names is there (files added meanwhile are harmless extras: a restore takes only what its
snapshot names). A snapshot is written under `.partial-<stamp>` and renamed when complete,
then LATEST is replaced atomically: a backup killed at any moment leaves the previous
snapshot as LATEST and a partial folder the next backup removes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive import store
from dunning.archive.db import (
    PRIVATE_MODE,
    check_archive_file,
    damaged,
    is_damage,
    open_archive,
)
from dunning.desk import CONFIG_NAME, INBOX_ROUTES, Desk
from dunning.errors import ArchiveUnusableError, DunningError
from dunning.letters.registry import registered_files
from dunning.workflow.verify import VerifyReport, verify

FORMAT = 1
MANIFEST = "manifest.json"
LATEST = "LATEST"
PARTIAL = ".partial-"


class BackupError(DunningError):
    """A backup or a restore cannot be made as asked; nothing was replaced."""


@dataclass
class BackupResult:
    dest: Path
    snapshot: str
    documents: int = 0
    letters: int = 0
    store_copied: int = 0
    store_kept: int = 0
    out_copied: int = 0
    removed_partials: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "dest": str(self.dest),
            "snapshot": self.snapshot,
            "documents": self.documents,
            "letters": self.letters,
            "store_copied": self.store_copied,
            "store_kept": self.store_kept,
            "out_copied": self.out_copied,
            "removed_partials": self.removed_partials,
        }


@dataclass
class RestoreResult:
    desk: Path
    snapshot: Path
    documents: int = 0
    letters: int = 0
    out_files: int = 0
    set_aside: str | None = None  # the damaged archive.db moved out of the way
    verify: VerifyReport | None = None
    requeued: list[str] = field(default_factory=list)  # newer originals put back in inbox/

    def to_json(self) -> dict[str, Any]:
        return {
            "desk": str(self.desk),
            "snapshot": str(self.snapshot),
            "documents": self.documents,
            "letters": self.letters,
            "out_files": self.out_files,
            "set_aside": self.set_aside,
            "requeued": self.requeued,
            "verify": self.verify.to_json() if self.verify else None,
        }


def default_destination(desk: Desk) -> Path:
    """Beside the desk, not in it: `~/desk` → `~/desk-backup`."""
    return desk.root.with_name(f"{desk.root.name}-backup")


def backup_desk(desk: Desk, dest: Path, *, now: dt.datetime | None = None) -> BackupResult:
    """Snapshot the desk's archive, store, letters, settings and templates into `dest`."""
    dest = dest.resolve()
    if dest.is_relative_to(desk.root):
        raise BackupError(
            f"{dest} 在工作台 {desk.root} 里面：工作台丢失时这份备份会一起丢失；"
            "请选另一块磁盘或另一台电脑上的文件夹。"
        )
    if desk.root.is_relative_to(dest):
        raise BackupError(
            f"{dest} 包含了工作台 {desk.root} 本身：请给备份单独一个文件夹"
            "（在另一块磁盘或另一台电脑上）。"
        )
    # Opened once first: an archive from an older version is migrated (relative paths)
    # before it is copied, so the snapshot restores anywhere.
    open_archive(desk.db_path).close()
    name = (now or dt.datetime.now()).strftime("%Y%m%dT%H%M%S")
    try:
        (dest / "snapshots").mkdir(parents=True, exist_ok=True)
        result = BackupResult(dest, name, removed_partials=_remove_partials(dest))
        while (dest / "snapshots" / result.snapshot).exists():
            result.snapshot = _next_name(result.snapshot)
        partial = dest / "snapshots" / f"{PARTIAL}{result.snapshot}"
        partial.mkdir()
        try:
            _write_snapshot(desk, dest, partial, result)
            os.replace(partial, dest / "snapshots" / result.snapshot)
            store.fsync_dir(dest / "snapshots")
            _write_atomic(dest / LATEST, (result.snapshot + "\n").encode())
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    except OSError as exc:
        raise BackupError(
            f"无法写入到 {dest} 的备份（{exc.strerror or exc}）：那里上一次完整的备份没有改变；"
            "请腾出空间或另选一个文件夹。"
        ) from None
    return result


def _next_name(name: str) -> str:
    stem, _, n = name.partition("-")
    return f"{stem}-{int(n or 1) + 1}"


def _remove_partials(dest: Path) -> list[str]:
    """Snapshots a killed backup left half-written."""
    removed = []
    for folder in sorted((dest / "snapshots").glob(f"{PARTIAL}*")):
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def _write_snapshot(desk: Desk, dest: Path, partial: Path, result: BackupResult) -> None:
    db_copy = partial / "archive.db"
    _online_backup(desk.db_path, db_copy)
    with closing(sqlite3.connect(db_copy)) as conn:
        result.documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        result.letters = conn.execute("SELECT count(*) FROM letters").fetchone()[0]
    for path in store.iter_stored(desk.store):
        target = dest / "store" / path.relative_to(desk.store)
        if target.is_file() and target.stat().st_size == path.stat().st_size:
            result.store_kept += 1
            continue
        store.put(dest / "store", path, path.name.split(".")[0])
        result.store_copied += 1
    for path in _files(desk.out):
        target = dest / "out" / path.relative_to(desk.out)
        seen = path.stat()
        if target.is_file() and target.stat().st_size == seen.st_size:
            continue
        _copy_atomic(path, target)
        result.out_copied += 1
    shutil.copy2(desk.config_path, partial / CONFIG_NAME)
    for path in _files(desk.templates):
        _copy_atomic(path, partial / "templates" / path.relative_to(desk.templates))
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "desk": str(desk.root),
        "archive_sha256": store.sha256_file(db_copy),
        "documents": result.documents,
        "letters": result.letters,
    }
    _write_atomic(partial / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode())
    store.fsync_dir(partial)


def _online_backup(source: Path, target: Path) -> None:
    """A consistent copy of the live archive (readers and the writer carry on meanwhile)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    os.close(fd)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        with closing(sqlite3.connect(target)) as dst:
            src.backup(dst)  # all pages in one step: one read transaction, one snapshot
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            check = dst.execute("PRAGMA integrity_check(5)").fetchall()
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            raise damaged(source, str(exc)) from None
        raise OSError(str(exc)) from None  # the copy could not be written (a full disk)
    finally:
        src.close()
    if [r[0] for r in check] != ["ok"]:
        raise damaged(source, "; ".join(str(r[0]) for r in check))
    with target.open("rb") as fh:
        os.fsync(fh.fileno())


def _files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink() and not path.name.startswith(".tmp-"):
                yield path


def _copy_atomic(source: Path, target: Path) -> None:
    """Temp file beside the target, fsync, rename: a target is whole or absent."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, store.CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomic(target: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# --- restore --------------------------------------------------------------------------------


def find_snapshot(source: Path) -> tuple[Path, Path]:
    """(the backup folder, the snapshot) for SRC: a backup folder (its LATEST) or a snapshot."""
    source = source.resolve()
    if (source / MANIFEST).is_file():
        return source.parent.parent, source
    latest = source / LATEST
    if not latest.is_file():
        raise BackupError(
            f"{source} 不是 dunning 的备份（没有 {LATEST}，也没有 {MANIFEST}）："
            "请给出 `dunning backup` 写入的那个文件夹。"
        )
    name = latest.read_text(encoding="utf-8", errors="replace").strip()
    snapshot = source / "snapshots" / name
    if (
        not re.fullmatch(r"[0-9]{8}T[0-9]{6}(-[0-9]+)?", name)
        or not (snapshot / MANIFEST).is_file()
    ):
        raise BackupError(
            f"{snapshot}：{LATEST} 指向的快照不完整或已不存在；请指定一个较早快照的文件夹。"
        )
    return source, snapshot


def check_snapshot(snapshot: Path) -> dict[str, Any]:
    """The snapshot's manifest, once its archive matches the recorded hash."""
    manifest: dict[str, Any] = json.loads((snapshot / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{snapshot}：无法识别的备份格式 {manifest.get('format')!r}；请用生成它的版本恢复。"
        )
    if store.sha256_file(snapshot / "archive.db") != manifest.get("archive_sha256"):
        raise BackupError(
            f"{snapshot / 'archive.db'} 与备份时记录的校验值不符：这份副本已损坏；"
            "请恢复一个较早的快照（给出它的文件夹）。"
        )
    return manifest


def restore_desk(source: Path, root: Path, *, now: dt.datetime | None = None) -> RestoreResult:
    """Restore the newest snapshot in `source` into the desk folder `root`.

    The desk must hold no archive, an empty one, or a damaged one (set aside as
    `archive.db.damaged-<stamp>`): a working archive is never overwritten.
    """
    backup, snapshot = find_snapshot(source)
    manifest = check_snapshot(snapshot)
    desk = Desk(root.resolve())
    result = RestoreResult(desk.root, snapshot)
    result.set_aside = make_room(desk, now or dt.datetime.now())
    for folder in (desk.inbox, desk.store, desk.failed, desk.out, desk.templates):
        folder.mkdir(parents=True, exist_ok=True)
    for route in INBOX_ROUTES:
        (desk.inbox / route).mkdir(exist_ok=True)
    for private in (desk.store, desk.failed, desk.out):
        private.chmod(0o700)
    if not desk.config_path.exists():
        shutil.copy2(snapshot / CONFIG_NAME, desk.config_path)
    for path in _files(snapshot / "templates"):
        target = desk.templates / path.relative_to(snapshot / "templates")
        if not target.exists():
            _copy_atomic(path, target)
    staged = desk.root / ".archive.db.restoring"
    staged.unlink(missing_ok=True)
    os.close(os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    _copy_atomic(snapshot / "archive.db", staged)
    staged.chmod(PRIVATE_MODE)
    os.replace(staged, desk.db_path)
    with closing(open_archive(desk.db_path, create=True).conn) as conn:
        _restore_files(desk, backup, conn, result)
    result.documents, result.letters = int(manifest["documents"]), int(manifest["letters"])
    with closing(open_archive(desk.db_path).conn) as conn:
        result.verify = verify(desk, sqlite_utils.Database(conn))
        if any(p.kind == "unrecorded" for p in result.verify.problems):
            result.requeued = _requeue_newer(desk, result.verify)
            result.verify = verify(desk, sqlite_utils.Database(conn))
    return result


def _requeue_newer(desk: Desk, report: VerifyReport) -> list[str]:
    """Originals in the store the snapshot does not know (archived after the backup, into a
    desk restored over its damaged archive) go back to the inbox, to be archived again."""
    moved = []
    for problem in report.problems:
        if problem.kind != "unrecorded":
            continue
        source = desk.root / problem.path
        target = desk.inbox / source.name
        if source.is_file() and not target.exists():
            os.replace(source, target)
            target.chmod(0o644)
            moved.append(source.name)
    return moved


# What refuses to overwrite a working archive, as the sentence names it (callers pass the key).
_OVERWRITERS = {"a restore": "恢复", "a rebuild": "重建"}


def make_room(desk: Desk, now: dt.datetime, *, what: str = "a restore") -> str | None:
    """Set a damaged or empty archive aside for a new one; refuse a working archive."""
    db = desk.db_path
    if not db.exists() or db.stat().st_size == 0:
        db.unlink(missing_ok=True)
        return None
    try:
        check_archive_file(db, create=True)
        with closing(open_archive(db, migrate_schema=False).conn) as conn:
            healthy = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            holds = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except (ArchiveUnusableError, sqlite3.DatabaseError):
        healthy, holds = False, 1
    if healthy and holds:
        raise BackupError(
            f"{db} 是一个正常使用中的数据库：{_OVERWRITERS.get(what, what)}从不覆盖它；请用一个空文件夹"
            "（`--desk 新文件夹`），或先把这个数据库移走。"
        )
    aside = f"{db.name}.damaged-{now.strftime('%Y%m%dT%H%M%S')}"
    for suffix in ("", "-wal", "-shm"):
        part = db.with_name(db.name + suffix)
        if part.exists():
            os.replace(part, db.with_name(aside + suffix))
            db.with_name(aside + suffix).chmod(PRIVATE_MODE)
    return aside


def _restore_files(
    desk: Desk, backup: Path, conn: sqlite3.Connection, result: RestoreResult
) -> None:
    missing = []
    for sha256, stored_path in conn.execute("SELECT sha256, stored_path FROM documents"):
        target = desk.root / stored_path
        if target.is_file():
            continue
        source = backup / "store" / Path(stored_path).relative_to("store")
        if not source.is_file():
            missing.append(stored_path)
            continue
        store.put(desk.store, source, sha256)
    db = sqlite_utils.Database(conn)
    for names in registered_files(desk, db).values():
        for path in names:
            if not path.is_relative_to(desk.out) or path.exists():
                continue
            source = backup / "out" / path.relative_to(desk.out)
            if source.is_file():
                _copy_atomic(source, path)
                result.out_files += 1
    if missing:
        raise BackupError(
            f"{backup} 中的备份缺少 {len(missing)} 份存档原件（第一份是 {missing[0]}）："
            "数据库已恢复；请运行 `dunning verify` 查看清单。"
        )
