"""`dunning init --rebuild`: a new archive from the store when archive.db is lost and there is
no backup. What the store holds (ledgers, contracts, signed receipts, delivery evidence) is
ingested again, oldest first; what only the database held (the collection log, statuses,
the letters registry and delivery records, accounts) cannot come back and is named.

The old store and out/ are moved into `failed/rebuild-<stamp>/` first and never deleted: a
file that goes in again is removed from there (its copy is in the new store, same hash);
whatever could not be rebuilt stays there, named in the report.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dunning.archive import store
from dunning.archive.db import open_archive
from dunning.desk import Desk
from dunning.ingest.pipeline import Pipeline
from dunning.workflow.backup import make_room

LOST = (
    "催收记录（电话、上门、承诺付款）",
    "客户状态（有争议、诉讼中、不催收）",
    "函件登记和寄送记录（寄出、妥投、签回）",
    "网页工作台账户",
)


@dataclass
class RebuildResult:
    desk: Path
    kept_in: Path
    archived: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (stored name, why)
    set_aside: str | None = None
    letters_moved: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "desk": str(self.desk),
            "kept_in": str(self.kept_in),
            "archived": self.archived,
            "failed": [{"file": f, "reason": r} for f, r in self.failed],
            "set_aside": self.set_aside,
            "letters_moved": self.letters_moved,
            "not_rebuilt": list(LOST),
        }


def rebuild_desk(desk: Desk, *, now: dt.datetime | None = None) -> RebuildResult:
    """Re-ingest the store into a new archive; the damaged one is set aside, never deleted."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%dT%H%M%S")
    set_aside = make_room(desk, now or dt.datetime.now(), what="a rebuild")
    kept = desk.failed / f"rebuild-{stamp}"
    kept.mkdir(parents=True)
    result = RebuildResult(desk.root, kept, set_aside=set_aside)
    if desk.store.is_dir():
        os.replace(desk.store, kept / "store")
    desk.store.mkdir()
    if desk.out.is_dir() and any(desk.out.iterdir()):
        # Letters no registry knows any more: kept for the clerk, out of `verify`'s way.
        result.letters_moved = sum(1 for p in desk.out.rglob("*") if p.is_file())
        os.replace(desk.out, kept / "out")
        desk.out.mkdir()
    open_archive(desk.db_path, create=True).close()
    originals = store.iter_stored(kept / "store") if (kept / "store").is_dir() else []
    # The store's files carry the time they were archived: the ledgers' snapshots go in again
    # in the order they first came.
    originals.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
    with Pipeline(desk) as pipeline:
        for path in originals:
            outcome = pipeline.ingest_file(path)
            if outcome.status in ("archived", "duplicate"):
                result.archived.append(path.name)
                path.chmod(0o644)
                path.unlink()
            else:
                result.failed.append((path.name, outcome.reason or "未归档"))
    _remove_empty(kept)
    return result


def _remove_empty(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if folder.is_dir() and not any(folder.iterdir()):
        shutil.rmtree(folder)
