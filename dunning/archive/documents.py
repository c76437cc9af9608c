"""One archived document's record, as `dunning show` prints it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive.pages import page_states
from dunning.desk import Desk
from dunning.errors import NotFoundError

_COLUMNS = (
    "id, sha256, kind, original_name, source_path, stored_path, size, mime, title,"
    " customer_code, contract_no, needs_ocr, pages, meta, ingested_at"
)


def document_record(db: sqlite_utils.Database, desk: Desk, document_id: int) -> dict[str, Any]:
    row = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE id = ?", [document_id]).fetchone()
    if row is None:
        raise NotFoundError(f"no document {document_id}; `dunning search` shows document numbers.")
    names = [c.strip() for c in _COLUMNS.split(",")]
    record: dict[str, Any] = dict(zip(names, row, strict=True))
    record["document"] = record.pop("id")
    record["needs_ocr"] = bool(record["needs_ocr"])
    record["meta"] = json.loads(record["meta"] or "{}")
    record["stored_file"] = str(desk.root / record["stored_path"])
    customer = db.execute(
        "SELECT name FROM customers WHERE code = ?", [record["customer_code"]]
    ).fetchone()
    record["customer_name"] = customer[0] if customer else None
    text = db.execute(
        "SELECT text FROM document_text WHERE document_id = ?", [document_id]
    ).fetchone()
    record["text_chars"] = len(text[0]) if text else 0
    record["text_preview"] = (text[0][:300] if text else "").strip()
    imports = db.execute(
        "SELECT kind, rows, inserted, updated, imported_at FROM ledger_imports"
        " WHERE document_id = ?",
        [document_id],
    ).fetchall()
    record["ledger_imports"] = [
        dict(zip(("kind", "rows", "inserted", "updated", "imported_at"), r, strict=True))
        for r in imports
    ]
    # Per page: state in the OCR queue and the extractor or engine that produced its text.
    record["page_states"] = page_states(db.conn, document_id)
    record["signs_letters"] = [
        r[0]
        for r in db.execute(
            "SELECT ref FROM letters WHERE signed_document_id = ? ORDER BY ref", [document_id]
        )
    ]
    return record


def stored_original(db: sqlite_utils.Database, desk: Desk, document_id: int) -> Path:
    row = db.execute("SELECT stored_path FROM documents WHERE id = ?", [document_id]).fetchone()
    if row is None:
        raise NotFoundError(f"no document {document_id}; `dunning search` shows document numbers.")
    path: Path = desk.root / str(row[0])
    if not path.is_file():
        raise NotFoundError(
            f"document {document_id}'s original is missing from the store; run `dunning verify`."
        )
    return path
