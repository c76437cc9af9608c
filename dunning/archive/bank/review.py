"""The review queue: reading receipts back, and a clerk's decisions on them.

Decisions: accept the proposed customer, reassign to another customer, split over invoices,
or mark as not a customer payment. A decision for a customer applies the receipt (once: see
`receipts.settle`) and teaches the payer's account and name, so the next receipt from that
account with an exact amount is `certain`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlite_utils

from dunning.archive.accounts import get_customer
from dunning.archive.bank.matching import Knowledge, allocate_by_amount, name_key
from dunning.archive.bank.receipts import drop_payments, knowledge, settle
from dunning.config import account_key
from dunning.errors import DunningError, NotFoundError
from dunning.money import from_fen

STATUSES = ("certain", "probable", "unmatched", "confirmed", "not_customer")
WAITING = ("probable", "unmatched")


class ReviewError(DunningError):
    """A review decision that cannot be made as asked."""


@dataclass(frozen=True)
class BankReceipt:
    id: int
    received_on: dt.date
    received_at: str | None
    amount: Decimal
    payer_name: str
    payer_account: str
    memo: str
    serial: str | None
    status: str
    customer: str | None
    customer_name: str | None
    grounds: str
    allocation: tuple[tuple[str, Decimal], ...]
    applied: bool
    booked_payment: int | None
    booked_payment_no: str | None
    account: str
    document: int
    source_row: int
    decided_by: str | None

    @property
    def sources(self) -> tuple[str, ...]:
        """Where the desk knows this money from: the bank statement, the ERP, or both."""
        return ("bank", "erp") if self.booked_payment is not None else ("bank",)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received_on": self.received_on.isoformat(),
            "received_at": self.received_at,
            "amount": f"{self.amount:.2f}",
            "payer_name": self.payer_name,
            "payer_account": self.payer_account,
            "memo": self.memo,
            "serial": self.serial,
            "status": self.status,
            "customer": self.customer,
            "name": self.customer_name,
            "grounds": self.grounds,
            "allocation": [{"invoice": i, "amount": f"{a:.2f}"} for i, a in self.allocation],
            "applied": self.applied,
            "booked": self.booked_payment is not None,
            "booked_payment_no": self.booked_payment_no,
            "sources": list(self.sources),
            "account": self.account,
            "document": self.document,
            "row": self.source_row,
            "decided_by": self.decided_by,
        }


_SELECT = (
    "SELECT r.id, r.received_on, r.received_at, r.amount_fen, r.payer_name, r.payer_account,"
    " r.memo, r.serial, r.status, r.customer_code, c.name, r.grounds, r.allocation, r.applied,"
    " r.booked_payment_id, p.payment_no, r.account, s.document_id, r.source_row, r.decided_by"
    " FROM bank_receipts r JOIN bank_statements s ON s.id = r.statement_id"
    " LEFT JOIN customers c ON c.code = r.customer_code"
    " LEFT JOIN payments p ON p.id = r.booked_payment_id"
)


def _receipt(row: Sequence[Any]) -> BankReceipt:
    alloc = tuple((a["invoice"], Decimal(a["amount"])) for a in json.loads(row[12] or "[]"))
    return BankReceipt(
        int(row[0]), dt.date.fromisoformat(row[1]), row[2], from_fen(row[3]), row[4], row[5],
        row[6], row[7], row[8], row[9], row[10], row[11], alloc, bool(row[13]), row[14],
        row[15], row[16], int(row[17]), int(row[18]), row[19],
    )  # fmt: skip


def receipts(
    db: sqlite_utils.Database | sqlite3.Connection,
    *,
    status: Sequence[str] = (),
    customer: str | None = None,
    unbooked: bool = False,
) -> list[BankReceipt]:
    """Receipts, oldest first; filtered by status, customer, or not yet booked by the ERP."""
    where: list[str] = []
    params: list[Any] = []
    if status:
        where.append(f"r.status IN ({', '.join('?' * len(status))})")
        params.extend(status)
    if customer is not None:
        where.append("r.customer_code = ?")
        params.append(customer)
    if unbooked:
        where.append("r.booked_payment_id IS NULL AND r.status != 'not_customer'")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = db.execute(f"{_SELECT}{clause} ORDER BY r.received_on, r.id", params).fetchall()
    return [_receipt(r) for r in rows]


def get_receipt(db: sqlite_utils.Database | sqlite3.Connection, receipt_id: int) -> BankReceipt:
    row = db.execute(f"{_SELECT} WHERE r.id = ?", [receipt_id]).fetchone()
    if row is None:
        raise NotFoundError(f"没有编号为 {receipt_id} 的银行到账：见 `dunning bank list`。")
    return _receipt(row)


def _decide(
    conn: sqlite3.Connection,
    receipt_id: int,
    *,
    status: str,
    customer: str | None,
    allocation: Sequence[tuple[str, Decimal]],
    grounds: str,
    actor: str,
) -> None:
    conn.execute(
        "UPDATE bank_receipts SET status = ?, customer_code = ?, allocation = ?,"
        " grounds = ?, decided_by = ?, decided_at = ? WHERE id = ?",
        [
            status,
            customer,
            json.dumps([{"invoice": i, "amount": f"{a:.2f}"} for i, a in allocation]),
            grounds,
            actor,
            dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            receipt_id,
        ],
    )


def _teach(conn: sqlite3.Connection, receipt: BankReceipt, customer: str) -> list[str]:
    """The payer's account and name now belong to `customer` (the latest decision wins)."""
    taught = []
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    name = get_customer(conn, customer).name
    pairs = [("account", account_key(receipt.payer_account))]
    if name_key(receipt.payer_name) != name_key(name):
        pairs.append(("name", name_key(receipt.payer_name)))
    for kind, value in pairs:
        if len(value) < 2:
            continue
        conn.execute(
            "INSERT INTO bank_payers (kind, value, customer_code, learned_from, learned_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(kind, value) DO UPDATE SET"
            " customer_code = excluded.customer_code, learned_from = excluded.learned_from,"
            " learned_at = excluded.learned_at",
            [kind, value, customer, receipt.id, now],
        )
        taught.append(kind)
    return taught


