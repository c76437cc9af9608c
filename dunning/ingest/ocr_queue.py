"""The OCR queue: reading the `waiting` rows of `document_pages` (see `pages`).

Ingest records each page with the text its extractor produced (pypdf, pdftotext) and leaves
the pages without usable text `waiting`. `OcrReader` reads waiting pages one at a time in a
worker process with a time limit per page, and commits each page as soon as it is read: the
document's text and search index are rebuilt from its pages in that same transaction, so a
search finds page 1 while page 30 still waits. A page is claimed (its attempt counted) in
its own transaction before it is read, so a process killed at any moment leaves it waiting
and the next run starts there; a page that kills its reader `MAX_ATTEMPTS` times, or runs
out of time, is `failed` with the reason, and `dunning ocr --all` tries it again.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from dunning.archive.cjk import normalize_text
from dunning.archive.contracts import ocr_engines
from dunning.archive.contracts.extract import better_text, extract_text
from dunning.archive.contracts.pages import QueueCounts, now, queue_counts, record_pages
from dunning.archive.db import open_archive, write_transaction
from dunning.archive.search import index as search_index
from dunning.config import Config
from dunning.desk import Desk
from dunning.errors import DunningError, IngestError
from dunning.ingest.ocr_documents import finish_document
from dunning.ingest.pipeline import limits_for
from dunning.workers import WorkerPool, WorkerTimeout

MAX_ATTEMPTS = 3
_CLAIM_WINDOW = 20  # waiting pages looked at per claim (some may be another reader's)


class NoEngineError(DunningError):
    """No OCR engine is installed for the desk's `[ocr] engine` setting."""


@dataclass(frozen=True)
class PageOutcome:
    """What reading one page did."""

    document: int
    page: int
    state: str  # done | failed
    engine: str
    chars: int = 0
    error: str | None = None
    document_done: bool = False  # the document has no page waiting any more


@dataclass(frozen=True)
class _Claim:
    document: int
    page: int
    job: ocr_engines.PageJob


class OcrReader:
    """Reads a desk's waiting pages, one at a time, in a worker process; `close` when done."""

    def __init__(self, desk: Desk, engine: str, *, db: sqlite_utils.Database | None = None):
        self.desk = desk
        self.config: Config = desk.config
        self.engine = engine
        self.db = db or open_archive(desk.db_path)
        self._own_db = db is None
        self._pool: WorkerPool | None = None

    @classmethod
    def for_desk(cls, desk: Desk) -> OcrReader:
        """A reader with the engine `[ocr] engine` names; NoEngineError when none is there."""
        engine = ocr_engines.choose_engine(desk.config.ocr_engine, desk.config.ocr_languages)
        if engine is None:
            raise NoEngineError(ocr_engines.missing_engine_message(desk.config.ocr_engine))
        return cls(desk, engine)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._own_db:
            self.db.close()

    def __enter__(self) -> OcrReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def counts(self) -> QueueCounts:
        return queue_counts(self.db.conn)

    def read_next(self) -> PageOutcome | None:
        """Read the next waiting page and commit it; None when nothing is waiting."""
        claim = self._claim()
        if claim is None:
            return None
        if self._pool is None:
            self._pool = WorkerPool(
                workers=1,
                timeout_s=self.config.ocr_page_timeout_s,
                preload=("dunning.archive.contracts.ocr_engines",),
            )
        ((_, result),) = list(self._pool.run(ocr_engines.read_page, [claim.job]))
        return self._settle(claim, result)

    def drain(
        self,
        *,
        stop: Callable[[], bool] | None = None,
        progress: Callable[[PageOutcome], None] | None = None,
    ) -> list[PageOutcome]:
        """Read waiting pages until none is left (or `stop()` says so between two pages)."""
        outcomes: list[PageOutcome] = []
        while not (stop and stop()):
            outcome = self.read_next()
            if outcome is None:
                break
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        return outcomes

    def _claim(self) -> _Claim | None:
        # A plain read first: an idle watcher asks often, and must not take the write lock.
        if not self.db.execute(
            "SELECT 1 FROM document_pages WHERE state = 'waiting' LIMIT 1"
        ).fetchone():
            return None
        with write_transaction(self.db) as conn:
            rows = conn.execute(
                "SELECT p.document_id, p.page, p.attempts, p.claimed_by, d.stored_path, d.mime"
                " FROM document_pages p JOIN documents d ON d.id = p.document_id"
                " WHERE p.state = 'waiting' ORDER BY p.document_id, p.page LIMIT ?",
                [_CLAIM_WINDOW],
            ).fetchall()
            for doc, page, attempts, claimed_by, stored, mime in rows:
                if claimed_by and claimed_by != os.getpid() and _alive(claimed_by):
                    continue  # another reader (the watcher, a cron run) has it in hand
                if attempts >= MAX_ATTEMPTS:
                    why = f"读取这一页已使识别程序中断 {attempts} 次"
                    self._fail_page(conn, doc, page, why)
                    continue
                conn.execute(
                    "UPDATE document_pages SET attempts = attempts + 1, claimed_by = ?,"
                    " claimed_at = ? WHERE document_id = ? AND page = ?",
                    [os.getpid(), now(), doc, page],
                )
                return _Claim(doc, page, self._job(stored, page, mime))
        return None

    def _job(self, stored: str, page: int, mime: str | None) -> ocr_engines.PageJob:
        return ocr_engines.PageJob(
            str(self.desk.root / stored),
            page - 1,
            mime == "pdf",
            self.engine,
            languages=self.config.ocr_languages,
            timeout_s=self.config.ocr_page_timeout_s,
        )

    def _settle(self, claim: _Claim, result: object) -> PageOutcome:
        with write_transaction(self.db) as conn:
            if isinstance(result, ocr_engines.PageRead):
                chars = self._done_page(conn, claim, result)
                outcome = PageOutcome(claim.document, claim.page, "done", self.engine, chars)
            else:
                why = self._reason(result)
                self._fail_page(conn, claim.document, claim.page, why)
                outcome = PageOutcome(claim.document, claim.page, "failed", self.engine, error=why)
            finished = refresh_document(conn, claim.document, self.config)
        return PageOutcome(**{**outcome.__dict__, "document_done": finished})

    def _done_page(self, conn: sqlite3.Connection, claim: _Claim, read: Any) -> int:
        layer, source = conn.execute(
            "SELECT text, source FROM document_pages WHERE document_id = ? AND page = ?",
            [claim.document, claim.page],
        ).fetchone()
        ocred = normalize_text(read.text)
        best = better_text(layer, ocred)
        conn.execute(
            "UPDATE document_pages SET state = 'done', text = ?, source = ?, error = NULL,"
            " claimed_by = NULL, read_at = ? WHERE document_id = ? AND page = ?",
            [
                best,
                self.engine if best is ocred else source,
                now(),
                claim.document,
                claim.page,
            ],
        )
        return len(best)

    def _fail_page(self, conn: sqlite3.Connection, doc: int, page: int, why: str) -> None:
        conn.execute(
            "UPDATE document_pages SET state = 'failed', error = ?, claimed_by = NULL,"
            " read_at = ? WHERE document_id = ? AND page = ?",
            [why, now(), doc, page],
        )

    def _reason(self, error: object) -> str:
        if isinstance(error, WorkerTimeout):
            return (
                f"这一页的 OCR 超过 {self.config.ocr_page_timeout_s:g} 秒，已停止"
                "（`[ocr] page_timeout_s`）；`dunning ocr --all` 会再试一次"
            )
        return f"OCR 识别失败：{error}"


