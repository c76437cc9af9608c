"""Ledger payments with no customer (unmatched receipts): the `unmatched_payments` table.

A payment-list row without a customer code whose payer's name finds no one customer
(archive/payer_names.py) is kept here, listed for a clerk and lowering no balance until
assigned (it becomes a payment) or dismissed (no customer's payment). An assignment teaches the
desk the payer's name, so the next import of the same rows finds the customer itself.
`unmatched_receipts(db)` lists what waits, each with `to_json()`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from dunning.actors import Actor
from dunning.archive.accounts import get_customer
from dunning.archive.db import write_transaction
from dunning.archive.payer_names import name_key
from dunning.errors import DunningError, NotFoundError
from dunning.money import format_amount, from_fen


@dataclass(frozen=True)
class UnmatchedReceipt:
    """A ledger payment with no customer: who paid, how much, when, and who it may be."""

    id: int
    payer_name: str
    paid_on: dt.date
    amount: Any  # Decimal
    invoice_ref: str | None
    payment_no: str | None
    candidates: tuple[str, ...]  # customer codes it may belong to (none, or more than one)
    document_id: int | None
    source_row: int | None
    assigned_to: str | None = None
    assigned_by: str | None = None
    dismissed_reason: str | None = None
    dismissed_by: str | None = None

    def sentence(self) -> str:
        """`杭州甲公司 于 2025-11-20 付款 1,000.00：未匹配到款（可能是 C001、C002）`."""
        maybe = f"（可能是 {'、'.join(self.candidates)}）" if self.candidates else "（无相近客户）"
        return (
            f"{self.payer_name} 于 {self.paid_on.isoformat()} 付款 {format_amount(self.amount)}："
            f"未匹配到款 #{self.id}{maybe}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "payer": self.payer_name,
            "date": self.paid_on.isoformat(),
            "amount": f"{self.amount:.2f}",
            "invoice": self.invoice_ref,
            "payment_no": self.payment_no,
            "candidates": list(self.candidates),
            "document": self.document_id,
            "row": self.source_row,
            "assigned_to": self.assigned_to,
            "assigned_by": self.assigned_by,
            "dismissed": self.dismissed_reason,
            "dismissed_by": self.dismissed_by,
        }


_COLUMNS = (
    "u.id, u.payer_name, u.paid_on, u.amount_fen, u.invoice_ref, u.payment_no, u.candidates,"
    " l.document_id, u.source_row, u.assigned_to, u.assigned_by, u.dismissed_reason,"
    " u.dismissed_by"
)


def _receipt(row: tuple[Any, ...]) -> UnmatchedReceipt:
    return UnmatchedReceipt(
        row[0],
        row[1],
        dt.date.fromisoformat(row[2]),
        from_fen(row[3]),
        row[4],
        row[5],
        tuple(json.loads(row[6] or "[]")),
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
        row[12],
    )


def unmatched_receipts(
    db: sqlite_utils.Database | sqlite3.Connection,
    *,
    customer: str | None = None,
    assigned: bool = False,
) -> list[UnmatchedReceipt]:
    """Ledger payments with no customer waiting for a clerk, oldest first (`assigned`: those
    a clerk assigned or dismissed instead); `customer`: only those that may be its."""
    done = "(u.assigned_to IS NOT NULL OR u.dismissed_at IS NOT NULL)"
    where = done if assigned else f"NOT {done}"
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM unmatched_payments u"
        f" LEFT JOIN ledger_imports l ON l.id = u.import_id WHERE {where}"
        " ORDER BY u.paid_on, u.id"
    ).fetchall()
    found = [_receipt(r) for r in rows]
    if customer is not None:
        found = [r for r in found if customer in r.candidates]
    return found


def get_receipt(
    db: sqlite_utils.Database | sqlite3.Connection, receipt_id: int
) -> UnmatchedReceipt:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM unmatched_payments u"
        " LEFT JOIN ledger_imports l ON l.id = u.import_id WHERE u.id = ?",
        [receipt_id],
    ).fetchone()
    if row is None:
        raise NotFoundError(f"没有未匹配到款 #{receipt_id}：清单见 `dunning receipts unmatched`。")
    return _receipt(row)


def learned_names(conn: sqlite3.Connection) -> dict[str, str]:
    """Payer names a clerk assigned to a customer (name_key → code): the next import of the
    same payer finds its customer without asking again."""
    rows = conn.execute(
        "SELECT payer_name, assigned_to FROM unmatched_payments"
        " WHERE assigned_to IS NOT NULL ORDER BY assigned_at, id"
    ).fetchall()
    return {name_key(name): code for name, code in rows}


@dataclass(frozen=True)
class PayerRow:
    """A name-only payment row that found no customer."""

    row: int
    payer_name: str
    paid_on: dt.date
    amount_fen: int
    invoice_ref: str | None
    payment_no: str | None
    kind: str
    candidates: tuple[str, ...]


def record_unmatched(
    conn: sqlite3.Connection, rows: Iterable[PayerRow], import_id: int
) -> list[int]:
    """Write (or update, on a re-import) the file's unmatched receipts; returns their ids.

    Keyed like payments: the payer's name + payment number, else + date + amount, and the n-th
    such row of the file."""
    seen: dict[str, int] = {}
    ids = []
    for row in rows:
        who = name_key(row.payer_name)
        base = (
            f"{who}|no|{row.payment_no}"
            if row.payment_no
            else f"{who}|{row.paid_on.isoformat()}|{row.amount_fen}"
        )
        seen[base] = seen.get(base, 0) + 1
        key = f"{base}|{seen[base]}"
        conn.execute(
            "INSERT INTO unmatched_payments (natural_key, payer_name, paid_on, amount_fen,"
            " invoice_ref, payment_no, kind, candidates, import_id, source_row)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(natural_key) DO UPDATE SET"
            " payer_name = excluded.payer_name, paid_on = excluded.paid_on,"
            " amount_fen = excluded.amount_fen, invoice_ref = excluded.invoice_ref,"
            " candidates = excluded.candidates, import_id = excluded.import_id,"
            " source_row = excluded.source_row",
            [
                key, row.payer_name, row.paid_on.isoformat(), row.amount_fen, row.invoice_ref,
                row.payment_no, row.kind, json.dumps(list(row.candidates)), import_id, row.row,
            ],
        )  # fmt: skip
        found = conn.execute(
            "SELECT id FROM unmatched_payments WHERE natural_key = ?", [key]
        ).fetchone()
        ids.append(int(found[0]))
    return ids


class AssignError(DunningError):
    """An unmatched receipt cannot be assigned as asked."""


def assign_receipt(
    conn: sqlite3.Connection,
    receipt_id: int,
    customer_code: str,
    *,
    actor: str,
    now: str,
    second: bool = False,
) -> UnmatchedReceipt:
    """Make receipt `receipt_id` a payment of `customer_code` (inside the caller's write
    transaction); from now on it lowers that customer's balance. Refused when the customer
    already has a payment of that day and amount (the same money booked since), unless
    `second`."""
    receipt = _waiting(conn, receipt_id)
    kind, import_id, fen = conn.execute(
        "SELECT kind, import_id, amount_fen FROM unmatched_payments WHERE id = ?", [receipt_id]
    ).fetchone()
    if not second:
        _refuse_if_booked(conn, receipt, customer_code, fen)
    key = _payment_key(conn, customer_code, receipt, fen, kind)
    cur = conn.execute(
        "INSERT INTO payments (natural_key, customer_code, paid_on, amount_fen, invoice_ref,"
        " payment_no, import_id, source_row, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            key, customer_code, receipt.paid_on.isoformat(), fen, receipt.invoice_ref,
            receipt.payment_no, import_id, receipt.source_row, kind,
        ],
    )  # fmt: skip
    conn.execute(
        "UPDATE unmatched_payments SET assigned_to = ?, assigned_by = ?, assigned_at = ?,"
        " payment_id = ? WHERE id = ?",
        [customer_code, actor, now, cur.lastrowid, receipt_id],
    )
    return get_receipt(conn, receipt_id)


def _waiting(conn: sqlite3.Connection, receipt_id: int) -> UnmatchedReceipt:
    receipt = get_receipt(conn, receipt_id)
    if receipt.assigned_to is not None:
        raise AssignError(
            f"未匹配到款 #{receipt_id} 已由 {receipt.assigned_by} 归入 {receipt.assigned_to}："
            "未做任何改动。"
        )
    if receipt.dismissed_reason is not None:
        raise AssignError(
            f"未匹配到款 #{receipt_id} 已排除（{receipt.dismissed_reason}）：未做任何改动。"
        )
    return receipt


def _refuse_if_booked(
    conn: sqlite3.Connection, receipt: UnmatchedReceipt, code: str, fen: int
) -> None:
    found = conn.execute(
        "SELECT p.id, l.document_id FROM payments p LEFT JOIN ledger_imports l"
        " ON l.id = p.import_id WHERE p.customer_code = ? AND p.paid_on = ? AND p.amount_fen = ?"
        " LIMIT 1",
        [code, receipt.paid_on.isoformat(), fen],
    ).fetchone()
    if found is not None:
        raise AssignError(
            f"{code} 在 {receipt.paid_on.isoformat()} 已有一笔 {format_amount(receipt.amount)} 的回款"
            f"（文档 {found[1]}）：到款 #{receipt.id} 很可能是同一笔钱重复入账；请排除它"
            f"（`dunning receipts dismiss {receipt.id} --reason …`），如确是第二笔回款，"
            "请用 --second 归入。"
        )


def dismiss_receipt(
    conn: sqlite3.Connection, receipt_id: int, *, reason: str, actor: str, now: str
) -> UnmatchedReceipt:
    """A clerk says receipt `receipt_id` is no customer's payment (a refund, interest, money
    already booked): it leaves the list, lowering nothing. Kept, with who and why."""
    reason = " ".join(reason.split())
    if not reason:
        raise AssignError(f"请写明排除到款 #{receipt_id} 的原因（--reason）。")
    _waiting(conn, receipt_id)
    conn.execute(
        "UPDATE unmatched_payments SET dismissed_by = ?, dismissed_at = ?, dismissed_reason = ?"
        " WHERE id = ?",
        [actor, now, reason, receipt_id],
    )
    return get_receipt(conn, receipt_id)


def _payment_key(
    conn: sqlite3.Connection, code: str, receipt: UnmatchedReceipt, fen: int, kind: str
) -> str:
    """The natural key the ledger importer gives this row once the payer's name is known
    (importer.payment_keys), so that importing the same file again updates, never adds."""
    if receipt.payment_no:
        base = f"no|{code}|{receipt.payment_no}"
    else:
        prefix = "" if kind == "payment" else f"{kind}|"
        base = f"{prefix}{code}|{receipt.paid_on.isoformat()}|{fen}"
    taken = {
        r[0]
        for r in conn.execute(
            "SELECT natural_key FROM payments WHERE natural_key LIKE ? ESCAPE '\\'",
            [_like(base) + "|%"],
        )
    }
    n = 1
    while f"{base}|{n}" in taken:
        n += 1
    return f"{base}|{n}"


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def assign(
    db: sqlite_utils.Database,
    receipt_id: int,
    customer: str,
    *,
    actor: Actor,
    second: bool = False,
) -> UnmatchedReceipt:
    """`dunning receipts assign`: the receipt becomes a payment of `customer` (code or exact
    name), recorded with the actor; the payer's name is learned for the next import."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    with write_transaction(db) as conn:
        code = get_customer(conn, customer.strip()).code
        return assign_receipt(conn, receipt_id, code, actor=actor.label, now=now, second=second)


def dismiss(
    db: sqlite_utils.Database, receipt_id: int, *, reason: str, actor: Actor
) -> UnmatchedReceipt:
    """`dunning receipts dismiss`: no customer's payment; kept with the actor and reason."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    with write_transaction(db) as conn:
        return dismiss_receipt(conn, receipt_id, reason=reason, actor=actor.label, now=now)
