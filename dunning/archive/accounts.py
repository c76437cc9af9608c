"""Customers' accounts read from the archive: invoices, payments, aging, the customer record."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from dunning.archive.einvoice.effects import credit_notes, voided_invoices
from dunning.errors import NotFoundError
from dunning.money import from_fen
from dunning.receivables import CustomerAging, Invoice, Payment, age


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
    """A customer by code, or by exact name (a code wins over another customer's name); then by
    code in any case, then by any part of the name when only one customer matches.

    Takes a connection too, so it works inside a caller's open write transaction.
    """
    row = db.execute(
        f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE code = ? OR name = ?"
        " ORDER BY code = ? DESC",
        [code, code, code],
    ).fetchone()
    if row is not None:
        return Customer(*row)
    wanted = code.strip()
    if wanted:
        rows = db.execute(
            f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE upper(code) = upper(?)", [wanted]
        ).fetchall()
        if len(rows) != 1:
            rows = db.execute(
                f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE instr(name, ?) > 0"
                " ORDER BY code LIMIT 6",
                [wanted],
            ).fetchall()
        if len(rows) == 1:
            return Customer(*rows[0])
        if rows:
            shown = "、".join(f"{r[0]} {r[1]}" for r in rows[:5])
            more = " 等" if len(rows) > 5 else ""
            raise NotFoundError(
                f"“{wanted}”对应多个客户：{shown}{more}。您要找的是哪一个？请给出客户编号。"
            )
    raise NotFoundError(f"没有客户“{code}”：`dunning customers` 列出所有客户编号。")


# Invoices a later export no longer lists (vanished), a clerk voided, or an open-items export
# settled are held out of every balance (archive/snapshots.py); `kept` ones count.
COUNTED = "(state IS NULL OR state = 'kept')"


def load_invoices(db: sqlite_utils.Database, code: str | None = None) -> list[Invoice]:
    """The invoices that count towards balances (held ones: `snapshots.held_invoices`)."""
    where, params = ("AND customer_code = ?", [code]) if code else ("", [])
    rows = db.execute(
        "SELECT invoice_no, customer_code, invoice_date, due_date, amount_fen, received_fen,"
        f" contract_no FROM invoices WHERE {COUNTED} {where}",
        params,
    ).fetchall()
    void = voided_invoices(db)  # 作废 e-invoices are not owed (SPEC §12)
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
        if r[0] not in void
    ]


def load_payments(db: sqlite_utils.Database, code: str | None = None) -> list[Payment]:
    where, params = ("WHERE customer_code = ?", [code]) if code else ("", [])
    rows = db.execute(
        f"SELECT customer_code, paid_on, amount_fen, invoice_ref FROM payments {where}", params
    ).fetchall()
    payments = [Payment(r[0], dt.date.fromisoformat(r[1]), from_fen(r[2]), r[3]) for r in rows]
    return payments + credit_notes(db, code)  # 红字 e-invoices credit what they name


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
    ledger: tuple[dict[str, list[Invoice]], dict[str, list[Payment]]] | None = None,
    idle: bool = False,
) -> list[CustomerAging]:
    """Every customer's aging on `as_of` (or those in `codes`), by customer code.

    `ledger`: `ledger_by_customer(db)` when the caller has read it already; `idle`: include
    customers with neither invoices nor payments.
    """
    invoices, payments = ledger if ledger is not None else ledger_by_customer(db)
    wanted = set(codes) if codes is not None else None
    report = []
    for cust in list_customers(db):
        if wanted is not None and cust.code not in wanted:
            continue
        if not idle and not invoices[cust.code] and not payments[cust.code]:
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


def customers_json(
    db: sqlite_utils.Database,
    *,
    as_of: dt.date,
    edges: Sequence[int],
    report: Sequence[CustomerAging] | None = None,
) -> list[dict[str, Any]]:
    """The shape of `customers --json`: every customer with status and position on `as_of`.

    `report`: that day's `aging_report`, when the caller already has it.
    """
    if report is None:
        report = aging_report(db, as_of=as_of, edges=edges)
    balances = {a.customer: a for a in report}
    rows = []
    for c in list_customers(db):
        aging = balances.get(c.code)
        rows.append(
            {
                "customer": c.code,
                "name": c.name,
                "status": c.status,
                "salesperson": c.salesperson,
                "credit_grade": c.credit_grade,
                "balance": f"{aging.balance:.2f}" if aging else "0.00",
                "overdue": f"{aging.overdue:.2f}" if aging else "0.00",
                "max_days_overdue": aging.max_days_overdue if aging else 0,
            }
        )
    return rows