def queue_older_scans(desk: Desk, db: sqlite_utils.Database) -> int:
    """Give documents archived before the queue existed (flagged `needs_ocr`, no page rows)
    their pages, read from the stored original; returns how many documents were queued."""
    rows = db.execute(
        "SELECT id, stored_path FROM documents d WHERE needs_ocr = 1 AND NOT EXISTS"
        " (SELECT 1 FROM document_pages p WHERE p.document_id = d.id)"
    ).fetchall()
    limits = replace(limits_for(desk.config), ocr=False)
    queued = 0
    for doc, stored in rows:
        try:
            text = extract_text(desk.root / stored, limits)
        except (IngestError, OSError):
            continue  # `dunning verify` reports a missing or damaged original
        with write_transaction(db) as conn:
            record_pages(conn, doc, text)
            refresh_document(conn, doc, desk.config)
        queued += 1
    return queued


def refresh_document(conn: sqlite3.Connection, document_id: int, config: Config) -> bool:
    """Rebuild a document's text, flags and search entry from its pages; True once no page
    is waiting (then the document is finished: contract details, receipt check)."""
    rows = conn.execute(
        "SELECT text, state, source FROM document_pages WHERE document_id = ? ORDER BY page",
        [document_id],
    ).fetchall()
    text = "\n".join(row[0] for row in rows)
    waiting = sum(row[1] == "waiting" for row in rows)
    failed = sum(row[1] == "failed" for row in rows)
    ocr_pages = sum(row[2] in ocr_engines.ENGINES for row in rows)
    conn.execute(
        "INSERT INTO document_text (document_id, text) VALUES (?, ?)"
        " ON CONFLICT(document_id) DO UPDATE SET text = excluded.text",
        [document_id, text],
    )
    meta_raw = conn.execute("SELECT meta FROM documents WHERE id = ?", [document_id]).fetchone()
    meta = json.loads(meta_raw[0] or "{}") if meta_raw else {}
    meta["ocr_pages"] = ocr_pages
    conn.execute(
        "UPDATE documents SET needs_ocr = ?, meta = ? WHERE id = ?",
        [int(bool(waiting or failed)), json.dumps(meta, ensure_ascii=False), document_id],
    )
    if not waiting:
        finish_document(conn, document_id, text, config)
    search_index.index_document(conn, document_id)
    return not waiting


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
