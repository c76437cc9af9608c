"""Customer status (active, disputed, litigation, excluded): changes, history and the log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlite_utils

from dunning.archive.db import write_transaction
from dunning.errors import DunningError, NotFoundError
from dunning.workflow.log import add_entry

STATUSES = ("active", "disputed", "litigation", "excluded")
STATUS_TITLES = {
    "active": "正常",
    "disputed": "有争议",
    "litigation": "诉讼中",
    "excluded": "不催收",
}


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
    db: sqlite_utils.Database, code: str, status: str, *, note: str | None = None
) -> StatusChange:
    """Give customer `code` (or name) a new status, recorded in status_changes and the log."""
    if status not in STATUSES:
        raise InvalidStatusError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}.")
    note = note.strip() if note and note.strip() else None
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    with write_transaction(db) as conn:
        row = conn.execute(
            "SELECT code, name, status FROM customers WHERE code = ? OR name = ?"
            " ORDER BY code = ? DESC",
            [code, code, code],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no customer {code!r}; see `dunning customers` for the codes.")
        customer, name, old = str(row[0]), str(row[1]), str(row[2])
        if old == status:
            return StatusChange(customer, name, old, status, note, now, changed=False)
        conn.execute(
            "UPDATE customers SET status = ?, updated_at = ? WHERE code = ?",
            [status, now, customer],
        )
        conn.execute(
            "INSERT INTO status_changes (customer_code, old_status, new_status, note, changed_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [customer, old, status, note, now],
        )
        summary = f"{old} → {status}" + (f": {note}" if note else "")
        add_entry(conn, customer, kind="status", note=summary)
    return StatusChange(customer, name, old, status, note, now, changed=True)


def status_history(db: sqlite_utils.Database, code: str) -> list[StatusChange]:
    """Every recorded status change of one customer, oldest first."""
    row = db.execute(
        "SELECT code, name FROM customers WHERE code = ? OR name = ? ORDER BY code = ? DESC",
        [code, code, code],
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no customer {code!r}; see `dunning customers` for the codes.")
    rows = db.execute(
        "SELECT old_status, new_status, note, changed_at FROM status_changes"
        " WHERE customer_code = ? ORDER BY changed_at, id",
        [row[0]],
    ).fetchall()
    return [StatusChange(row[0], row[1], r[0], r[1], r[2], r[3], changed=True) for r in rows]
