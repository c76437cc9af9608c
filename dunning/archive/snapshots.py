"""Ledger snapshots that can shrink: vanished invoices, open-items exports, void and keep.

Each ledger import records the customers it covered and the period its rows span. An invoice
a later export of the same kind and period no longer lists is no longer what the ERP says is
owed, so it is held out of the balances the letters demand:

* an invoice ledger (or detail ledger) judges the invoices earlier imports *of the same kind*
  carried for the customers this file covers (customers with at least one row in it) and dated
  within its period (its earliest to its latest row date). A missing one is `vanished` until a
  clerk voids it (not owed) or keeps it (owed after all). Invoices dated outside the period,
  customers with no row in the file, detail-ledger openings (期初) and items from the other kind
  are not judged: the export may simply not have reached them.
* an open-items export (`[ledger] open_items_only = true`, or a title such as 未清项 / 未核销 /
  未结清) replaces the open items of every customer the desk knows from invoice ledgers: an
  invoice it does not list (dated up to its latest row) is `settled`, a customer absent from
  it has all such items settled.

An invoice listed again by a later export returns to the balances. Nothing is deleted: every
change is an `invoice_events` row with the import, or the clerk and the reason (this module
owns `invoices.state`, `invoice_events` and `ledger_import_customers`).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from dunning.actors import Actor
from dunning.archive.db import write_transaction
from dunning.archive.export_titles import title_lines
from dunning.archive.ledger.header import HEADER_SCAN_ROWS, find_header
from dunning.archive.ledger.rows import OPENING_PREFIX, Ledger
from dunning.errors import DunningError, NotFoundError
from dunning.money import format_amount, from_fen
from dunning.vocabulary import INVOICE_STATES

HELD: tuple[str, ...] = ("vanished", "voided", "settled")
# Words that title an open-items export: 应收未清项明细, 未清偿应收款, 未核销发票清单,
# 未结清应收款, 未结算发票, Open items, Outstanding invoices.
_OPEN_ITEMS = re.compile(
    r"未\s*清(?:\s*[项偿])?|未\s*核\s*销|未\s*结\s*[清算]|open\s+items?|open\s+invoices?"
    r"|outstanding\s+(?:items?|invoices?)",
    re.IGNORECASE,
)
# A title naming both states (含已核销及未核销) lists every item, not only the open ones.
_BOTH = re.compile(r"已\s*(?:核\s*销|清|结\s*[清算])")


def open_items_marker(path: Path, ledger: Ledger | None = None) -> str | None:
    """The words marking `path` as an open-items export: in its file name, the sheet's name,
    or a title line above the header (never a header or a row: a 未核销金额 column is not a
    title). `ledger`: the file as read, which says where its header is."""
    for text in (path.stem, ledger.sheet if ledger else None):
        if text and not _BOTH.search(text) and (hit := _OPEN_ITEMS.search(text)):
            return hit.group()
    if ledger is not None and ledger.header_row <= 1:
        return None  # the header is the first line: no title
    rows = ledger.header_row - 1 if ledger else HEADER_SCAN_ROWS
    lines = title_lines(path, rows, ledger.sheet if ledger else None)
    if ledger is None:
        header = find_header([cells for _, cells in lines])
        # No header found: only a first line of one cell is surely a title.
        lines = lines[: header.index - header.rows + 1] if header else lines[:1]
        lines = lines if header or (lines and len(lines[0][1]) == 1) else []
    headers = set(ledger.columns.values()) | set(ledger.ignored_columns) if ledger else set()
    for _, cells in lines:
        # A title line holds a title and perhaps a date or a unit; a header row many cells.
        if len(cells) > 3:
            continue
        for cell in cells:
            if cell.strip() in headers or _BOTH.search(cell):
                continue
            if hit := _OPEN_ITEMS.search(cell):
                return hit.group()
    return None


@dataclass(frozen=True)
class SnapshotChange:
    """One thing an import changed about what is owed, as the ingest output lists it."""

    event: Literal["vanished", "returned", "settled", "still_voided"]
    invoice_no: str
    customer: str
    open_amount: Decimal
    absent_customer: bool = False  # settled because the customer is not in the export at all

    def sentence(self) -> str:
        amount = format_amount(self.open_amount)
        no, who = self.invoice_no, self.customer
        if self.event == "vanished":
            return (
                f"{who} 的发票 {no}（未收 {amount}）已不在本次导出中：暂不催收，请核实后"
                f"作废（dunning invoice void {no} --reason …）或保留（dunning invoice keep {no}）"
            )
        if self.event == "returned":
            return f"{who} 的发票 {no}（未收 {amount}）重新出现在本次导出中：恢复催收"
        if self.event == "still_voided":
            return (
                f"{who} 的发票 {no} 已作废，但本次导出仍列出它（未收 {amount}）：仍不催收；"
                f"如确实应收，请 dunning invoice keep {no}"
            )
        if self.absent_customer:
            return f"{who} 不在本次未清项导出中：发票 {no}（{amount}）视为已结清"
        return f"{who} 的发票 {no}（{amount}）不在本次未清项导出中：视为已结清"

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "invoice": self.invoice_no,
            "customer": self.customer,
            "open": f"{self.open_amount:.2f}",
            "customer_absent": self.absent_customer,
            "message": self.sentence(),
        }


def settled_summary(changes: list[SnapshotChange]) -> str | None:
    """One warning over an open-items import that settled whole customers: a filtered export
    (one salesperson's, one region's) would otherwise settle everyone else silently."""
    absent = sorted({c.customer for c in changes if c.absent_customer})
    if not absent:
        return None
    shown = "、".join(absent[:5]) + ("…" if len(absent) > 5 else "")
    return (
        f"注意：本次未清项导出未列出 {len(absent)} 个客户（{shown}），其未清发票均视为已结清。"
        "如这份导出经过筛选（按业务员、区域、日期），请改导入完整的未清项导出：列回的发票会恢复催收。"
    )


@dataclass(frozen=True)
class Coverage:
    """What one import covered: its customers and the dates its rows span."""

    import_id: int
    kind: str
    customers: frozenset[str]
    period: tuple[dt.date, dt.date] | None
    open_items: bool = False


def judge_snapshot(conn: sqlite3.Connection, cov: Coverage, *, now: str) -> list[SnapshotChange]:
    """After an import's rows are written: record its coverage, return what it listed again,
    and hold what it no longer lists. Runs inside the import's transaction."""
    start, end = cov.period or (None, None)
    conn.execute(
        "UPDATE ledger_imports SET period_start = ?, period_end = ?, open_items = ? WHERE id = ?",
        [
            start.isoformat() if start else None,
            end.isoformat() if end else None,
            int(cov.open_items),
            cov.import_id,
        ],
    )
    changes = _listed_again(conn, cov.import_id, now)
    if cov.kind not in ("invoices", "detail") or end is None or start is None:
        _record_customers(conn, cov.import_id, cov.customers)
        return changes
    if cov.open_items and cov.kind == "invoices":
        covered = set(cov.customers) | _customers_with_items(conn, end)
        _record_customers(conn, cov.import_id, covered)
        return changes + _settle_missing(conn, cov, end, now)
    _record_customers(conn, cov.import_id, cov.customers)
    return changes + _hold_vanished(conn, cov, start, end, now)


