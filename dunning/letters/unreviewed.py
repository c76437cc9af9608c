"""No letter demands money that may already be in the bank (SPEC §11): a customer with a
receipt awaiting review (`probable`, or `unmatched` of the claim's amount) that would cover
the claim is held back from a pack until a clerk reviews it; `--ignore-unreviewed` overrides,
and the override is written to the collection log."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import TYPE_CHECKING

import sqlite_utils

from dunning.archive.bank.review import covering
from dunning.config import Config
from dunning.letters.policy import Decision
from dunning.money import format_amount
from dunning.receivables import CustomerAging
from dunning.workflow.log import add_entry

if TYPE_CHECKING:
    from dunning.letters.pack import Plan


def unreviewed_hold(
    db: sqlite_utils.Database | sqlite3.Connection,
    config: Config,
    aging: CustomerAging,
    decision: Decision,
    *,
    ignore: bool,
) -> tuple[Decision, tuple[str, ...]]:
    """The decision, held back when an unreviewed receipt would cover the claim; warnings."""
    if decision.next_level is None:
        return decision, ()
    found = covering(db, aging.customer, aging.overdue, config.bank_fee_tolerance)
    if not found:
        return decision, ()
    ids = "、".join(f"#{r.id} {format_amount(r.amount)}（{r.received_on}）" for r in found)
    if ignore:
        return decision, (
            f"{aging.customer} {aging.name}：到账待核对 {ids} 可能已付清这笔欠款，"
            "仍按 --ignore-unreviewed 发出函件",
        )
    held = dataclasses.replace(
        decision,
        next_level=None,
        reason=f"到账待核对 {ids} 可能已付清这笔欠款：请先核对（`dunning bank review`），"
        "或加 --ignore-unreviewed 生成",
    )
    return held, ()


def overridden(plan: Plan, sent: set[str]) -> list[str]:
    """The customers a letter went to over an unreviewed receipt (their warning says so)."""
    return [
        c.customer.code
        for c in plan.selected
        if c.customer.code in sent and any("--ignore-unreviewed" in w for w in c.warnings)
    ]


def log_overrides(conn: sqlite3.Connection, codes: list[str], *, by: str) -> None:
    """Record in the collection log that a letter went out over an unreviewed receipt."""
    for code in codes:
        add_entry(
            conn,
            code,
            kind="letter",
            note="催款函发出时仍有待核对到账（--ignore-unreviewed）",
            by=by,
        )