def accept(conn: sqlite3.Connection, receipt_id: int, *, actor: str) -> BankReceipt:
    """Confirm the proposed customer (and its proposed invoices)."""
    receipt = get_receipt(conn, receipt_id)
    if receipt.customer is None:
        raise ReviewError(
            f"到账 {receipt_id} 没有建议的客户：请用 `dunning bank review {receipt_id} "
            "--customer CODE` 指明是哪个客户的款项。"
        )
    return _confirm(conn, receipt, receipt.customer, receipt.allocation, "已核对确认", actor)


def reassign(
    conn: sqlite3.Connection,
    receipt_id: int,
    customer: str,
    *,
    actor: str,
    fee_tolerance: Decimal = Decimal("0"),
) -> BankReceipt:
    """The receipt is `customer`'s money; invoices by amount when they match, else oldest first."""
    receipt = get_receipt(conn, receipt_id)
    code = get_customer(conn, customer).code
    know: Knowledge = knowledge(conn, {}, fee_tolerance)
    allocation, _, _ = allocate_by_amount(receipt.amount, know.open_of(code), know)
    return _confirm(conn, receipt, code, allocation, f"改判给 {code}", actor)


def split(
    conn: sqlite3.Connection,
    receipt_id: int,
    parts: Sequence[tuple[str, Decimal]],
    *,
    actor: str,
) -> BankReceipt:
    """The receipt pays these invoices these amounts (what is left stays a credit)."""
    receipt = get_receipt(conn, receipt_id)
    if not parts:
        raise ReviewError("请至少写一张发票和金额，如 --split 12345678=1000.00。")
    owners = set()
    for invoice, amount in parts:
        row = conn.execute(
            "SELECT invoice_no, customer_code FROM invoices WHERE invoice_no = ?", [invoice]
        ).fetchone()
        if row is None:
            raise ReviewError(f"存档中没有发票 {invoice!r}。")
        if amount <= 0:
            raise ReviewError(f"发票 {invoice} 的金额必须大于 0。")
        owners.add(row[1])
    if len(owners) != 1:
        raise ReviewError(
            "所列发票属于不同客户（"
            + "、".join(sorted(owners))
            + "）：一笔到账只能分摊到同一个客户的发票。"
        )
    total = sum((a for _, a in parts), Decimal("0.00"))
    if total > receipt.amount:
        raise ReviewError(f"各部分合计 {total:,.2f}，超过到账金额 {receipt.amount:,.2f}。")
    (code,) = owners
    return _confirm(conn, receipt, code, list(parts), "按发票拆分", actor)


def not_customer(conn: sqlite3.Connection, receipt_id: int, *, actor: str) -> BankReceipt:
    """Not a customer's payment (a refund, interest, a transfer between our accounts)."""
    receipt = get_receipt(conn, receipt_id)
    drop_payments(conn, receipt_id)
    conn.execute("UPDATE bank_receipts SET applied = 0 WHERE id = ?", [receipt_id])
    _decide(
        conn,
        receipt_id,
        status="not_customer",
        customer=None,
        allocation=(),
        grounds=receipt.grounds + "；已标记为非客户回款",
        actor=actor,
    )
    return get_receipt(conn, receipt_id)


def _confirm(
    conn: sqlite3.Connection,
    receipt: BankReceipt,
    code: str,
    allocation: Sequence[tuple[str, Decimal]],
    why: str,
    actor: str,
) -> BankReceipt:
    if receipt.booked_payment is not None and receipt.customer not in (None, code):
        raise ReviewError(
            f"到账 {receipt.id} 已由财务入账到 {receipt.customer}：请更正 ERP 中的回款，"
            "而不是银行到账。"
        )
    _decide(
        conn,
        receipt.id,
        status="confirmed",
        customer=code,
        allocation=allocation,
        grounds=f"{receipt.grounds}；{why}（{actor}）" if receipt.grounds else why,
        actor=actor,
    )
    if receipt.booked_payment is None:
        settle(conn, receipt.id)
    _teach(conn, receipt, code)
    return get_receipt(conn, receipt.id)


def covering(
    db: sqlite_utils.Database | sqlite3.Connection,
    customer: str,
    claim: Decimal,
    tolerance: Decimal,
) -> list[BankReceipt]:
    """Receipts not yet reviewed that would cover `claim` for `customer`: its probable ones of
    at least the claim (less a bank fee), and unmatched ones of the claim's amount."""
    found = []
    for r in receipts(db, status=WAITING):
        if (
            r.status == "probable" and r.customer == customer and r.amount >= claim - tolerance
        ) or (r.status == "unmatched" and abs(r.amount - claim) <= tolerance):
            found.append(r)
    return found
