"""The records a clerk looks up: one customer (`dunning customer`) and one document
(`dunning show`), composed from the archive, the letter registry and the collection log.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive.accounts import get_customer, load_invoices, load_payments
from dunning.archive.contracts.meta import contracts_of
from dunning.archive.contracts.pages import page_states
from dunning.archive.einvoice.views import (
    einvoices_for_customer,
    einvoices_of_document,
    open_issues,
    tax_id_of,
)
from dunning.archive.snapshots import held_invoices, invoice_events
from dunning.archive.unmatched import unmatched_receipts
from dunning.errors import NotFoundError
from dunning.letters import registry
from dunning.letters.delivery import address_flags, letters_proven_by, load_deliveries
from dunning.money import from_fen
from dunning.receivables import age, allocate


def customer_record(
    db: sqlite_utils.Database, code: str, *, as_of: dt.date, edges: Sequence[int]
) -> dict[str, Any]:
    """Everything about one customer: the SPEC §4 shape of `customer CODE --json`."""
    cust = get_customer(db, code)
    # The record is a position on `as_of`: what is dated later is not part of it yet.
    invoices = [i for i in load_invoices(db, cust.code) if i.invoice_date <= as_of]
    payments = [p for p in load_payments(db, cust.code) if p.paid_on <= as_of]
    aging = age(cust.code, cust.name, invoices, payments, as_of=as_of, edges=edges)
    aged = {a.item.invoice.invoice_no: a for a in aging.items}
    # What each invoice has been paid: the ledger's received column plus allocated payments.
    allocated = {i.invoice.invoice_no: i for i in allocate(invoices, payments).items}
    einvoices = einvoices_for_customer(db, cust.code)
    shown = {e.invoice_no: e.to_json() for e in einvoices if e.invoice_no and not e.red}
    return {
        "customer": cust.code,
        "name": cust.name,
        "status": cust.status,
        "address": cust.address,
        "contact": cust.contact,
        "phone": cust.phone,
        "credit_grade": cust.credit_grade,
        "salesperson": cust.salesperson,
        "tax_id": tax_id_of(db, cust.code),
        "as_of": as_of.isoformat(),
        "balance": f"{aging.balance:.2f}",
        "overdue": f"{aging.overdue:.2f}",
        "credit": f"{aging.credit:.2f}",
        "max_days_overdue": aging.max_days_overdue,
        "buckets": {k: f"{v:.2f}" for k, v in aging.buckets.items()},
        "invoices": [
            {
                "invoice": inv.invoice_no,
                "contract": inv.contract_no,
                "date": inv.invoice_date.isoformat(),
                "due": inv.due_date.isoformat(),
                "amount": f"{inv.amount:.2f}",
                "received": f"{allocated[inv.invoice_no].paid:.2f}",
                "open": f"{allocated[inv.invoice_no].open_amount:.2f}",
                "days_overdue": aged[inv.invoice_no].days_overdue if inv.invoice_no in aged else 0,
                "einvoice": shown.get(inv.invoice_no),  # the e-invoice beside its invoice
            }
            for inv in sorted(invoices, key=lambda i: (i.due_date, i.invoice_no))
        ],
        "payments": [
            {"date": p.paid_on.isoformat(), "amount": f"{p.amount:.2f}", "invoice": p.invoice_ref}
            for p in sorted(payments, key=lambda p: p.paid_on)
        ],
        "contracts": _contracts(db, cust.code),
        "einvoices": [e.to_json() for e in einvoices],
        "einvoice_issues": open_issues(db, cust.code),
        "letters": _letters(db, cust.code),
        "address_flags": _address_flags(db, cust.code),
        "log": _log(db, cust.code),
        "changes": _changes(db, cust.code),
        # Invoices left out of the balance (vanished, voided, settled) and their history;
        # ledger payments with no customer that may be this one's (archive/snapshots.py).
        "held_invoices": [h.to_json() for h in held_invoices(db, customer=cust.code)],
        "invoice_events": [e.to_json() for e in invoice_events(db, customer=cust.code)],
        "unmatched_receipts": [r.to_json() for r in unmatched_receipts(db, customer=cust.code)],
    }


def _contracts(db: sqlite_utils.Database, code: str) -> list[dict[str, Any]]:
    return [
        {
            "contract": c.contract_no,
            "amount": f"{c.amount:.2f}" if c.amount is not None else None,
            "signed_on": c.signed_on.isoformat() if c.signed_on else None,
            "document": c.document,
        }
        for c in contracts_of(db, code)
    ]


def _letters(db: sqlite_utils.Database, code: str) -> list[dict[str, Any]]:
    # Delivery state (sent, delivered, returned; channel, tracking, dates) is owned by
    # letters.delivery; its fields are added to each letter, none of the old ones removed.
    delivery = {d.ref: d.to_json() for d in load_deliveries(db, code)}
    return [
        {
            "ref": x.ref,
            "level": x.level,
            "level_name": x.level_name,
            "date": x.issued_on.isoformat(),
            "status": x.status,
            "files": list(x.files),
            "amount": f"{from_fen(x.amount_fen):.2f}",
            "signed_document": x.signed_document,
            **delivery[x.ref],
        }
        for x in sorted(registry.letters(db, customer=code), key=lambda x: (x.issued_on, x.ref))
    ]


def _address_flags(db: sqlite_utils.Database, code: str) -> list[dict[str, str]]:
    return [flag.to_json() for flag in address_flags(db, code)]


def _changes(db: sqlite_utils.Database, code: str) -> list[dict[str, Any]]:
    """The customer's name and address as imports changed them, oldest first."""
    rows = db.execute(
        "SELECT c.changed_at, c.field, c.old, c.new, d.original_name, c.document_id"
        " FROM customer_changes c LEFT JOIN documents d ON d.id = c.document_id"
        " WHERE c.customer_code = ? ORDER BY c.id",
        [code],
    ).fetchall()
    return [
        {"at": r[0], "field": r[1], "old": r[2], "new": r[3], "file": r[4], "document": r[5]}
        for r in rows
    ]


