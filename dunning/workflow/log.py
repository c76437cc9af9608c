"""The collection log: every call, visit, letter and promise to pay, and whether promises held.

This module owns the `collection_log` table. `add_entry` writes inside the caller's open
transaction (the letter pack logs its letters that way); `record_entry` opens its own.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import sqlite_utils

from dunning.archive.accounts import get_customer, load_payments
from dunning.archive.db import write_transaction
from dunning.dates import office_day_of, office_zone
from dunning.errors import DunningError
from dunning.money import from_fen, to_fen
from dunning.receivables import ZERO, Payment
from dunning.vocabulary import LOG_KINDS, PROMISE_STATUS, choices

KINDS = ("call", "visit", "letter", "sms", "promise", "legal", "status", "receipt")
KIND_TITLES = dict(LOG_KINDS)
PromiseStatus = Literal["kept", "broken", "pending"]
PROMISE_TITLES: dict[PromiseStatus, str] = {
    k: PROMISE_STATUS[k] for k in ("kept", "broken", "pending")
}


class InvalidEntryError(DunningError):
    """A log entry the clerk asked for does not make sense (kind, promise fields)."""


@dataclass(frozen=True)
class LogEntry:
    id: int
    customer: str
    kind: str
    note: str
    by: str | None
    promise_amount: Decimal | None
    promise_date: dt.date | None
    letter_ref: str | None
    logged_at: str  # ISO timestamp with offset (the office's, for rows written since 2026-12)
    zone: str = "Asia/Shanghai"  # the office's (`[desk] timezone`): which day the entry is on

    @property
    def day(self) -> dt.date:
        """The office's day of the entry, from the instant: older rows carry the server's offset."""
        return office_day_of(self.logged_at, self.zone)

    @property
    def is_promise(self) -> bool:
        return self.promise_amount is not None and self.promise_date is not None


def promise_status(
    amount: Decimal,
    promised_on: dt.date,
    due: dt.date,
    payments: Iterable[tuple[dt.date, Decimal]],
    *,
    as_of: dt.date,
) -> PromiseStatus:
    """Whether a promise made on `promised_on` to pay `amount` by `due` held, as seen on `as_of`.

    Payments count from the day of the promise through the promised date (and not after
    `as_of`, which has not happened yet). The customer has the whole promised day to pay.
    """
    last_day = min(due, as_of)
    paid = sum((value for day, value in payments if promised_on <= day <= last_day), ZERO)
    if paid >= amount:
        return "kept"
    return "broken" if as_of > due else "pending"


def status_of(entry: LogEntry, payments: Iterable[Payment], *, as_of: dt.date) -> PromiseStatus:
    """`promise_status` of one promise entry over its customer's payments."""
    if entry.promise_amount is None or entry.promise_date is None:
        raise ValueError(f"催收记录 {entry.id} 不是付款承诺。")
    return promise_status(
        entry.promise_amount,
        entry.day,
        entry.promise_date,
        ((p.paid_on, p.amount) for p in payments if p.customer_code == entry.customer),
        as_of=as_of,
    )


def _check(
    kind: str, note: str, promise_amount: Decimal | None, promise_date: dt.date | None
) -> None:
    if kind not in KINDS:
        raise InvalidEntryError(f"没有“{kind}”这种记录类型：请用 {choices(LOG_KINDS, KINDS)}。")
    if not note.strip():
        raise InvalidEntryError("内容为空：请写明发生了什么。")
    if (promise_amount is None) != (promise_date is None):
        raise InvalidEntryError("付款承诺要同时给出 --promise-amount 和 --promise-date。")
    if kind == "promise" and promise_amount is None:
        raise InvalidEntryError(
            "承诺付款记录要给出 --promise-amount 和 --promise-date（付多少、哪天付）。"
        )
    if kind != "promise" and promise_amount is not None:
        raise InvalidEntryError(
            f"只有 --kind promise 才能带承诺金额和日期，“{kind}”记录不能：请改用 --kind promise。"
        )
    if promise_amount is not None and promise_amount <= 0:
        raise InvalidEntryError("承诺金额必须大于零。")


