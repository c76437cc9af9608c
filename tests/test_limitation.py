"""The limitation rule (诉讼时效) as pure functions: golden cases and Hypothesis properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dunning.workflow.limitation import (
    Claim,
    Event,
    UnprovenLetter,
    add_years,
    expiry,
    last_interruption,
    position,
    position_json,
    positions,
)

D = dt.date
DUE = D(2023, 3, 15)


def claim(invoice: str = "FP1", due: dt.date = DUE, customer: str = "C1") -> Claim:
    return Claim(customer, "客户", invoice, due - dt.timedelta(days=30), due, Decimal("1000.00"))


# -- golden cases, dates written out by hand -------------------------------------------------


def test_add_years_keeps_the_day_and_turns_29_february_into_28() -> None:
    assert add_years(D(2023, 3, 15), 3) == D(2026, 3, 15)
    assert add_years(D(2024, 2, 29), 3) == D(2027, 2, 28)
    assert add_years(D(2024, 2, 29), 4) == D(2028, 2, 29)
    assert add_years(D(2023, 12, 31), 3) == D(2026, 12, 31)
    assert add_years(D(2024, 2, 28), 3) == D(2027, 2, 28)


def test_no_event_runs_three_years_from_the_due_date() -> None:
    p = position(claim(due=D(2023, 3, 15)), [], [], as_of=D(2025, 12, 1), years=3)
    assert p.expires == D(2026, 3, 15)
    assert p.days_left == 104  # 2025-12-01 → 2026-03-15
    assert p.last_event is None
    assert p.advice.startswith("send a demand with tracked delivery")


def test_a_delivered_letter_restarts_the_period_on_its_delivery_day() -> None:
    letter = Event("delivered", "C1", D(2025, 7, 3), "document 12", frozenset({"FP1"}), "CS-1")
    assert expiry(claim(), [letter], as_of=D(2025, 12, 1), years=3) == D(2028, 7, 3)


def test_the_latest_of_several_events_counts() -> None:
    events = [
        Event("payment", "C1", D(2024, 1, 10), "payment 100.00", None),
        Event("promise", "C1", D(2024, 6, 30), "log 4", None),
        Event("statement", "C1", D(2024, 3, 1), "document 9", frozenset({"FP1"})),
    ]
    last = last_interruption(claim(), events, as_of=D(2025, 1, 1))
    assert last is not None and last.kind == "promise"
    assert expiry(claim(), events, as_of=D(2025, 1, 1), years=3) == D(2027, 6, 30)


def test_an_event_after_the_as_of_date_is_ignored() -> None:
    later = Event("delivered", "C1", D(2026, 1, 5), "CS-2", frozenset({"FP1"}))
    assert expiry(claim(), [later], as_of=D(2026, 1, 4), years=3) == D(2026, 3, 15)
    assert expiry(claim(), [later], as_of=D(2026, 1, 5), years=3) == D(2029, 1, 5)


def test_a_period_that_has_ended_is_listed_as_expired() -> None:
    # 2025-05-31 is a Saturday: Monday 2025-06-02 is the last day (art. 201), Tuesday is late
    p = position(claim(due=D(2022, 5, 31)), [], [], as_of=D(2025, 6, 3), years=3)
    assert p.expires == D(2025, 5, 31) and p.days_left == -3 and p.expired
    assert p.advice.startswith("expired")


def test_a_referenced_payment_restarts_only_its_invoice() -> None:
    pay = Event("payment", "C1", D(2024, 5, 20), "payment 500.00", frozenset({"FP1"}))
    one, other = claim("FP1"), claim("FP2")
    assert expiry(one, [pay], as_of=D(2025, 1, 1), years=3) == D(2027, 5, 20)
    assert expiry(other, [pay], as_of=D(2025, 1, 1), years=3) == D(2026, 3, 15)


def test_an_unreferenced_payment_restarts_every_invoice_of_that_customer_only() -> None:
    pay = Event("payment", "C1", D(2024, 5, 20), "payment 500.00", None)
    assert expiry(claim("FP2"), [pay], as_of=D(2025, 1, 1), years=3) == D(2027, 5, 20)
    stranger = claim("FP9", customer="C2")
    assert expiry(stranger, [pay], as_of=D(2025, 1, 1), years=3) == D(2026, 3, 15)


def test_a_sent_but_unproven_letter_interrupts_nothing_and_is_named() -> None:
    sent = UnprovenLetter("CS-2025-000007", "C1", D(2025, 11, 1), frozenset({"FP1"}))
    p = position(claim(), [], [sent], as_of=D(2025, 12, 1), years=3)
    assert p.expires == D(2026, 3, 15)
    assert p.unproven == ("CS-2025-000007",)
    assert "CS-2025-000007" in p.advice
    assert position_json(p)["unproven"] == [
        {"letter": "CS-2025-000007", "status": "sent, unproven"}
    ]


def test_thirty_days_left_means_go_to_court() -> None:
    p = position(claim(due=D(2023, 1, 31)), [], [], as_of=D(2026, 1, 1), years=3)
    assert p.days_left == 30
    assert "支付令" in p.advice


def test_positions_lists_within_the_window_soonest_first_and_skips_paid_and_not_yet_due() -> None:
    paid = Claim("C1", "客户", "PAID", D(2022, 1, 1), D(2022, 2, 1), Decimal("0.00"))
    future = claim("LATER", due=D(2026, 1, 1))
    late = claim("FP-A", due=D(2023, 2, 1))
    later = claim("FP-B", due=D(2023, 1, 15))
    far = claim("FP-C", due=D(2025, 1, 1))
    found = positions(
        [paid, future, late, later, far], [], as_of=D(2025, 12, 1), years=3, within=180
    )
    assert [p.claim.invoice_no for p in found] == ["FP-B", "FP-A"]
    assert len(positions([far], [], as_of=D(2025, 12, 1), years=3, within=None)) == 1


def test_position_json_has_the_spec_shape() -> None:
    event = Event("signed", "C1", D(2024, 4, 2), "document 5", frozenset({"FP1"}), "CS-1")
    p = position(claim(), [event], [], as_of=D(2025, 1, 1), years=3)
    assert position_json(p) == {
        "customer": "C1",
        "name": "客户",
        "invoice": "FP1",
        "due": "2023-03-15",
        "open": "1000.00",
        "expires": "2027-04-02",
        "days_left": 821,
        "last_event": {
            "kind": "signed",
            "date": "2024-04-02",
            "evidence": "document 5",
            "letter": "CS-1",
        },
        "unproven": [],
        "advice": "get the statement signed 相符, or send a demand with tracked delivery",
        "last_day": "2027-04-02",
        "returned": [],
    }


# -- properties --------------------------------------------------------------------------------

days = st.dates(min_value=D(2000, 1, 1), max_value=D(2040, 12, 31))
kinds = st.sampled_from(["delivered", "signed", "statement", "promise", "payment"])
invoice_sets = st.one_of(
    st.none(), st.frozensets(st.sampled_from(["FP1", "FP2", "FP3"]), min_size=1)
)
events = st.builds(
    Event,
    kind=kinds,
    customer=st.sampled_from(["C1", "C2"]),
    date=days,
    evidence=st.just("proof"),
    invoices=invoice_sets,
)
claims = st.builds(
    claim, invoice=st.sampled_from(["FP1", "FP2", "FP3"]), due=days, customer=st.just("C1")
)


@given(claims, st.lists(events, max_size=6), events, days, st.integers(1, 10))
def test_an_interrupting_event_never_shortens_a_period(
    c: Claim, before: list[Event], extra: Event, as_of: dt.date, years: int
) -> None:
    without = expiry(c, before, as_of=as_of, years=years)
    assert expiry(c, [*before, extra], as_of=as_of, years=years) >= without


@given(claims, st.lists(events, max_size=6), st.lists(events, max_size=4), days)
def test_events_after_the_as_of_date_change_nothing(
    c: Claim, known: list[Event], future: list[Event], as_of: dt.date
) -> None:
    later = [
        Event(e.kind, e.customer, as_of + dt.timedelta(days=1 + i), e.evidence, e.invoices)
        for i, e in enumerate(future)
    ]
    assert expiry(c, known + later, as_of=as_of, years=3) == expiry(c, known, as_of=as_of, years=3)


@given(claims, days, days)
def test_a_payment_on_one_invoice_does_not_restart_another(
    c: Claim, paid_on: dt.date, as_of: dt.date
) -> None:
    other = "FP2" if c.invoice_no != "FP2" else "FP3"
    referenced = Event("payment", "C1", paid_on, "payment", frozenset({other}))
    assert expiry(c, [referenced], as_of=as_of, years=3) == add_years(c.due, 3)
    unreferenced = Event("payment", "C1", paid_on, "payment", None)
    expected = add_years(paid_on if c.due < paid_on <= as_of else c.due, 3)
    assert expiry(c, [unreferenced], as_of=as_of, years=3) == expected


@given(days, st.integers(1, 30))
def test_add_years_lands_on_the_same_day_or_the_last_day_of_february(
    day: dt.date, years: int
) -> None:
    later = add_years(day, years)
    assert later.year == day.year + years and later.month == day.month
    assert later.day == day.day or (day.month, day.day, later.day) == (2, 29, 28)
