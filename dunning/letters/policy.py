"""Which letter a customer gets now: the escalation policy of SPEC §7, as a pure function.

A customer's next level is the highest level its days overdue allow, but at most one above its
last letter; nothing goes out while fewer than that level's gap days have passed since the last
letter, while the overdue amount is within the tolerance, or while the customer is not active.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from dunning.config import Level


@dataclass(frozen=True)
class LastLetter:
    level: int
    issued_on: dt.date


@dataclass(frozen=True)
class Decision:
    customer: str
    current_level: int  # level of the last letter, 0 when none was sent
    due_level: int  # the level the days overdue alone would justify, 0 when none
    next_level: int | None  # what to send now; None: nothing
    manual: bool
    reason: str


def decide(
    customer: str,
    *,
    status: str,
    overdue: Decimal,
    max_days_overdue: int,
    last: LastLetter | None,
    as_of: dt.date,
    levels: Sequence[Level],
    tolerance: Decimal,
    forced_level: int | None = None,
) -> Decision:
    """The policy decision for one customer on `as_of`."""
    current = last.level if last else 0
    due = max((lv.level for lv in levels if max_days_overdue >= lv.min_days), default=0)

    def no(reason: str) -> Decision:
        return Decision(customer, current, due, None, forced_level is not None, reason)

    if status != "active":
        return no(f"status is {status}: only active customers get letters")
    if overdue <= tolerance:
        return no(f"overdue {overdue:,.2f} is within the tolerance of {tolerance:,.2f}")
    if forced_level is not None:
        return Decision(customer, current, due, forced_level, True, "level chosen by hand")
    if due == 0:
        return no("nothing is overdue long enough for the first level")
    target = min(due, current + 1)
    if last is not None:
        gap = next(lv.gap_days for lv in levels if lv.level == target)
        since = (as_of - last.issued_on).days
        if since < gap:
            return no(f"last letter (level {current}) was {since} days ago; the gap is {gap} days")
    if target < due and current == 0:
        why = f"{max_days_overdue} days overdue; the first letter is level 1 (the days allow {due})"
    elif target < due:
        why = f"{max_days_overdue} days overdue allows level {due}; one level up from {current}"
    else:
        why = f"{max_days_overdue} days overdue"
    return Decision(customer, current, due, target, False, why)
