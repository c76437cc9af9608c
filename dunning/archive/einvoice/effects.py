"""What e-invoices change in a customer's account, read by `archive.accounts`.

- A 作废 (void) invoice is not owed: its ledger row is left out of the balance (and flagged
  as an issue by `registry.relink`).
- A 红字 invoice is a credit note of the invoice it names, applied to that invoice from its
  date, unless the ledger already holds it (as a row or a credit note of its own number).
- A blue invoice the export says is 红冲 in full is credited whatever its 红字 invoices have
  not credited yet (an export that lists the status but not the red invoice itself).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Protocol

from dunning.money import from_fen
from dunning.receivables import Payment


class Executes(Protocol):
    def execute(self, sql: str, parameters: list[object] = ..., /) -> sqlite3.Cursor: ...


def has_einvoices(db: Executes) -> bool:
    # A read-only desk opens an old archive without migrating it: no e-invoices there.
    return (
        db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'einvoices'", []
        ).fetchone()
        is not None
    )


def voided_invoices(db: Executes) -> set[str]:
    """Ledger invoice numbers whose e-invoice is 作废."""
    if not has_einvoices(db):
        return set()
    rows = db.execute(
        "SELECT invoice_no FROM einvoices WHERE status = 'void' AND red = 0"
        " AND invoice_no IS NOT NULL",
        [],
    ).fetchall()
    return {r[0] for r in rows}


# The ledger already holds a credit of `fen` for the customer when it has a credit note of
# that number, or a negative row or credit note of exactly that amount: then it is not
# counted again.
_HELD = """
  AND NOT EXISTS (
    SELECT 1 FROM payments p
    WHERE p.customer_code = i.customer_code
      AND (p.payment_no IN ({numbers}) OR (p.kind = 'credit_note' AND p.amount_fen = {fen}))
  )
  AND NOT EXISTS (
    SELECT 1 FROM invoices n WHERE n.customer_code = i.customer_code AND n.amount_fen = -({fen})
  )
"""
_RED_SQL = """
SELECT i.customer_code, r.issued_on, -r.total_fen, r.target_invoice_no
FROM einvoices r JOIN invoices i ON i.invoice_no = r.target_invoice_no
WHERE r.red = 1 AND r.status != 'void' AND r.invoice_no IS NULL AND r.total_fen < 0
""" + _HELD.format(numbers="r.number, r.key", fen="-r.total_fen")
_FLUSHED_SQL = """
SELECT i.customer_code, b.issued_on, b.total_fen - COALESCE((
    SELECT sum(-r.total_fen) FROM einvoices r
    WHERE r.red = 1 AND r.status != 'void' AND r.target_invoice_no = b.invoice_no
  ), 0), b.invoice_no
FROM einvoices b JOIN invoices i ON i.invoice_no = b.invoice_no
WHERE b.red = 0 AND b.status = 'red_flushed'
""" + _HELD.format(numbers="b.number, b.key", fen="b.total_fen")


def credit_notes(db: Executes, code: str | None = None) -> list[Payment]:
    """Credits the e-invoices give, as payments naming the invoice they reduce."""
    if not has_einvoices(db):
        return []
    where, params = (" AND i.customer_code = ?", [code]) if code else ("", [])
    credits = []
    for sql in (_RED_SQL, _FLUSHED_SQL):
        for customer, day, fen, invoice_no in db.execute(sql + where, list(params)).fetchall():
            if fen > 0:
                credits.append(
                    Payment(customer, dt.date.fromisoformat(day), from_fen(fen), invoice_no)
                )
    return credits
