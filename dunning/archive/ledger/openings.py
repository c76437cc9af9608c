"""Opening balances of detail ledgers imported period after period, so nothing counts twice.

A detail ledger's 期初余额 sums up everything before its period. When the archive already
holds the earlier periods (imported from earlier detail ledgers), the opening is left out if it
agrees with them, and is a bad row if it does not; when a later period was imported first, its
opening is removed once the months before it arrive and agree with it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from dunning.archive.ledger.rows import OPENING_PREFIX, Ledger
from dunning.errors import RowProblem
from dunning.money import from_fen, to_fen

Resolve = Callable[[str | None, str | None], str]


@dataclass(frozen=True)
class Opening:
    row: int
    customer: str
    day: dt.date
    fen: int  # signed: a debit (owed) balance is positive


def openings_of(ledger: Ledger, resolve: Resolve) -> list[Opening]:
    found = [
        Opening(i.row, resolve(i.customer_code, i.customer_name), i.invoice_date, to_fen(i.amount))
        for i in ledger.invoices
        if i.invoice_no.startswith(OPENING_PREFIX)
    ]
    found += [
        Opening(p.row, resolve(p.customer_code, p.customer_name), p.paid_on, -to_fen(p.amount))
        for p in ledger.payments
        if p.kind == "opening"
    ]
    return found


def _held_before(conn: sqlite3.Connection, customer: str, day: dt.date) -> tuple[int, int]:
    """(items, net fen) the archive holds for `customer` from detail ledgers before `day`."""
    inv = conn.execute(
        "SELECT count(*), COALESCE(sum(i.amount_fen - i.received_fen), 0) FROM invoices i"
        " JOIN ledger_imports l ON l.id = i.import_id"
        " WHERE l.kind = 'detail' AND i.customer_code = ? AND i.invoice_date < ?"
        # Invoices held out of the balances (vanished, voided, settled) are not in the ERP's
        # later opening either (archive/snapshots.py).
        " AND (i.state IS NULL OR i.state = 'kept')",
        [customer, day.isoformat()],
    ).fetchone()
    pay = conn.execute(
        "SELECT count(*), COALESCE(sum(p.amount_fen), 0) FROM payments p"
        " JOIN ledger_imports l ON l.id = p.import_id"
        " WHERE l.kind = 'detail' AND p.customer_code = ? AND p.paid_on < ?",
        [customer, day.isoformat()],
    ).fetchone()
    return int(inv[0]) + int(pay[0]), int(inv[1]) - int(pay[1])


def already_held(
    conn: sqlite3.Connection, openings: list[Opening], header: str
) -> tuple[set[int], list[RowProblem]]:
    """Openings the archive's earlier periods already account for (their rows, to leave out),
    and openings that disagree with them (bad rows)."""
    leave_out: set[int] = set()
    problems: list[RowProblem] = []
    for opening in openings:
        items, net = _held_before(conn, opening.customer, opening.day)
        if items == 0:
            continue
        if net == opening.fen:
            leave_out.add(opening.row)
            continue
        why = (
            f"{opening.customer} 在 {opening.day} 的期初余额 {from_fen(opening.fen)} 与存档中"
            f"此前明细台账得出的 {from_fen(net)} 不符：请导入缺少的期间或更正台账"
        )
        problems.append(RowProblem(opening.row, header, str(from_fen(opening.fen)), why))
    return leave_out, problems


def superseded_later(
    conn: sqlite3.Connection, ledger: Ledger, resolve: Resolve, import_id: int, header: str
) -> list[RowProblem]:
    """After writing: a later period's opening imported earlier is removed when this file's
    months lead up to it and agree with it (they now say in detail what it summed up)."""
    last: dict[str, tuple[dt.date, int]] = {}
    for inv in ledger.invoices:
        code = resolve(inv.customer_code, inv.customer_name)
        if inv.invoice_date >= last.get(code, (dt.date.min, 0))[0]:
            last[code] = (inv.invoice_date, inv.row)
    for pay in ledger.payments:
        code = resolve(pay.customer_code, pay.customer_name)
        if pay.paid_on >= last.get(code, (dt.date.min, 0))[0]:
            last[code] = (pay.paid_on, pay.row)
    problems: list[RowProblem] = []
    for code, (until, row) in last.items():
        later = _next_opening(conn, code, until, import_id)
        if later is None:
            continue
        table, key, day, fen = later
        _, net = _held_before(conn, code, day)
        if net == fen:
            conn.execute(f"DELETE FROM {table} WHERE {key[0]} = ?", [key[1]])
            continue
        why = (
            f"存档中 {code} 在 {day} 的期初余额（{from_fen(fen)}，来自此前的导入）与本文件在"
            f"此之前各行合计的 {from_fen(net)} 不符：请更正台账或按期间顺序导入"
        )
        problems.append(RowProblem(row, header, str(from_fen(net)), why))
    return problems


def _next_opening(
    conn: sqlite3.Connection, code: str, after: dt.date, import_id: int
) -> tuple[str, tuple[str, object], dt.date, int] | None:
    """The first opening item of `code` dated after `after`, from another detail import."""
    inv = conn.execute(
        "SELECT i.invoice_no, i.invoice_date, i.amount_fen FROM invoices i"
        " JOIN ledger_imports l ON l.id = i.import_id"
        " WHERE l.kind = 'detail' AND i.import_id != ? AND i.customer_code = ?"
        " AND i.invoice_date > ? AND i.invoice_no LIKE ? ORDER BY i.invoice_date LIMIT 1",
        [import_id, code, after.isoformat(), OPENING_PREFIX + "%"],
    ).fetchone()
    pay = conn.execute(
        "SELECT p.id, p.paid_on, p.amount_fen FROM payments p"
        " JOIN ledger_imports l ON l.id = p.import_id"
        " WHERE l.kind = 'detail' AND p.import_id != ? AND p.customer_code = ?"
        " AND p.paid_on > ? AND p.kind = 'opening' ORDER BY p.paid_on LIMIT 1",
        [import_id, code, after.isoformat()],
    ).fetchone()
    found = []
    if inv is not None:
        found.append(("invoices", ("invoice_no", inv[0]), dt.date.fromisoformat(inv[1]), inv[2]))
    if pay is not None:
        found.append(("payments", ("id", pay[0]), dt.date.fromisoformat(pay[1]), -pay[2]))
    return min(found, key=lambda f: f[2]) if found else None
