"""The writes a person makes, with their rules and their actor: THE place the CLI and the web
call to change the collection record.

Each action checks the actor's role and the business rules (reserved log kinds, the statuses
only a manager sets or lifts, no log entry dated in the future), writes, and records who did
it in `audit_log`, all in one transaction: a refused write leaves nothing behind, and an
accepted one is never unaudited. The CLI passes `actors.os_actor()`, the web desk the
logged-in account.

Building blocks for new actions (letter steps, visits): `require_role`, `refuse_future` and
`record_audit` inside `write_transaction`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal

import sqlite_utils

from dunning.actors import Actor
from dunning.archive.accounts import get_customer
from dunning.archive.db import write_transaction
from dunning.dates import office_today
from dunning.errors import DunningError
from dunning.vocabulary import (
    CUSTOMER_STATUS,
    LOG_KINDS,
    RESERVED_LOG_KINDS,
    ROLE_TITLES,
    ROLES,
    title,
)
from dunning.workflow.log import LogEntry, add_entry
from dunning.workflow.status import StatusChange, change_status

# Litigation and exclusion are set and lifted by a manager only: a clerk setting such a
# customer back to active would put it in the next pack while the lawyers have the case.
MANAGER_STATUSES = frozenset({"litigation", "excluded"})


class ActionRefused(DunningError):
    """A write the desk's rules do not allow (a reserved kind, a future date): nothing written."""


class NotPermitted(ActionRefused):
    """The actor's role does not allow this write (the web answers 403)."""


def require_role(actor: Actor, role: str, what: str) -> None:
    """Refuse unless `actor` holds `role` or a higher one."""
    held = ROLES.index(actor.role) if actor.role in ROLES else -1
    if held < ROLES.index(role):
        raise NotPermitted(f"{actor.name} 没有权限{what}（需要{ROLE_TITLES[role]}权限）。")


def refuse_future(day: dt.date | None, what: str, *, today: dt.date | None = None) -> None:
    """A record of what happened is never dated after today."""
    today = today or office_today()
    if day is not None and day > today:
        raise ActionRefused(
            f"{what} {day.isoformat()} 在今天（{today.isoformat()}）之后：只能记录已经发生的事。"
        )


def record_audit(conn: sqlite3.Connection, actor: Actor, action: str, detail: str) -> None:
    """One line of the audit trail, inside the caller's open write transaction."""
    record_audit_line(conn, actor.label, action, detail)


def record_audit_line(conn: sqlite3.Connection, who: str, action: str, detail: str) -> None:
    """The one writer of `audit_log`: `who` as the trail names them (an account, or an actor's
    label), inside the caller's open write transaction."""
    conn.execute(
        "INSERT INTO audit_log (at, user, action, detail) VALUES (?, ?, ?, ?)",
        [dt.datetime.now().astimezone().isoformat(timespec="seconds"), who, action, detail],
    )


def audit(db: sqlite_utils.Database, actor: Actor, action: str, detail: str) -> None:
    """Record a write another module made (a pack, a letter step, an account change) in a
    transaction of its own, until that write moves in here as an action of its own."""
    with write_transaction(db) as conn:
        record_audit(conn, actor, action, detail)


def check_log_kind(kind: str) -> None:
    """The kinds the desk writes itself (status change, letter, signed receipt) are refused."""
    if kind in RESERVED_LOG_KINDS:
        raise ActionRefused(
            f"“{title(LOG_KINDS, kind)}”（{kind}）记录由系统自动写入，不能手工添加；"
            "改变客户状态请用“设置状态”。"
        )


def add_log(
    db: sqlite_utils.Database,
    actor: Actor,
    customer: str,
    *,
    kind: str,
    note: str,
    promise_amount: Decimal | None = None,
    promise_date: dt.date | None = None,
    on: dt.date | None = None,
    by: str | None = None,
    today: dt.date | None = None,
    zone: str = "Asia/Shanghai",
) -> LogEntry:
    """Log a call, visit, SMS, promise or legal step; `by` (default: the actor) did it, on
    the office's day in `zone` (`[desk] timezone`)."""
    require_role(actor, "clerk", "添加催收记录")
    check_log_kind(kind)
    refuse_future(on, "记录日期", today=today or office_today(zone))
    with write_transaction(db) as conn:
        entry = add_entry(
            conn,
            customer,
            kind=kind,
            note=note,
            by=by or actor.name,
            promise_amount=promise_amount,
            promise_date=promise_date,
            on=on,
            zone=zone,
        )
        kind_title = title(LOG_KINDS, entry.kind)
        record_audit(conn, actor, "log add", f"{entry.customer} {kind_title} #{entry.id}")
    return entry


def set_status(
    db: sqlite_utils.Database, actor: Actor, customer: str, status: str, *, note: str | None = None
) -> StatusChange:
    """Change a customer's status; litigation and excluded are set and lifted by a manager."""
    require_role(actor, "clerk", "改变客户状态")
    with write_transaction(db) as conn:
        current = get_customer(conn, customer).status
        for guarded in (status, current):
            if guarded in MANAGER_STATUSES:
                what = f"把客户设为或移出“{title(CUSTOMER_STATUS, guarded)}”"
                require_role(actor, "manager", what)
        change = change_status(conn, customer, status, note=note, by=actor.name)
        if change.changed:
            old, new = (title(CUSTOMER_STATUS, s) for s in (change.old_status, change.new_status))
            detail = f"{change.customer} {old} → {new}"
            record_audit(conn, actor, "set-status", detail)
    return change
