"""`dunning verify`: every stored original against its SHA-256, and database ↔ store both ways."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive import store
from dunning.desk import SECRET_NAME, Desk


@dataclass(frozen=True)
class Problem:
    # missing | altered | unrecorded | unregistered (a pack file no letter owns) | damaged
    # (integrity_check) | exposed (a private file others may read)
    kind: str
    path: str
    document: int | None
    detail: str


@dataclass
class VerifyReport:
    documents: int = 0
    store_files: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "documents": self.documents,
            "store_files": self.store_files,
            "problems": [p.__dict__ for p in self.problems],
        }


def verify(
    desk: Desk, db: sqlite_utils.Database, *, progress: Callable[[], None] | None = None
) -> VerifyReport:
    report = VerifyReport()
    report.problems.extend(_integrity(db))
    report.problems.extend(exposed_files(desk))
    recorded: set[Path] = set()
    rows = db.execute("SELECT id, sha256, stored_path FROM documents ORDER BY id").fetchall()
    report.documents = len(rows)
    for doc_id, sha256, stored_path in rows:
        path = (desk.root / stored_path).resolve()
        recorded.add(path)
        if progress:
            progress()
        if not path.is_file():
            report.problems.append(
                Problem("missing", stored_path, doc_id, "存档原件不见了：请从备份恢复")
            )
        elif store.sha256_file(path) != sha256:
            report.problems.append(
                Problem(
                    "altered",
                    stored_path,
                    doc_id,
                    "内容与存档时的校验值不符（已被改动）：请从备份恢复",
                )
            )
    files = store.iter_stored(desk.store)
    report.store_files = len(files)
    for path in files:
        if path.resolve() not in recorded:
            rel = str(path.relative_to(desk.root))
            report.problems.append(
                Problem("unrecorded", rel, None, "存档中有一个文件没有对应的文档：核对后可删除")
            )
    report.problems.extend(_unregistered_pack_files(desk, db))
    return report


def _integrity(db: sqlite_utils.Database) -> list[Problem]:
    """SQLite's own check of every page, index and constraint of the archive."""
    rows = [str(r[0]) for r in db.execute("PRAGMA integrity_check(20)").fetchall()]
    if rows == ["ok"]:
        return []
    return [
        Problem("damaged", "archive.db", None, f"数据库损坏：{row}（请用最近的备份恢复）")
        for row in rows
    ]


def exposed_files(desk: Desk) -> list[Problem]:
    """The archive (every account's password hash, all receivables) and the web secret are
    the owner's only: anything group or others may read or write is reported."""
    db = desk.db_path
    found = []
    for path in (
        db,
        db.with_name(db.name + "-wal"),
        db.with_name(db.name + "-shm"),
        desk.root / SECRET_NAME,
    ):
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & 0o077:
            found.append(
                Problem(
                    "exposed",
                    path.name,
                    None,
                    f"权限 {mode:o}：本机其他用户能读取此文件；请运行 `chmod 600 {path}`",
                )
            )
    return found


def _unregistered_pack_files(desk: Desk, db: sqlite_utils.Database) -> list[Problem]:
    """out/ against the letters: files no letter owns (a pack killed before registering),
    and registered letters whose files are gone."""
    from dunning.letters.registry import letters_missing_files, unregistered_pack_files
    from dunning.workflow.cases import case_folders

    cases = case_folders(db)  # a case's papers are not letters
    found = [
        Problem(
            "unregistered",
            str(path.relative_to(desk.root)),
            None,
            "没有登记的函件文件（生成中断留下的）：不是有效函件，下次运行 `dunning pack` 会删除它",
        )
        for path in unregistered_pack_files(desk, db)
        if not any(path.resolve().is_relative_to(folder) for folder in cases)
    ]
    found += [
        Problem(
            "missing", _shown(desk, path), None, f"函件 {ref} 已登记，但此文件不见了：请从备份恢复"
        )
        for ref, path in letters_missing_files(desk, db)
    ]
    return found


def _shown(desk: Desk, path: Path) -> str:
    try:
        return str(path.relative_to(desk.root))
    except ValueError:
        return str(path)
