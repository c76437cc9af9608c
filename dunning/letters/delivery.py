"""Proof of delivery: a letter's way from issued to sent, delivered and signed (SPEC §10).

This module owns the `letter_delivery` and `address_flags` tables. A letter is `issued` when
the pack writes it; `sent` with a channel, tracking number and date; `delivered` on a date,
optionally with an archived proof (the courier's delivery record); `signed` when its signed
receipt comes back (which implies delivered); or `returned` with a reason, which flags the
customer's address. Only delivered and signed letters prove that a demand reached the debtor.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from dunning.archive.db import write_transaction
from dunning.errors import DunningError, NotFoundError
from dunning.vocabulary import DELIVERY_CHANNELS, LETTER_STATUS, REPLY_KINDS
from dunning.workflow.log import add_entry

CHANNELS = ("ems", "sf", "post", "courier", "hand", "email")
CHANNEL_TITLES = dict(DELIVERY_CHANNELS)
STATUSES = ("issued", "sent", "delivered", "signed", "returned")
STATUS_TITLES = dict(LETTER_STATUS)
REPLIES = ("agreed", "disputed")
REPLY_TITLES = dict(REPLY_KINDS)
MAX_TRACKING = 40
MAX_REASON = 200


class DeliveryError(DunningError):
    """A delivery step that does not fit the letter's history; nothing was changed."""


