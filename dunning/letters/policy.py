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
from dunning.vocabulary import CUSTOMER_STATUS, title


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
        return no(f"客户状态为{title(CUSTOMER_STATUS, status)}：只有状态正常的客户会收到函件")
    if overdue <= tolerance:
        return no(f"逾期金额 {overdue:,.2f} 元未超过容差 {tolerance:,.2f} 元")
    if forced_level is not None:
        return Decision(customer, current, due, forced_level, True, "手工指定函件级别")
    if due == 0:
        return no("逾期天数还不到第一级函件的要求")
    target = min(due, current + 1)
    if last is not None:
        gap = next(lv.gap_days for lv in levels if lv.level == target)
        since = (as_of - last.issued_on).days
        if since < gap:
            return no(f"上一封函件（第 {current} 级）是 {since} 天前发的，间隔需满 {gap} 天")
    if target < due and current == 0:
        why = f"逾期 {max_days_overdue} 天；第一封函件从第 1 级开始（按天数可到第 {due} 级）"
    elif target < due:
        why = f"逾期 {max_days_overdue} 天，可到第 {due} 级；每次只升一级（上次第 {current} 级）"
    else:
        why = f"逾期 {max_days_overdue} 天"
    return Decision(customer, current, due, target, False, why)
