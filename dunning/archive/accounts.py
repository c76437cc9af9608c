"""Customers' accounts read from the archive: invoices, payments, aging, the customer record."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from dunning.errors import NotFoundError
from dunning.money import from_fen
from dunning.receivables import CustomerAging, Invoice, Payment, age, allocate


@dataclass(frozen=True)
class Customer:
    code: str
    name: str
    address: str | None
    contact: str | None
    phone: str | None
    credit_grade: str | None
    salesperson: str | None
    status: str


_CUSTOMER_COLUMNS = "code, name, address, contact, phone, credit_grade, salesperson, status"


def list_customers(db: sqlite_utils.Database) -> list[Customer]:
    rows = db.execute(f"SELECT {_CUSTOMER_COLUMNS} FROM customers ORDER BY code").fetchall()
    return [Customer(*row) for row in rows]


def get_customer(db: sqlite_utils.Database | sqlite3.Connection, code: str) -> Customer:
    """A customer by code, or by exact name (a code wins over another customer's name).

    Takes a connection too, so it works inside a caller's open write transaction.
    """
    row = db.execute(
        f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE code = ? OR name = ?"
        " ORDER BY code = ? DESC",
        [code, code, code],
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no customer {code!r}; see `dunning customers` for the codes.")
    return Customer(*row)


def load_invoices(db: sqlite_utils.Database, code: str | None = None) -> list[Invoice]:
    where, params = ("WHERE customer_code = ?", [code]) if code else ("", [])
    rows = db.execute(
        "SELECT invoice_no, customer_code, invoice_date, due_date, amount_fen, received_fen,"
        f" contract_no FROM invoices {where}",
        params,
    ).fetchall()
    return [
        Invoice(
            invoice_no=r[0],
            customer_code=r[1],
            invoice_date=dt.date.fromisoformat(r[2]),
            due_date=dt.date.fromisoformat(r[3]),
            amount=from_fen(r[4]),
            received=from_fen(r[5]),
            contract_no=r[6],
        )
        for r in rows
    ]


def load_payments(db: sqlite_utils.Database, code: str | None = None) -> list[Payment]:
    where, params = ("WHERE customer_code = ?", [code]) if code else ("", [])
    rows = db.execute(
        f"SELECT customer_code, paid_on, amount_fen, invoice_ref FROM payments {where}", params
    ).fetchall()
    return [Payment(r[0], dt.date.fromisoformat(r[1]), from_fen(r[2]), r[3]) for r in rows]


def ledger_by_customer(
    db: sqlite_utils.Database,
) -> tuple[dict[str, list[Invoice]], dict[str, list[Payment]]]:
    """All invoices and payments, grouped by customer code (one read of each table)."""
    invoices: dict[str, list[Invoice]] = defaultdict(list)
    payments: dict[str, list[Payment]] = defaultdict(list)
    for inv in load_invoices(db):
        invoices[inv.customer_code].append(inv)
    for pay in load_payments(db):
        payments[pay.customer_code].append(pay)
    return invoices, payments


def aging_report(
    db: sqlite_utils.Database,
    *,
    as_of: dt.date,
    edges: Sequence[int],
    codes: Sequence[str] | None = None,
) -> list[CustomerAging]:
    """Every customer's aging on `as_of` (or those in `codes`), by customer code."""
    invoices, payments = ledger_by_customer(db)
    wanted = set(codes) if codes is not None else None
    report = []
    for cust in list_customers(db):
        if wanted is not None and cust.code not in wanted:
            continue
        if not invoices[cust.code] and not payments[cust.code]:
            continue
        report.append(
            age(
                cust.code,
                cust.name,
                invoices[cust.code],
                payments[cust.code],
                as_of=as_of,
                edges=edges,
            )
        )
    return report


def aging_json(aging: CustomerAging) -> dict[str, Any]:
    """The SPEC §4 shape of one `aging --json` entry (amounts as strings)."""
    return {
        "customer": aging.customer,
        "name": aging.name,
        "balance": f"{aging.balance:.2f}",
        "overdue": f"{aging.overdue:.2f}",
        "credit": f"{aging.credit:.2f}",
        "buckets": {k: f"{v:.2f}" for k, v in aging.buckets.items()},
        "max_days_overdue": aging.max_days_overdue,
    }


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
    return {
        "customer": cust.code,
        "name": cust.name,
        "status": cust.status,
        "address": cust.address,
        "contact": cust.contact,
        "phone": cust.phone,
        "credit_grade": cust.credit_grade,
        "salesperson": cust.salesperson,
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
            }
            for inv in sorted(invoices, key=lambda i: (i.due_date, i.invoice_no))
        ],
        "payments": [
            {"date": p.paid_on.isoformat(), "amount": f"{p.amount:.2f}", "invoice": p.invoice_ref}
            for p in sorted(payments, key=lambda p: p.paid_on)
        ],
        "contracts": _contracts(db, cust.code),
        "letters": _letters(db, cust.code),
        "address_flags": _address_flags(db, cust.code),
        "log": _log(db, cust.code),
        "changes": _changes(db, cust.code),
    }


def _contracts(db: sqlite_utils.Database, code: str) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT contract_no, amount_fen, signed_on, document_id FROM contracts"
        " WHERE customer_code = ? ORDER BY contract_no",
        [code],
    ).fetchall()
    return [
        {
            "contract": r[0],
            "amount": f"{from_fen(r[1]):.2f}" if r[1] is not None else None,
            "signed_on": r[2],
            "document": r[3],
        }
        for r in rows
    ]


def _letters(db: sqlite_utils.Database, code: str) -> list[dict[str, Any]]:
    # Delivery state (sent, delivered, returned; channel, tracking, dates) is owned by
    # letters.delivery; its fields are added to each letter, none of the old ones removed.
    from dunning.letters.delivery import load_deliveries

    delivery = {d.ref: d.to_json() for d in load_deliveries(db, code)}
    rows = db.execute(
        "SELECT ref, level, level_name, issued_on, status, files, amount_fen, signed_document_id"
        " FROM letters WHERE customer_code = ? ORDER BY issued_on, ref",
        [code],
    ).fetchall()
    return [
        {
            "ref": r[0],
            "level": r[1],
            "level_name": r[2],
            "date": r[3],
            "status": r[4],
            "files": json.loads(r[5]),
            "amount": f"{from_fen(r[6]):.2f}",
            "signed_document": r[7],
            **delivery[r[0]],
        }
        for r in rows
    ]


def _address_flags(db: sqlite_utils.Database, code: str) -> list[dict[str, str]]:
    from dunning.letters.delivery import address_flags

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