@dataclass(frozen=True)
class Delivery:
    """One letter and where it is on its way to the customer."""

    ref: str
    customer: str
    level: int
    level_name: str
    issued_on: dt.date
    status: str  # one of STATUSES
    channel: str | None = None
    tracking_no: str | None = None
    sent_on: dt.date | None = None
    delivered_on: dt.date | None = None
    evidence_document: int | None = None
    returned_on: dt.date | None = None
    return_reason: str | None = None
    signed_on: dt.date | None = None
    signed_document: int | None = None
    reply: str | None = None  # agreed (相符) | disputed (不符)
    reply_on: dt.date | None = None
    reply_document: int | None = None

    @property
    def proven_on(self) -> dt.date | None:
        """The day the letter is proven to have reached the customer, if it is."""
        days = [d for d in (self.delivered_on, self.signed_on) if d is not None]
        return min(days) if days else None

    @property
    def proof(self) -> str:
        """What proves delivery: `document 12`, `signed receipt (document 7)`, or the ref."""
        if self.evidence_document is not None:
            return f"document {self.evidence_document}"
        if self.signed_document is not None:
            return f"document {self.signed_document}"
        if self.reply_document is not None and self.delivered_on == self.reply_on:
            return f"document {self.reply_document}"  # the answer is what proves it arrived
        return self.ref

    def letter_json(self) -> dict[str, Any]:
        """The letter with its delivery, as the `letter` commands print it with --json."""
        return {"ref": self.ref, "customer": self.customer, **self.to_json()}

    def to_json(self) -> dict[str, Any]:
        """Delivery fields added to a letter's JSON (SPEC §4 `customer CODE --json`)."""
        return {
            "status": self.status,
            "channel": self.channel,
            "tracking": self.tracking_no,
            "sent_on": _iso(self.sent_on),
            "delivered_on": _iso(self.proven_on),
            "evidence_document": self.evidence_document,
            "returned_on": _iso(self.returned_on),
            "return_reason": self.return_reason,
            "signed_on": _iso(self.signed_on),
            "reply": self.reply,
            "reply_on": _iso(self.reply_on),
            "reply_document": self.reply_document,
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _day(raw: object) -> dt.date | None:
    return dt.date.fromisoformat(str(raw)[:10]) if raw else None


_SELECT = (
    "SELECT l.ref, l.customer_code, l.level, l.level_name, l.issued_on, l.status, l.signed_at,"
    " l.signed_document_id, d.status, d.channel, d.tracking_no, d.sent_on, d.delivered_on,"
    " d.evidence_document_id, d.returned_on, d.return_reason, d.reply, d.reply_on,"
    " d.reply_document_id FROM letters l LEFT JOIN letter_delivery d ON d.letter_id = l.id"
)


def _delivery(row: Sequence[Any]) -> Delivery:
    signed = row[5] == "signed"
    status = "signed" if signed else (row[8] or "issued")
    return Delivery(
        ref=row[0],
        customer=row[1],
        level=int(row[2]),
        level_name=row[3],
        issued_on=dt.date.fromisoformat(row[4]),
        status=status,
        channel=row[9],
        tracking_no=row[10],
        sent_on=_day(row[11]),
        delivered_on=_day(row[12]),
        evidence_document=row[13],
        returned_on=_day(row[14]),
        return_reason=row[15],
        signed_on=_day(row[6]) if signed else None,
        signed_document=row[7],
        reply=row[16],
        reply_on=_day(row[17]),
        reply_document=row[18],
    )


def load_deliveries(
    db: sqlite_utils.Database | sqlite3.Connection, code: str | None = None
) -> list[Delivery]:
    """Every letter (of one customer, or all), oldest first, with its delivery state."""
    where, params = (" WHERE l.customer_code = ?", [code]) if code else ("", [])
    rows = db.execute(f"{_SELECT}{where} ORDER BY l.issued_on, l.ref", params).fetchall()
    return [_delivery(r) for r in rows]


def get_delivery(db: sqlite_utils.Database | sqlite3.Connection, ref: str) -> Delivery:
    row = db.execute(f"{_SELECT} WHERE l.ref = ?", [ref.strip().upper()]).fetchone()
    if row is None:
        raise NotFoundError(f"没有函件“{ref}”：`dunning customer 客户编号` 列出每个客户的函件。")
    return _delivery(row)


def letters_proven_by(db: sqlite_utils.Database | sqlite3.Connection, document: int) -> list[str]:
    """The letters whose delivery (or statement reply) the archived document proves."""
    rows = db.execute(
        "SELECT l.ref FROM letter_delivery d JOIN letters l ON l.id = d.letter_id"
        " WHERE d.evidence_document_id = ? OR d.reply_document_id = ? ORDER BY l.ref",
        [document, document],
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class AddressFlag:
    customer: str
    letter_ref: str
    reason: str
    flagged_on: dt.date

    def to_json(self) -> dict[str, str]:
        return {
            "letter": self.letter_ref,
            "reason": self.reason,
            "flagged_on": self.flagged_on.isoformat(),
        }


def address_flags(
    db: sqlite_utils.Database | sqlite3.Connection,
    code: str | None = None,
    *,
    include_cleared: bool = False,
) -> list[AddressFlag]:
    """Open address flags (a letter came back), oldest first; `include_cleared`: every time a
    letter came back, also those a later delivery cleared."""
    where, params = (" AND customer_code = ?", [code]) if code else ("", [])
    state = "1 = 1" if include_cleared else "cleared_at IS NULL"
    rows = db.execute(
        "SELECT customer_code, letter_ref, reason, flagged_on FROM address_flags"
        f" WHERE {state}{where} ORDER BY flagged_on, id",
        params,
    ).fetchall()
    return [AddressFlag(r[0], r[1], r[2], dt.date.fromisoformat(r[3])) for r in rows]


# --- checks: each raises DeliveryError with one sentence, before anything is written ------


_WHAT = {
    "sent": "寄出",
    "delivered": "妥投",
    "returned": "退回",
    "reply": "回执",
    "signed": "签回",
}


def _check_day(what: str, day: dt.date, today: dt.date) -> None:
    if day > today:
        raise DeliveryError(
            f"{_WHAT.get(what, what)}日期 {day.isoformat()} 晚于今天（{today.isoformat()}）："
            "请给今天或以前的日期。"
        )


def check_sent(letter: Delivery, *, on: dt.date, today: dt.date) -> None:
    _check_day("sent", on, today)
    if letter.status in ("delivered", "signed"):
        proven = letter.proven_on.isoformat() if letter.proven_on else "?"
        raise DeliveryError(
            f"函件 {letter.ref} 已于 {proven} {_WHAT.get(letter.status, '签回')}，不能再登记寄出"
            "（需要时用 `dunning pack` 生成新的函件）。"
        )
    if on < letter.issued_on:
        raise DeliveryError(
            f"函件 {letter.ref} 生成于 {letter.issued_on.isoformat()}，"
            f"不可能更早在 {on.isoformat()} 寄出。"
        )


def check_delivered(letter: Delivery, *, on: dt.date, today: dt.date) -> None:
    _check_day("delivered", on, today)
    if letter.status in ("issued", "returned"):
        hint = "已被退回" if letter.status == "returned" else "还没有登记寄出"
        raise DeliveryError(
            f"函件 {letter.ref} {hint}：先登记寄出（`dunning letter sent {letter.ref} --via …`）。"
        )
    assert letter.sent_on is not None or letter.status == "signed"
    if letter.sent_on is not None and on < letter.sent_on:
        raise DeliveryError(
            f"函件 {letter.ref} 寄出于 {letter.sent_on.isoformat()}，"
            f"不可能更早在 {on.isoformat()} 妥投。"
        )
    if letter.sent_on is None and on < letter.issued_on:
        raise DeliveryError(
            f"函件 {letter.ref} 生成于 {letter.issued_on.isoformat()}，"
            f"不可能更早在 {on.isoformat()} 妥投。"
        )


def check_returned(letter: Delivery, *, on: dt.date, reason: str, today: dt.date) -> None:
    _check_day("returned", on, today)
    if not reason.strip():
        raise DeliveryError("请写明退回原因（--reason，例如 拒收、查无此人）。")
    if len(reason) > MAX_REASON or any(ord(c) < 32 for c in reason):
        raise DeliveryError(f"退回原因只能写一行，最多 {MAX_REASON} 个字，例如 查无此人。")
    if letter.status != "sent":
        raise DeliveryError(
            f"函件 {letter.ref} 是“{STATUS_TITLES[letter.status]}”：只有已寄出的函件才会被退回"
            "（先登记寄出）。"
        )
    assert letter.sent_on is not None
    if on < letter.sent_on:
        raise DeliveryError(
            f"函件 {letter.ref} 寄出于 {letter.sent_on.isoformat()}，"
            f"不可能更早在 {on.isoformat()} 被退回。"
        )


def check_reply(letter: Delivery, *, on: dt.date, today: dt.date) -> None:
    _check_day("reply", on, today)
    if on < letter.issued_on:
        raise DeliveryError(
            f"函件 {letter.ref} 生成于 {letter.issued_on.isoformat()}，"
            f"回执日期不可能更早（{on.isoformat()}）。"
        )
    if letter.sent_on is not None and on < letter.sent_on:
        raise DeliveryError(
            f"函件 {letter.ref} 寄出于 {letter.sent_on.isoformat()}，"
            f"回执日期不可能更早（{on.isoformat()}）。"
        )


def check_tracking(tracking: str | None) -> str | None:
    if tracking is None:
        return None
    cleaned = tracking.strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_TRACKING or not all(c.isalnum() or c in "-_ " for c in cleaned):
        raise DeliveryError(
            f"“{cleaned[:60]}”不是运单号：请填快递公司的单号"
            f"（字母、数字和短横线，最多 {MAX_TRACKING} 个字符）。"
        )
    return cleaned


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _letter_id(conn: sqlite3.Connection, ref: str) -> int:
    return int(conn.execute("SELECT id FROM letters WHERE ref = ?", [ref]).fetchone()[0])


# --- writes ---------------------------------------------------------------------------------


def write_sent(
    conn: sqlite3.Connection,
    letter: Delivery,
    *,
    via: str,
    tracking: str | None,
    on: dt.date,
) -> None:
    """Record a sent letter inside the caller's transaction (checks already passed)."""
    conn.execute(
        "INSERT INTO letter_delivery (letter_id, status, channel, tracking_no, sent_on,"
        " updated_at) VALUES (?, 'sent', ?, ?, ?, ?) ON CONFLICT (letter_id) DO UPDATE SET"
        " status = 'sent', channel = excluded.channel, tracking_no = excluded.tracking_no,"
        " sent_on = excluded.sent_on, returned_on = NULL, return_reason = NULL,"
        " updated_at = excluded.updated_at",
        [_letter_id(conn, letter.ref), via, tracking, on.isoformat(), _now()],
    )
    number = f"，运单号 {tracking}" if tracking else ""
    note = f"函件 {letter.ref} 已由{CHANNEL_TITLES[via]}寄出{number}"
    add_entry(conn, letter.customer, kind="letter", note=note, letter_ref=letter.ref, on=on)


def mark_sent(
    db: sqlite_utils.Database,
    ref: str,
    *,
    via: str,
    tracking: str | None = None,
    on: dt.date,
    today: dt.date,
) -> Delivery:
    """`dunning letter sent REF`: the letter left by `via` on `on`."""
    if via not in CHANNELS:
        raise DeliveryError(f"没有“{via}”这种寄送方式：可选 {'、'.join(CHANNEL_TITLES.values())}。")
    number = check_tracking(tracking)
    with write_transaction(db) as conn:
        letter = get_delivery(conn, ref)
        if already_sent(letter, via=via, tracking=number, on=on):
            return letter  # the same sending twice is one event
        check_sent(letter, on=on, today=today)
        write_sent(conn, letter, via=via, tracking=number, on=on)
    return get_delivery(db, ref)


def already_sent(letter: Delivery, *, via: str, tracking: str | None, on: dt.date) -> bool:
    """The letter is recorded as sent exactly so: recording it again changes nothing."""
    return (
        letter.status == "sent"
        and letter.channel == via
        and (letter.tracking_no or None) == (tracking or None)
        and letter.sent_on == on
    )


def mark_delivered(
    db: sqlite_utils.Database,
    ref: str,
    *,
    on: dt.date,
    today: dt.date,
    evidence_document: int | None = None,
) -> Delivery:
    """`dunning letter delivered REF`: the letter reached the customer on `on`."""
    with write_transaction(db) as conn:
        letter = get_delivery(conn, ref)
        check_delivered(letter, on=on, today=today)
        letter_id = _letter_id(conn, letter.ref)
        if letter.status == "signed" and letter.sent_on is None:
            # A receipt came back before anyone recorded the sending: keep the proof anyway.
            conn.execute(
                "INSERT INTO letter_delivery (letter_id, status, channel, sent_on, updated_at)"
                " VALUES (?, 'sent', 'hand', ?, ?)",
                [letter_id, letter.issued_on.isoformat(), _now()],
            )
        conn.execute(
            "UPDATE letter_delivery SET status = 'delivered', delivered_on = ?,"
            " evidence_document_id = coalesce(?, evidence_document_id), updated_at = ?"
            " WHERE letter_id = ?",
            [on.isoformat(), evidence_document, _now(), letter_id],
        )
        if evidence_document is not None:
            conn.execute(
                "UPDATE documents SET customer_code = ? WHERE id = ?",
                [letter.customer, evidence_document],
            )
        # A letter got through: the customer's address works again.
        conn.execute(
            "UPDATE address_flags SET cleared_at = ? WHERE customer_code = ?"
            " AND cleared_at IS NULL AND flagged_on <= ?",
            [_now(), letter.customer, on.isoformat()],
        )
        proof = f"（妥投证明：文件 {evidence_document}）" if evidence_document else ""
        note = f"函件 {letter.ref} 已妥投{proof}"
        add_entry(conn, letter.customer, kind="letter", note=note, letter_ref=letter.ref, on=on)
    return get_delivery(db, ref)


def mark_returned(
    db: sqlite_utils.Database, ref: str, *, reason: str, on: dt.date, today: dt.date
) -> Delivery:
    """`dunning letter returned REF`: it came back; the customer's address is flagged."""
    with write_transaction(db) as conn:
        letter = get_delivery(conn, ref)
        check_returned(letter, on=on, reason=reason, today=today)
        conn.execute(
            "UPDATE letter_delivery SET status = 'returned', returned_on = ?, return_reason = ?,"
            " updated_at = ? WHERE letter_id = ?",
            [on.isoformat(), reason.strip(), _now(), _letter_id(conn, letter.ref)],
        )
        conn.execute(
            "INSERT INTO address_flags (customer_code, letter_ref, reason, flagged_on)"
            " VALUES (?, ?, ?, ?)",
            [letter.customer, letter.ref, reason.strip(), on.isoformat()],
        )
        note = f"函件 {letter.ref} 被退回：{reason.strip()}；请核实客户地址"
        add_entry(conn, letter.customer, kind="letter", note=note, letter_ref=letter.ref, on=on)
    return get_delivery(db, ref)


def record_reply(
    db: sqlite_utils.Database,
    ref: str,
    *,
    reply: str,
    on: dt.date,
    today: dt.date,
    document: int | None = None,
) -> Delivery:
    """`dunning letter reply REF agreed|disputed`: the statement's reply slip came back."""
    if reply not in REPLIES:
        raise DeliveryError(f"对账回执只能是 相符 或 不符，不是“{reply}”。")
    with write_transaction(db) as conn:
        letter = get_delivery(conn, ref)
        check_reply(letter, on=on, today=today)
        letter_id = _letter_id(conn, letter.ref)
        # A reply in hand proves the statement arrived: a letter never marked sent gets a row.
        conn.execute(
            "INSERT INTO letter_delivery (letter_id, status, channel, sent_on, delivered_on,"
            " updated_at) VALUES (?, 'delivered', 'hand', ?, ?, ?) ON CONFLICT DO NOTHING",
            [letter_id, letter.issued_on.isoformat(), on.isoformat(), _now()],
        )
        conn.execute(
            "UPDATE letter_delivery SET reply = ?, reply_on = ?,"
            " reply_document_id = coalesce(?, reply_document_id), updated_at = ?"
            " WHERE letter_id = ?",
            [reply, on.isoformat(), document, _now(), letter_id],
        )
        # A sent letter answered (agreed or disputed) is proven delivered by the answer.
        conn.execute(
            "UPDATE letter_delivery SET status = 'delivered', delivered_on = ?"
            " WHERE letter_id = ? AND status = 'sent' AND delivered_on IS NULL",
            [on.isoformat(), letter_id],
        )
        note = f"对账单 {letter.ref} 回执：{REPLY_TITLES[reply]}"
        add_entry(conn, letter.customer, kind="receipt", note=note, letter_ref=letter.ref, on=on)
    return get_delivery(db, ref)
