"""The escalation policy: one level per letter, the gap, the tolerance, the status."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dunning.config import default_config
from dunning.letters.policy import LastLetter, decide

LEVELS = default_config().levels
AS_OF = dt.date(2025, 6, 30)
TOL = Decimal("100.00")


def go(days: int, last: LastLetter | None = None, *, overdue: str = "5000", status: str = "active"):
    return decide(
        "C1",
        status=status,
        overdue=Decimal(overdue),
        max_days_overdue=days,
        last=last,
        as_of=AS_OF,
        levels=LEVELS,
        tolerance=TOL,
    )


def test_first_letter_is_level_1_even_when_very_late() -> None:
    d = go(200)
    assert (d.current_level, d.due_level, d.next_level) == (0, 4, 1)
    assert "第一封函件从第 1 级开始" in d.reason


def test_rises_one_level_after_the_gap() -> None:
    last = LastLetter(2, AS_OF - dt.timedelta(days=14))
    assert go(95, last).next_level == 3


def test_nothing_inside_the_gap() -> None:
    d = go(95, LastLetter(2, AS_OF - dt.timedelta(days=13)))
    assert d.next_level is None
    assert "13 天前" in d.reason


def test_tolerance_status_and_not_overdue() -> None:
    assert go(40, overdue="100.00").next_level is None
    assert go(40, overdue="100.01").next_level == 1
    assert go(40, status="disputed").next_level is None
    assert "有争议" in go(40, status="disputed").reason
    assert go(0).next_level is None


def test_forced_level_is_manual() -> None:
    d = decide(
        "C1",
        status="active",
        overdue=Decimal(500),
        max_days_overdue=3,
        last=None,
        as_of=AS_OF,
        levels=LEVELS,
        tolerance=TOL,
        forced_level=4,
    )
    assert d.next_level == 4 and d.manual


@given(
    days=st.integers(-30, 400),
    last_level=st.integers(0, 4),
    since=st.integers(0, 100),
    overdue=st.decimals(min_value=0, max_value=10**6, places=2),
)
def test_never_more_than_one_level_up_never_inside_the_gap(
    days: int, last_level: int, since: int, overdue: Decimal
) -> None:
    last = LastLetter(last_level, AS_OF - dt.timedelta(days=since)) if last_level else None
    d = go(days, last, overdue=str(overdue))
    if d.next_level is None:
        return
    assert d.next_level <= last_level + 1
    assert d.next_level <= d.due_level
    assert LEVELS[d.next_level - 1].min_days <= days
    assert overdue > TOL
    if last is not None:
        assert since >= LEVELS[d.next_level - 1].gap_days


def test_a_simulated_quarter_escalates_weekly_at_most_once_per_gap() -> None:
    last: LastLetter | None = None
    sent = []
    start = dt.date(2025, 1, 1)  # due date; the customer never pays
    for week in range(0, 20):
        day = start + dt.timedelta(days=7 * week + 1)
        d = decide(
            "C1",
            status="active",
            overdue=Decimal(5000),
            max_days_overdue=(day - start).days,
            last=last,
            as_of=day,
            levels=LEVELS,
            tolerance=TOL,
        )
        if d.next_level:
            sent.append(((day - start).days, d.next_level))
            last = LastLetter(d.next_level, day)
    # Every 14 days a letter at the level the days allow: 1, 1, 1, 2, 2, 3, 3, 4, …
    assert sent == [
        (1, 1),
        (15, 1),
        (29, 1),
        (43, 2),
        (57, 2),
        (71, 3),
        (85, 3),
        (99, 4),
        (113, 4),
        (127, 4),
    ]