def _record_customers(conn: sqlite3.Connection, import_id: int, codes: Collection[str]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO ledger_import_customers (import_id, customer_code) VALUES (?, ?)",
        [(import_id, code) for code in sorted(codes)],
    )


def _event(
    conn: sqlite3.Connection,
    invoice_no: str,
    customer: str,
    event: str,
    now: str,
    *,
    import_id: int | None = None,
    actor: str | None = None,
    reason: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO invoice_events (invoice_no, customer_code, event, import_id, actor,"
        " reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [invoice_no, customer, event, import_id, actor, reason, now],
    )


def _listed_again(conn: sqlite3.Connection, import_id: int, now: str) -> list[SnapshotChange]:
    """Held invoices this import lists: vanished, settled or kept ones count again; voided
    ones stay voided (a clerk decided) and are named."""
    rows = conn.execute(
        "SELECT invoice_no, customer_code, state, amount_fen - received_fen FROM invoices"
        " WHERE import_id = ? AND state IS NOT NULL ORDER BY customer_code, invoice_no",
        [import_id],
    ).fetchall()
    changes = []
    for no, code, state, fen in rows:
        if state == "voided":
            changes.append(SnapshotChange("still_voided", no, code, from_fen(fen)))
            continue
        conn.execute(
            "UPDATE invoices SET state = NULL, state_import_id = ? WHERE invoice_no = ?",
            [import_id, no],
        )
        _event(conn, no, code, "returned", now, import_id=import_id)
        if state != "kept":
            changes.append(SnapshotChange("returned", no, code, from_fen(fen)))
    return changes


def _hold_vanished(
    conn: sqlite3.Connection, cov: Coverage, start: dt.date, end: dt.date, now: str
) -> list[SnapshotChange]:
    rows = conn.execute(
        "SELECT i.invoice_no, i.customer_code, i.amount_fen - i.received_fen FROM invoices i"
        " JOIN ledger_imports l ON l.id = i.import_id"
        " JOIN ledger_import_customers c ON c.import_id = ? AND c.customer_code = i.customer_code"
        " WHERE l.kind = ? AND i.import_id != ? AND i.state IS NULL"
        " AND i.invoice_date BETWEEN ? AND ? AND i.amount_fen != i.received_fen"
        " AND substr(i.invoice_no, 1, ?) != ? ORDER BY i.customer_code, i.invoice_no",
        [
            cov.import_id, cov.kind, cov.import_id, start.isoformat(), end.isoformat(),
            len(OPENING_PREFIX), OPENING_PREFIX,
        ],
    ).fetchall()  # fmt: skip
    return [_hold(conn, cov.import_id, "vanished", no, code, fen, now) for no, code, fen in rows]


def _hold(
    conn: sqlite3.Connection, import_id: int, state: str, no: str, code: str, fen: int, now: str
) -> SnapshotChange:
    conn.execute(
        "UPDATE invoices SET state = ?, state_import_id = ? WHERE invoice_no = ?",
        [state, import_id, no],
    )
    _event(conn, no, code, state, now, import_id=import_id)
    return SnapshotChange("vanished" if state == "vanished" else "settled", no, code, from_fen(fen))


def _customers_with_items(conn: sqlite3.Connection, end: dt.date) -> set[str]:
    """Every customer holding counted invoice-ledger items dated up to `end`."""
    rows = conn.execute(
        "SELECT DISTINCT i.customer_code FROM invoices i"
        " JOIN ledger_imports l ON l.id = i.import_id"
        " WHERE l.kind = 'invoices' AND i.state IS NULL AND i.invoice_date <= ?",
        [end.isoformat()],
    )
    return {r[0] for r in rows}


def _settle_missing(
    conn: sqlite3.Connection, cov: Coverage, end: dt.date, now: str
) -> list[SnapshotChange]:
    rows = conn.execute(
        "SELECT i.invoice_no, i.customer_code, i.amount_fen - i.received_fen FROM invoices i"
        " JOIN ledger_imports l ON l.id = i.import_id"
        " JOIN ledger_import_customers c ON c.import_id = ? AND c.customer_code = i.customer_code"
        " WHERE l.kind = 'invoices' AND i.import_id != ? AND i.state IS NULL"
        " AND i.invoice_date <= ? AND i.amount_fen != i.received_fen"
        " ORDER BY i.customer_code, i.invoice_no",
        [cov.import_id, cov.import_id, end.isoformat()],
    ).fetchall()
    changes = []
    for no, code, fen in rows:
        change = _hold(conn, cov.import_id, "settled", no, code, fen, now)
        if code not in cov.customers:
            change = SnapshotChange("settled", no, code, change.open_amount, absent_customer=True)
        changes.append(change)
    return changes


# ---- what a clerk decides ------------------------------------------------------------------


class InvoiceStateError(DunningError):
    """An invoice cannot be voided or kept as asked."""


@dataclass(frozen=True)
class HeldInvoice:
    """An invoice held out of the balances: vanished, voided or settled."""

    invoice_no: str
    customer: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    open_amount: Decimal
    state: str
    since: str | None  # when it was held
    document_id: int | None  # the import that held it (vanished, settled)
    actor: str | None  # who voided it
    reason: str | None

    def sentence(self) -> str:
        title = INVOICE_STATES.get(self.state, self.state)
        why = f"：{self.reason}" if self.reason else ""
        return (
            f"{self.customer} 的发票 {self.invoice_no}（未收 {format_amount(self.open_amount)}）"
            f"{title}{why}，不计入催收金额"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice": self.invoice_no,
            "customer": self.customer,
            "date": self.invoice_date.isoformat(),
            "due": self.due_date.isoformat(),
            "amount": f"{self.amount:.2f}",
            "open": f"{self.open_amount:.2f}",
            "state": self.state,
            "state_title": INVOICE_STATES.get(self.state, self.state),
            "since": self.since,
            "document": self.document_id,
            "actor": self.actor,
            "reason": self.reason,
        }


def held_invoices(
    db: sqlite_utils.Database | sqlite3.Connection,
    *,
    customer: str | None = None,
    states: Collection[str] = HELD,
) -> list[HeldInvoice]:
    """Invoices held out of the balances (in `states`), by customer and invoice number."""
    marks = ", ".join("?" for _ in states)
    where = f"i.state IN ({marks})" + (" AND i.customer_code = ?" if customer else "")
    params: list[Any] = [*states, *([customer] if customer else [])]
    rows = db.execute(
        "SELECT i.invoice_no, i.customer_code, i.invoice_date, i.due_date, i.amount_fen,"
        " i.amount_fen - i.received_fen, i.state, l.document_id,"
        " (SELECT e.at || char(31) || COALESCE(e.actor, '') || char(31) || COALESCE(e.reason, '')"
        "  FROM invoice_events e WHERE e.invoice_no = i.invoice_no ORDER BY e.id DESC LIMIT 1)"
        " FROM invoices i LEFT JOIN ledger_imports l ON l.id = i.state_import_id"
        f" WHERE {where} ORDER BY i.customer_code, i.invoice_no",
        params,
    ).fetchall()
    found = []
    for no, code, day, due, fen, open_fen, state, doc, last in rows:
        at, actor, reason = (last or "\x1f\x1f").split("\x1f")
        found.append(
            HeldInvoice(
                no, code, dt.date.fromisoformat(day), dt.date.fromisoformat(due), from_fen(fen),
                from_fen(open_fen), state, at or None, doc, actor or None, reason or None,
            )
        )  # fmt: skip
    return found


def _invoice(conn: sqlite3.Connection, invoice_no: str) -> tuple[str, str | None]:
    row = conn.execute(
        "SELECT customer_code, state FROM invoices WHERE invoice_no = ?", [invoice_no]
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"存档中没有发票 {invoice_no!r}：发票号见 `dunning invoice held` 或客户档案。"
        )
    return row[0], row[1]


def void_invoice(
    conn: sqlite3.Connection, invoice_no: str, *, reason: str, actor: str, now: str
) -> HeldInvoice:
    """A clerk confirms `invoice_no` is not owed (voided in the ERP): it leaves the balances
    for good, unless a clerk keeps it. Inside the caller's write transaction."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvoiceStateError(
            f"请写明发票 {invoice_no} 作废的原因（--reason），如「ERP 已作废，红冲 INV002-R」。"
        )
    code, state = _invoice(conn, invoice_no)
    if state == "voided":
        raise InvoiceStateError(f"{code} 的发票 {invoice_no} 已作废：未做任何改动。")
    conn.execute("UPDATE invoices SET state = 'voided' WHERE invoice_no = ?", [invoice_no])
    _event(conn, invoice_no, code, "voided", now, actor=actor, reason=reason)
    return _one(conn, invoice_no)


def keep_invoice(
    conn: sqlite3.Connection, invoice_no: str, *, actor: str, now: str, note: str | None = None
) -> str:
    """A clerk confirms `invoice_no` is owed after all: it counts again, and later exports
    that leave it out no longer hold it. Returns its customer's code."""
    code, state = _invoice(conn, invoice_no)
    if state is None or state == "kept":
        raise InvoiceStateError(
            f"{code} 的发票 {invoice_no} 未被暂停（已计入欠款）：未做任何改动。"
        )
    conn.execute("UPDATE invoices SET state = 'kept' WHERE invoice_no = ?", [invoice_no])
    _event(conn, invoice_no, code, "kept", now, actor=actor, reason=note or None)
    return str(code)


def _one(conn: sqlite3.Connection, invoice_no: str) -> HeldInvoice:
    code, _ = _invoice(conn, invoice_no)
    return next(h for h in held_invoices(conn, customer=code) if h.invoice_no == invoice_no)


@dataclass(frozen=True)
class InvoiceEvent:
    invoice_no: str
    customer: str
    event: str
    at: str
    actor: str | None
    reason: str | None
    document_id: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice": self.invoice_no,
            "customer": self.customer,
            "event": self.event,
            "event_title": INVOICE_STATES.get(self.event, self.event),
            "at": self.at,
            "actor": self.actor,
            "reason": self.reason,
            "document": self.document_id,
        }