def _timestamp(on: dt.date | None, zone: str, now: dt.datetime | None = None) -> str:
    """Now (or `now`, for tests) on the office's clock, so that the stored text's day is the
    office's day whatever the server's zone."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(office_zone(zone))
    if on is not None:
        # Backdated entries keep the time of logging so the order of a day's entries holds.
        now = now.replace(year=on.year, month=on.month, day=on.day)
    return now.isoformat(timespec="seconds")


def add_entry(
    conn: sqlite3.Connection,
    code: str,
    *,
    kind: str,
    note: str,
    by: str | None = None,
    promise_amount: Decimal | None = None,
    promise_date: dt.date | None = None,
    letter_ref: str | None = None,
    on: dt.date | None = None,
    zone: str = "Asia/Shanghai",
    now: dt.datetime | None = None,
) -> LogEntry:
    """Log one entry inside the caller's open write transaction (`conn.execute` only), on the
    office's day in `zone` (`now` stands for the clock in tests)."""
    _check(kind, note, promise_amount, promise_date)
    logged_at = _timestamp(on, zone, now)
    if promise_date is not None and promise_date < dt.date.fromisoformat(logged_at[:10]):
        raise InvalidEntryError(
            f"承诺付款日 {promise_date.isoformat()} 早于记录当天：请核对承诺付款日。"
        )
    customer = get_customer(conn, code).code
    cur = conn.execute(
        "INSERT INTO collection_log (customer_code, kind, note, by, promise_amount_fen,"
        " promise_date, letter_ref, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            customer,
            kind,
            note.strip(),
            by,
            to_fen(promise_amount) if promise_amount is not None else None,
            promise_date.isoformat() if promise_date is not None else None,
            letter_ref,
            logged_at,
        ],
    )
    return LogEntry(
        int(cur.lastrowid or 0),
        customer,
        kind,
        note.strip(),
        by,
        promise_amount,
        promise_date,
        letter_ref,
        logged_at,
        zone,
    )


def record_entry(
    db: sqlite_utils.Database,
    code: str,
    *,
    kind: str,
    note: str,
    by: str | None = None,
    promise_amount: Decimal | None = None,
    promise_date: dt.date | None = None,
    letter_ref: str | None = None,
    on: dt.date | None = None,
    zone: str = "Asia/Shanghai",
) -> LogEntry:
    """`add_entry` in a write transaction of its own."""
    with write_transaction(db) as conn:
        return add_entry(
            conn,
            code,
            kind=kind,
            note=note,
            by=by,
            promise_amount=promise_amount,
            promise_date=promise_date,
            letter_ref=letter_ref,
            on=on,
            zone=zone,
        )


_ENTRY_COLUMNS = (
    "id, customer_code, kind, note, by, promise_amount_fen, promise_date, letter_ref, logged_at"
)


def _entry(row: tuple[object, ...], zone: str) -> LogEntry:
    fen, due = row[5], row[6]
    return LogEntry(
        id=int(str(row[0])),
        customer=str(row[1]),
        kind=str(row[2]),
        note=str(row[3]),
        by=None if row[4] is None else str(row[4]),
        promise_amount=from_fen(int(str(fen))) if fen is not None else None,
        promise_date=dt.date.fromisoformat(str(due)) if due is not None else None,
        letter_ref=None if row[7] is None else str(row[7]),
        logged_at=str(row[8]),
        zone=zone,
    )


def list_entries(
    db: sqlite_utils.Database,
    code: str | None = None,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    zone: str = "Asia/Shanghai",
) -> list[LogEntry]:
    """Log entries, oldest first: one customer's (code or name) or everyone's, by the office's
    days in `zone`."""
    where, params = [], []
    if code is not None:
        where.append("customer_code = ?")
        params.append(get_customer(db, code).code)
    # The stored text's day is the office's for new rows; an older row's offset may put it a
    # day either side, so the SQL takes a day more each way and `day` decides.
    if since is not None:
        where.append("substr(logged_at, 1, 10) >= ?")
        params.append((since - dt.timedelta(days=1)).isoformat())
    if until is not None:
        where.append("substr(logged_at, 1, 10) <= ?")
        params.append((until + dt.timedelta(days=1)).isoformat())
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = db.execute(
        f"SELECT {_ENTRY_COLUMNS} FROM collection_log {clause} ORDER BY logged_at, id", params
    ).fetchall()
    entries = [_entry(row, zone) for row in rows]
    entries.sort(key=lambda e: (_instant(e.logged_at, zone), e.id))  # rows of mixed offsets
    return [
        e
        for e in entries
        if (since is None or e.day >= since) and (until is None or e.day <= until)
    ]


def _instant(stamp: str, zone: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(stamp)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=office_zone(zone))


def entry_json(entry: LogEntry, status: PromiseStatus | None) -> dict[str, object]:
    """One entry as `log list --json` prints it (amounts as strings)."""
    return {
        "id": entry.id,
        "customer": entry.customer,
        "at": entry.logged_at,
        "kind": entry.kind,
        "note": entry.note,
        "by": entry.by,
        "promise_amount": (
            f"{entry.promise_amount:.2f}" if entry.promise_amount is not None else None
        ),
        "promise_date": entry.promise_date.isoformat() if entry.promise_date else None,
        "promise_status": status,
        "letter": entry.letter_ref,
    }


def promise_statuses(
    db: sqlite_utils.Database, entries: Iterable[LogEntry], *, as_of: dt.date
) -> dict[int, PromiseStatus]:
    """The status on `as_of` of every promise among `entries`, by entry id."""
    promises = [e for e in entries if e.is_promise]
    payments = {code: load_payments(db, code) for code in {e.customer for e in promises}}
    return {e.id: status_of(e, payments[e.customer], as_of=as_of) for e in promises}
