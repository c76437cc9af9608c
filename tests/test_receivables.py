"""Allocation and aging: the pure core, with Hypothesis properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from tooling import examples

from dunning.receivables import (
    Invoice,
    Payment,
    age,
    allocate,
    bucket_for,
    bucket_labels,
)

D = Decimal
DAY0 = dt.date(2025, 1, 1)


def inv(no: str, due_offset: int, amount: str, received: str = "0") -> Invoice:
    due = DAY0 + dt.timedelta(days=due_offset)
    return Invoice(no, "C1", due - dt.timedelta(days=30), due, D(amount), D(received))


def pay(amount: str, ref: str | None = None, day: int = 0) -> Payment:
    return Payment("C1", DAY0 + dt.timedelta(days=day), D(amount), ref)


def test_referenced_payment_applies_to_its_invoice_first() -> None:
    result = allocate([inv("A", 0, "100"), inv("B", 10, "100")], [pay("60", ref="B")])
    open_by = {i.invoice.invoice_no: i.open_amount for i in result.items}
    assert open_by == {"A": D("100"), "B": D("40")}


def test_unreferenced_payment_applies_oldest_due_first_ties_by_number() -> None:
    result = allocate([inv("B2", 0, "100"), inv("B1", 0, "100"), inv("C", 5, "100")], [pay("150")])
    open_by = {i.invoice.invoice_no: i.open_amount for i in result.items}
    assert open_by == {"B1": D("0"), "B2": D("50"), "C": D("100")}


def test_overpayment_of_a_referenced_invoice_flows_to_the_oldest_others() -> None:
    result = allocate([inv("A", 0, "100"), inv("B", 10, "100")], [pay("130", ref="B")])
    open_by = {i.invoice.invoice_no: i.open_amount for i in result.items}
    assert open_by == {"A": D("70"), "B": D("0")}
    assert result.credit == 0


def test_leftover_is_unapplied_credit_lowering_the_balance() -> None:
    result = allocate([inv("A", 0, "100", received="20")], [pay("100")])
    assert result.credit == D("20")
    assert result.balance == D("-20")


def test_received_column_counts_as_applied_and_credit_notes_pool() -> None:
    result = allocate([inv("A", 0, "100", received="30"), inv("CN", 5, "-50")], [])
    open_by = {i.invoice.invoice_no: i.open_amount for i in result.items}
    assert open_by == {"A": D("20"), "CN": D("0")}
    assert result.balance == D("20")


def test_bucket_labels_and_edges() -> None:
    assert bucket_labels((30, 60, 90)) == ["current", "1-30", "31-60", "61-90", "91+"]
    assert [bucket_for(d, (30, 60, 90)) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        "current",
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "91+",
        "91+",
    ]
    assert bucket_labels((15,)) == ["current", "1-15", "16+"]


def test_age_counts_only_what_is_dated_by_the_as_of_day() -> None:
    invoices = [inv("A", 0, "100"), inv("B", 60, "200")]  # B invoiced on day 30
    payments = [pay("100", day=40)]
    early = age(
        "C1", "n", invoices, payments, as_of=DAY0 + dt.timedelta(days=20), edges=(30, 60, 90)
    )
    assert early.balance == D("100")
    assert early.buckets["1-30"] == D("100")
    assert early.max_days_overdue == 20
    later = age(
        "C1", "n", invoices, payments, as_of=DAY0 + dt.timedelta(days=45), edges=(30, 60, 90)
    )
    assert later.balance == D("200")
    assert later.buckets["current"] == D("200")
    assert later.overdue == 0
    assert later.max_days_overdue == 0


amounts = st.decimals(min_value=D("-500"), max_value=D("100000"), places=2)
positive = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
invoice_lists = st.lists(
    st.tuples(
        st.integers(-200, 200), amounts, st.decimals(min_value=0, max_value=D("1000"), places=2)
    ),
    min_size=0,
    max_size=8,
).map(lambda rows: [inv(f"I{n:02d}", due, str(a), str(r)) for n, (due, a, r) in enumerate(rows)])
payment_lists = st.lists(
    st.tuples(positive, st.one_of(st.none(), st.sampled_from(["I00", "I01", "I03", "X9"]))),
    max_size=8,
).map(lambda rows: [pay(str(a), ref) for a, ref in rows])


@settings(max_examples=examples(300))
@given(invoice_lists, payment_lists)
def test_balance_is_invoiced_minus_received_minus_paid(
    invoices: list[Invoice], payments: list[Payment]
) -> None:
    result = allocate(invoices, payments)
    expected = sum((i.amount - i.received for i in invoices), D(0)) - sum(
        (p.amount for p in payments), D(0)
    )
    assert result.balance == expected


@settings(max_examples=examples(300))
@given(invoice_lists, payment_lists)
def test_no_invoice_is_ever_open_below_zero_or_above_its_amount(
    invoices: list[Invoice], payments: list[Payment]
) -> None:
    for item in allocate(invoices, payments).items:
        assert item.open_amount >= 0
        assert item.open_amount <= max(item.invoice.amount - item.invoice.received, D(0))


@settings(max_examples=examples(300))
@given(invoice_lists, payment_lists, st.randoms(use_true_random=False))
def test_order_of_payments_does_not_change_the_result(
    invoices: list[Invoice], payments: list[Payment], rnd
) -> None:
    shuffled = list(payments)
    rnd.shuffle(shuffled)
    assert allocate(invoices, payments) == allocate(invoices, shuffled)


@settings(max_examples=examples(200))
@given(invoice_lists, payment_lists)
def test_buckets_sum_to_the_open_amount(invoices: list[Invoice], payments: list[Payment]) -> None:
    aging = age(
        "C1", "n", invoices, payments, as_of=DAY0 + dt.timedelta(days=300), edges=(30, 60, 90)
    )
    assert sum(aging.buckets.values(), D(0)) == aging.balance + aging.credit
    assert aging.overdue <= sum(aging.buckets.values(), D(0))
