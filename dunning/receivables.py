"""Allocation and aging: pure functions over plain dataclasses (SPEC §3).

Allocation: a payment naming an invoice applies to it; everything else (unreferenced payments,
what is left of referenced ones, over-receipts, credit notes) forms one pool that applies to the
open invoices oldest due date first (ties: invoice number). What is left is an unapplied credit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")
CURRENT = "current"


@dataclass(frozen=True)
class Invoice:
    invoice_no: str
    customer_code: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    received: Decimal = ZERO  # already applied on the ledger row (已收金额)
    contract_no: str | None = None


@dataclass(frozen=True)
class Payment:
    customer_code: str
    paid_on: dt.date
    amount: Decimal
    invoice_ref: str | None = None


@dataclass(frozen=True)
class OpenItem:
    invoice: Invoice
    paid: Decimal  # received on the row plus payments applied here
    open_amount: Decimal


@dataclass(frozen=True)
class Allocation:
    items: tuple[OpenItem, ...]  # every invoice, oldest due first
    credit: Decimal  # unapplied: positive lowers the balance

    @property
    def balance(self) -> Decimal:
        return sum((i.open_amount for i in self.items), ZERO) - self.credit


def _due_order(invoice: Invoice) -> tuple[dt.date, str]:
    return (invoice.due_date, invoice.invoice_no)


def allocate(invoices: Iterable[Invoice], payments: Iterable[Payment]) -> Allocation:
    """Apply one customer's payments to its invoices."""
    ordered = sorted(invoices, key=_due_order)
    open_by_no: dict[str, Decimal] = {}
    pool = ZERO
    for inv in ordered:
        net = inv.amount - inv.received
        open_by_no[inv.invoice_no] = max(net, ZERO)
        pool += max(-net, ZERO)  # credit notes and over-receipts
    for pay in payments:
        ref = pay.invoice_ref
        if ref in open_by_no and pay.amount > 0:
            applied = min(pay.amount, open_by_no[ref])
            open_by_no[ref] -= applied
            pool += pay.amount - applied
        else:
            pool += pay.amount
    for inv in ordered:
        if pool <= 0:
            break
        applied = min(pool, open_by_no[inv.invoice_no])
        open_by_no[inv.invoice_no] -= applied
        pool -= applied
    items = tuple(
        OpenItem(inv, inv.amount - open_by_no[inv.invoice_no], open_by_no[inv.invoice_no])
        for inv in ordered
    )
    return Allocation(items, pool)


def bucket_labels(edges: Sequence[int]) -> list[str]:
    """(30, 60, 90) → current, 1-30, 31-60, 61-90, 91+."""
    labels, low = [CURRENT], 1
    for edge in edges:
        labels.append(f"{low}-{edge}")
        low = edge + 1
    labels.append(f"{low}+")
    return labels


def bucket_title(label: str) -> str:
    """A bucket label as Chinese statements and reports head it: 未到期, 1-30天, 91天以上."""
    if label == CURRENT:
        return "未到期"
    if label.endswith("+"):
        return f"{label[:-1]}天以上"
    return f"{label}天"


def bucket_for(days_overdue: int, edges: Sequence[int]) -> str:
    if days_overdue <= 0:
        return CURRENT
    low = 1
    for edge in edges:
        if days_overdue <= edge:
            return f"{low}-{edge}"
        low = edge + 1
    return f"{low}+"


@dataclass(frozen=True)
class AgedItem:
    item: OpenItem
    days_overdue: int  # negative while not yet due
    bucket: str


@dataclass(frozen=True)
class CustomerAging:
    customer: str
    name: str
    balance: Decimal
    overdue: Decimal
    credit: Decimal
    buckets: dict[str, Decimal]
    max_days_overdue: int
    items: tuple[AgedItem, ...]  # open items only, oldest due first


def age(
    customer: str,
    name: str,
    invoices: Iterable[Invoice],
    payments: Iterable[Payment],
    *,
    as_of: dt.date,
    edges: Sequence[int],
) -> CustomerAging:
    """One customer's position on `as_of`: only invoices and payments dated by then count."""
    allocation = allocate(
        (i for i in invoices if i.invoice_date <= as_of),
        (p for p in payments if p.paid_on <= as_of),
    )
    buckets = dict.fromkeys(bucket_labels(edges), ZERO)
    aged = []
    for item in allocation.items:
        if item.open_amount <= 0:
            continue
        days = (as_of - item.invoice.due_date).days
        label = bucket_for(days, edges)
        buckets[label] += item.open_amount
        aged.append(AgedItem(item, days, label))
    overdue = sum((a.item.open_amount for a in aged if a.days_overdue > 0), ZERO)
    return CustomerAging(
        customer=customer,
        name=name,
        balance=allocation.balance,
        overdue=overdue,
        credit=allocation.credit,
        buckets=buckets,
        max_days_overdue=max([0, *(a.days_overdue for a in aged)]),
        items=tuple(aged),
    )
