"""Table `document_pages`: one row per page of every archived PDF or scan (migration m008).

Each row holds the page's text, the extractor or OCR engine that produced it (pypdf,
pdftotext, rapidocr, tesseract) and its state in the OCR queue (waiting, done, failed).
This module writes and reads the rows; `ocr_queue` reads the waiting pages.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dunning.archive.contracts.extract import ExtractedText


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def record_pages(conn: sqlite3.Connection, document_id: int, text: ExtractedText) -> None:
    """The page rows of a newly archived document; pages left for OCR are `waiting`."""
    wanted = set(text.ocr_wanted)
    stamp = now()
    conn.executemany(
        "INSERT INTO document_pages (document_id, page, state, source, text, read_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                document_id,
                index + 1,
                "waiting" if index in wanted else "done",
                (text.sources[index] if index < len(text.sources) else "") or None,
                page,
                None if index in wanted else stamp,
            )
            for index, page in enumerate(text.pages)
        ],
    )


@dataclass(frozen=True)
class QueueCounts:
    documents: int  # documents with a page waiting
    pages: int  # pages waiting
    failed: int  # pages OCR gave up on


def queue_counts(conn: sqlite3.Connection) -> QueueCounts:
    row = conn.execute(
        "SELECT count(DISTINCT CASE WHEN state = 'waiting' THEN document_id END),"
        " count(CASE WHEN state = 'waiting' THEN 1 END),"
        " count(CASE WHEN state = 'failed' THEN 1 END)"
        " FROM document_pages WHERE state != 'done'"
    ).fetchone()
    return QueueCounts(int(row[0]), int(row[1]), int(row[2]))


def page_states(conn: sqlite3.Connection, document_id: int) -> list[dict[str, Any]]:
    """Each page of a document: number, state, extractor or engine, characters, error."""
    rows = conn.execute(
        "SELECT page, state, source, length(text), attempts, error FROM document_pages"
        " WHERE document_id = ? ORDER BY page",
        [document_id],
    )
    keys = ("page", "state", "source", "chars", "attempts", "error")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def retry_failed(conn: sqlite3.Connection) -> int:
    """Put pages OCR gave up on back in the queue; returns how many."""
    cur = conn.execute(
        "UPDATE document_pages SET state = 'waiting', attempts = 0, claimed_by = NULL"
        " WHERE state = 'failed'"
    )
    conn.execute(
        "UPDATE documents SET needs_ocr = 1 WHERE id IN"
        " (SELECT document_id FROM document_pages WHERE state = 'waiting')"
    )
    return cur.rowcount
