"""E-invoices read back for people: a customer's e-invoices (for its page and the case file's
evidence list), its tax id, and the issues still open."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dunning.archive.einvoice.effects import Executes, has_einvoices
from dunning.money import from_fen


@dataclass(frozen=True)
class EInvoiceRecord:
    key: str
    number: str
    code: str | None
    issued_on: dt.date
    amount: Decimal  # 价税合计; negative for a 红字 invoice
    status: str  # normal | void | red_flushed | partly_red
    red: bool
    kind_title: str | None
    buyer_name: str | None
    buyer_tax_id: str | None
    invoice_no: str | None  # the ledger invoice it is
    target_invoice_no: str | None  # for a 红字 invoice: the ledger invoice it credits
    original_key: str | None
    document: int | None  # the invoice file (XML/OFD/PDF), else the export that lists it
    file_document: int | None  # the invoice file only

    def to_json(self) -> dict[str, Any]:
        return {
            "einvoice": self.key,
            "number": self.number,
            "code": self.code,
            "date": self.issued_on.isoformat(),
            "amount": f"{self.amount:.2f}",
            "status": self.status,
            "red": self.red,
            "kind": self.kind_title,
            "buyer": self.buyer_name,
            "buyer_tax_id": self.buyer_tax_id,
            "invoice": self.invoice_no,
            "credits_invoice": self.target_invoice_no,
            "original": self.original_key,
            "document": self.document,
            "file_document": self.file_document,
        }


_SQL = (
    "SELECT key, number, code, issued_on, total_fen, status, red, kind_title, buyer_name,"
    " buyer_tax_id, invoice_no, target_invoice_no, original_key,"
    " COALESCE(document_id, list_document_id), document_id FROM einvoices"
)


def _record(r: tuple[Any, ...]) -> EInvoiceRecord:
    return EInvoiceRecord(
        r[0], r[1], r[2], dt.date.fromisoformat(r[3]), from_fen(r[4]), r[5], bool(r[6]),
        r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
    )  # fmt: skip


def einvoices_for_customer(db: Executes, code: str) -> list[EInvoiceRecord]:
    """A customer's e-invoices, oldest first: document id, number, date, amount, status."""
    if not has_einvoices(db):
        return []
    rows = db.execute(_SQL + " WHERE customer_code = ? ORDER BY issued_on, key", [code]).fetchall()
    return [_record(r) for r in rows]


def einvoices_of_document(db: Executes, document_id: int) -> list[EInvoiceRecord]:
    """The e-invoices an archived file holds (one), or the export lists (many)."""
    if not has_einvoices(db):
        return []
    rows = db.execute(
        _SQL + " WHERE document_id = ? OR list_document_id = ? ORDER BY list_row, key",
        [document_id, document_id],
    ).fetchall()
    return [_record(r) for r in rows]


def all_einvoices(db: Executes, *, unlinked: bool = False) -> list[EInvoiceRecord]:
    """Every e-invoice (or those tied to no ledger invoice), oldest first."""
    if not has_einvoices(db):
        return []
    where = " WHERE invoice_no IS NULL AND target_invoice_no IS NULL" if unlinked else ""
    return [_record(r) for r in db.execute(_SQL + where + " ORDER BY issued_on, key", [])]


def tax_id_of(db: Executes, code: str) -> str | None:
    if not has_einvoices(db):
        return None
    row = db.execute("SELECT tax_id FROM customers WHERE code = ?", [code]).fetchone()
    return row[0] if row else None


def open_issues(db: Executes, code: str | None = None) -> list[dict[str, Any]]:
    """Disagreements between e-invoices and the ledger, as `relink` last found them."""
    if not has_einvoices(db):
        return []
    where, params = (" WHERE customer_code = ?", [code]) if code else ("", [])
    rows = db.execute(
        "SELECT einvoice_key, kind, customer_code, invoice_no, detail, document_id, found_at"
        f" FROM einvoice_issues{where} ORDER BY found_at, id",
        list(params),
    ).fetchall()
    keys = ("einvoice", "kind", "customer", "invoice", "detail", "document", "found_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]