def _log(db: sqlite_utils.Database, code: str) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT logged_at, kind, note, by, promise_amount_fen, promise_date, letter_ref"
        " FROM collection_log WHERE customer_code = ? ORDER BY logged_at, id",
        [code],
    ).fetchall()
    return [
        {
            "at": r[0],
            "kind": r[1],
            "note": r[2],
            "by": r[3],
            "promise_amount": f"{from_fen(r[4]):.2f}" if r[4] is not None else None,
            "promise_date": r[5],
            "letter": r[6],
        }
        for r in rows
    ]


_COLUMNS = (
    "id, sha256, kind, original_name, source_path, stored_path, size, mime, title,"
    " customer_code, contract_no, needs_ocr, pages, meta, ingested_at"
)


def document_record(db: sqlite_utils.Database, root: Path, document_id: int) -> dict[str, Any]:
    """Everything about one archived document: the shape of `show ID --json`."""
    row = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE id = ?", [document_id]).fetchone()
    if row is None:
        raise NotFoundError(f"没有文档 {document_id}：用 `dunning search` 查看文档编号。")
    names = [c.strip() for c in _COLUMNS.split(",")]
    record: dict[str, Any] = dict(zip(names, row, strict=True))
    record["document"] = record.pop("id")
    record["needs_ocr"] = bool(record["needs_ocr"])
    record["meta"] = json.loads(record["meta"] or "{}")
    record["stored_file"] = str(root / record["stored_path"])
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
        "SELECT kind, rows, inserted, updated, imported_at, rows_read, rows_imported,"
        " rows_skipped, rows_bad FROM ledger_imports WHERE document_id = ?",
        [document_id],
    ).fetchall()
    record["ledger_imports"] = [
        {
            **dict(zip(("kind", "rows", "inserted", "updated", "imported_at"), r[:5], strict=True)),
            "row_counts": {
                "read": r[5],
                "imported": r[6],
                "skipped": json.loads(r[7]) if r[7] else {},
                "bad": r[8],
            },
        }
        for r in imports
    ]
    # Per page: state in the OCR queue and the extractor or engine that produced its text.
    record["page_states"] = page_states(db.conn, document_id)
    record["signs_letters"] = registry.signed_by(db, document_id)
    record["proves_delivery_of"] = letters_proven_by(db, document_id)
    record["einvoices"] = [e.to_json() for e in einvoices_of_document(db, document_id)]
    return record