def invoice_events(
    db: sqlite_utils.Database | sqlite3.Connection, *, customer: str
) -> list[InvoiceEvent]:
    """Every snapshot change and clerk decision about a customer's invoices, oldest first."""
    rows = db.execute(
        "SELECT e.invoice_no, e.customer_code, e.event, e.at, e.actor, e.reason, l.document_id"
        " FROM invoice_events e LEFT JOIN ledger_imports l ON l.id = e.import_id"
        " WHERE e.customer_code = ? ORDER BY e.id",
        [customer],
    ).fetchall()
    return [InvoiceEvent(*r) for r in rows]


def held_by_customer(
    db: sqlite_utils.Database | sqlite3.Connection,
) -> dict[str, list[HeldInvoice]]:
    found: dict[str, list[HeldInvoice]] = defaultdict(list)
    for held in held_invoices(db):
        found[held.customer].append(held)
    return found


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def confirm_void(
    db: sqlite_utils.Database, invoice_no: str, *, reason: str, actor: Actor
) -> HeldInvoice:
    """`dunning invoice void`: one write transaction, recorded with the actor and reason."""
    with write_transaction(db) as conn:
        return void_invoice(conn, invoice_no.strip(), reason=reason, actor=actor.label, now=_now())


def confirm_keep(
    db: sqlite_utils.Database, invoice_no: str, *, actor: Actor, note: str | None = None
) -> str:
    """`dunning invoice keep`: the invoice counts again; returns its customer's code."""
    with write_transaction(db) as conn:
        return keep_invoice(conn, invoice_no.strip(), actor=actor.label, now=_now(), note=note)
