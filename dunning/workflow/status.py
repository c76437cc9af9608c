"""Customer status (active, disputed, litigation, excluded): changes, history and the log."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

import sqlite_utils

from dunning.archive.accounts import get_customer
from dunning.archive.db import write_transaction
from dunning.errors import DunningError
from dunning.vocabulary import CUSTOMER_STATUS, choices, title
from dunning.workflow.log import add_entry

STATUSES = ("active", "disputed", "litigation", "excluded")
STATUS_TITLES = dict(CUSTOMER_STATUS)


class InvalidStatusError(DunningError):
    """A status outside SPEC §3's four."""


@dataclass(frozen=True)
class StatusChange:
    customer: str
    name: str
    old_status: str
    new_status: str
    note: str | None
    changed_at: str
    changed: bool  # False when the customer already had the status: nothing was written


def set_status(
    db: sqlite_utils.Database,
    code: str,
    status: str,
    *,
    note: str | None = None,
    by: str | None = None,
) -> StatusChange:
    """Give customer `code` (or name) a new status, recorded in status_changes and the log.

    No permission check here: `workflow.actions.set_status` is the write an actor makes.
    """
    with write_transaction(db) as conn:
        return change_status(conn, code, status, note=note, by=by)


def change_status(
    conn: sqlite3.Connection,
    code: str,
    status: str,
    *,
    note: str | None = None,
    by: str | None = None,
) -> StatusChange:
    """`set_status` inside the caller's open write transaction (`conn.execute` only)."""
    if status not in STATUSES:
        raise InvalidStatusError(
            f"没有“{status}”这种客户状态：请用 {choices(CUSTOMER_STATUS, STATUSES)}。"
        )
    note = note.strip() if note and note.strip() else None
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    found = get_customer(conn, code)
    customer, name, old = found.code, found.name, found.status
    if old == status:
        return StatusChange(customer, name, old, status, note, now, changed=False)
    conn.execute(
        "UPDATE customers SET status = ?, updated_at = ? WHERE code = ?", [status, now, customer]
    )
    conn.execute(
        "INSERT INTO status_changes (customer_code, old_status, new_status, note, changed_at,"
        " changed_by) VALUES (?, ?, ?, ?, ?, ?)",
        [customer, old, status, note, now, by],
    )
    summary = f"{title(CUSTOMER_STATUS, old)} → {title(CUSTOMER_STATUS, status)}" + (
        f"：{note}" if note else ""
    )
    add_entry(conn, customer, kind="status", note=summary, by=by)
    return StatusChange(customer, name, old, status, note, now, changed=True)


def status_history(db: sqlite_utils.Database, code: str) -> list[StatusChange]:
    """Every recorded status change of one customer, oldest first."""
    found = get_customer(db, code)
    rows = db.execute(
        "SELECT old_status, new_status, note, changed_at FROM status_changes"
        " WHERE customer_code = ? ORDER BY changed_at, id",
        [found.code],
    ).fetchall()
    return [
        StatusChange(found.code, found.name, r[0], r[1], r[2], r[3], changed=True) for r in rows
    ]
