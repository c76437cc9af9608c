"""`dunning verify`: every stored original against its SHA-256, and database ↔ store both ways."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive import store
from dunning.desk import Desk


@dataclass(frozen=True)
class Problem:
    kind: str  # missing | altered | unrecorded | unregistered (a pack file no letter owns)
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
                Problem("missing", stored_path, doc_id, "the stored original is gone")
            )
        elif store.sha256_file(path) != sha256:
            report.problems.append(
                Problem("altered", stored_path, doc_id, "the content no longer matches its hash")
            )
    files = store.iter_stored(desk.store)
    report.store_files = len(files)
    for path in files:
        if path.resolve() not in recorded:
            rel = str(path.relative_to(desk.root))
            report.problems.append(
                Problem("unrecorded", rel, None, "a stored file no document refers to")
            )
    report.problems.extend(_unregistered_pack_files(desk, db))
    return report


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
            "a letter file no registered letter owns (an interrupted pack): not a valid"
            " letter; `dunning pack` removes it",
        )
        for path in unregistered_pack_files(desk, db)
        if not any(path.resolve().is_relative_to(folder) for folder in cases)
    ]
    found += [
        Problem(
            "missing", _shown(desk, path), None, f"letter {ref} is registered but this file is gone"
        )
        for ref, path in letters_missing_files(desk, db)
    ]
    return found


def _shown(desk: Desk, path: Path) -> str:
    try:
        return str(path.relative_to(desk.root))
    except ValueError:
        return str(path)
