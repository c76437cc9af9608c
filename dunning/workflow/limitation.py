"""The limitation period (诉讼时效) of each open invoice: pure functions over plain dataclasses.

民法典 art. 188: three years (`[limitation] years`) from the day the creditor could claim, here
the due date. Art. 195: the period starts again from an interruption — a demand that reached the
debtor (a letter delivered or signed), the debtor's acknowledgement (a statement reply marked
相符, a promise to pay) or a part payment. Art. 201: a period in years ends on the corresponding
day of the last year, or on the month's last day when there is none (29 Feb → 28 Feb); a last
day that is a rest day gives way to the next working day (`last_day`: Saturdays and Sundays
only — the State Council's holiday notices are not built in, so the clerk acts by `expires`).

A letter refused at the address (returned) is no proof that it reached the debtor, but the
Supreme People's Court rules on limitation (art. 8) count a letter that "should have reached"
(应当到达) the debtor: it interrupts nothing here and is named beside the claim for the lawyer.

Only what can be proven counts: a letter sent but never proven delivered interrupts nothing; it
is reported as "sent, unproven" so the clerk can fetch the courier's delivery record.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

EventKind = Literal["delivered", "signed", "statement", "promise", "payment"]
EVENT_TITLES: dict[str, str] = {
    "delivered": "催款函送达",
    "signed": "回执签回",
    "statement": "对账单确认相符",
    "promise": "承诺付款",
    "payment": "部分付款",
}
DEFAULT_WITHIN_DAYS = 180
PACK_WARNING_DAYS = 60  # `pack --dry-run` marks customers with a claim expiring this soon
URGENT_DAYS = 30


@dataclass(frozen=True)
class Claim:
    """One open invoice: what could lapse."""

    customer: str
    name: str
    invoice_no: str
    invoice_date: dt.date
    due: dt.date
    open_amount: Decimal


@dataclass(frozen=True)
class Event:
    """Something that interrupts the period of the invoices it covers.

    `invoices` None means every invoice of the customer (a promise, an unreferenced payment);
    `evidence` names the proof: a letter reference, `document 12`, `log 34`, a payment number.
    """

    kind: EventKind
    customer: str
    date: dt.date
    evidence: str
    invoices: frozenset[str] | None = None
    letter: str | None = None

    def covers(self, claim: Claim) -> bool:
        return self.customer == claim.customer and (
            self.invoices is None or claim.invoice_no in self.invoices
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "date": self.date.isoformat(),
            "evidence": self.evidence,
            "letter": self.letter,
        }


@dataclass(frozen=True)
class UnprovenLetter:
    """A letter sent (with its channel and date) that no delivery record proves yet."""

    ref: str
    customer: str
    sent_on: dt.date
    invoices: frozenset[str] | None = None

    def covers(self, claim: Claim) -> bool:
        return self.customer == claim.customer and (
            self.invoices is None or claim.invoice_no in self.invoices
        )


@dataclass(frozen=True)
class ReturnedLetter:
    """A letter that came back (refused, moved …): named for the lawyer, never counted."""

    ref: str
    customer: str
    returned_on: dt.date
    reason: str
    invoices: frozenset[str] | None = None

    def covers(self, claim: Claim) -> bool:
        return self.customer == claim.customer and (
            self.invoices is None or claim.invoice_no in self.invoices
        )

    def to_json(self) -> dict[str, str]:
        return {
            "letter": self.ref,
            "reason": self.reason,
            "returned_on": self.returned_on.isoformat(),
        }


@dataclass(frozen=True)
class Position:
    """One invoice's limitation on the as-of date."""

    claim: Claim
    expires: dt.date  # the last day a claim can still be brought
    days_left: int  # negative once expired
    last_event: Event | None
    unproven: tuple[str, ...]  # letters sent after the last event, not proven delivered
    advice_code: str  # a key of ADVICE / ADVICE_ZH
    last_day: dt.date | None = None  # `expires`, or the next working day after a weekend
    returned: tuple[ReturnedLetter, ...] = ()  # letters that came back since the last event

    @property
    def advice(self) -> str:
        text = ADVICE[self.advice_code].format(letters=", ".join(self.unproven))
        if self.days_left < 0 and not self.expired and self.last_day is not None:
            text += f"; the period ended on a weekend: {self.last_day.isoformat()} is the last day"
        if not self.returned:
            return text
        came_back = ", ".join(
            f"{r.ref} ({r.reason}, {r.returned_on.isoformat()})" for r in self.returned
        )
        return f"{text}; {RETURNED_ADVICE.format(letters=came_back)}"

    @property
    def advice_zh(self) -> str:
        text = ADVICE_ZH[self.advice_code].format(letters="、".join(self.unproven))
        if self.days_left < 0 and not self.expired and self.last_day is not None:
            text += f"；届满日为休息日，顺延至{self.last_day.isoformat()}（民法典第201条）"
        if not self.returned:
            return text
        came_back = "、".join(f"{r.ref}（{r.reason}）" for r in self.returned)
        return f"{text}；{RETURNED_ADVICE_ZH.format(letters=came_back)}"

    @property
    def expired(self) -> bool:
        """Past the last day: the next working day when the nominal one was a weekend."""
        as_of = self.expires - dt.timedelta(days=self.days_left)
        return as_of > (self.last_day or self.expires)


def add_years(day: dt.date, years: int) -> dt.date:
    """The corresponding day `years` later; 29 Feb becomes 28 Feb (the month's last day)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def next_working_day(day: dt.date) -> dt.date:
    """`day`, or the Monday after it when it is a Saturday or Sunday (art. 201 para. 2)."""
    return day + dt.timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


def last_interruption(claim: Claim, events: Iterable[Event], *, as_of: dt.date) -> Event | None:
    """The latest event covering `claim` after its due date and on or before `as_of`."""
    found = [e for e in events if e.covers(claim) and claim.due < e.date <= as_of]
    # Same day: any one restarts the period equally; prefer the strongest proof.
    strength = {"payment": 0, "promise": 1, "delivered": 2, "signed": 3, "statement": 4}
    return max(found, key=lambda e: (e.date, strength[e.kind]), default=None)


def expiry(claim: Claim, events: Iterable[Event], *, as_of: dt.date, years: int) -> dt.date:
    """The last day of the claim's period as it stands on `as_of`."""
    event = last_interruption(claim, events, as_of=as_of)
    return add_years(event.date if event else claim.due, years)


ADVICE: dict[str, str] = {
    "expired": "expired: look for any other proof that interrupted it (payment, signed statement,"
    " written acknowledgement); without one the debtor may refuse to pay: ask a lawyer",
    "sue": "file for a 支付令 (payment order) or sue now: a new letter may not be proven in time",
    "prove": "get the courier's delivery record of {letters} (`dunning letter delivered"
    " --evidence`), or send a demand with tracked delivery",
    "demand": "send a demand with tracked delivery (EMS/SF, keep the proof) and get the"
    " statement signed 相符",
    "statement": "get the statement signed 相符, or send a demand with tracked delivery",
}
RETURNED_ADVICE = (
    "{letters} came back: a demand refused at the contractual address may still count as"
    " having reached the debtor (应当到达, SPC limitation rules art. 8); keep the returned"
    " envelope and the courier's record for the lawyer, but do not rely on it"
)
RETURNED_ADVICE_ZH = (
    "{letters}被退回：寄往约定地址而被拒收的催款函可能视为“应当到达”（最高法诉讼时效规定第8条），"
    "请保留退件信封和快递记录交律师判断，但不要依赖"
)
ADVICE_ZH: dict[str, str] = {
    "expired": "时效已届满：查找其他中断证据（付款、签章对账单、书面确认）；无证据时请咨询律师",
    "sue": "立即申请支付令或起诉：新发函件可能来不及证明送达",
    "prove": "向快递公司调取{letters}的妥投证明，或以可查询送达的方式重新发催款函",
    "demand": "以EMS/顺丰等可查询送达的方式发催款函并保存妥投证明，并取得对账单签章确认",
    "statement": "取得对账单“相符”签章确认，或以可查询送达的方式发催款函",
}


def advice_code(
    days_left: int, last: Event | None, unproven: Sequence[str], *, grace: bool = False
) -> str:
    """What the clerk should do about a claim (a key of ADVICE), most urgent first.

    `grace`: the nominal last day was a weekend and the next working day is still to come.
    """
    if days_left < 0 and not grace:
        return "expired"
    if days_left <= URGENT_DAYS:
        return "sue"
    if unproven:
        return "prove"
    return "demand" if last is None else "statement"


def position(
    claim: Claim,
    events: Sequence[Event],
    unproven: Sequence[UnprovenLetter],
    *,
    as_of: dt.date,
    years: int,
    returned: Sequence[ReturnedLetter] = (),
) -> Position:
    last = last_interruption(claim, events, as_of=as_of)
    anchor = last.date if last else claim.due
    expires = add_years(anchor, years)
    last_day = next_working_day(expires)
    days_left = (expires - as_of).days
    pending = tuple(
        sorted(u.ref for u in unproven if u.covers(claim) and anchor < u.sent_on <= as_of)
    )
    came_back = tuple(
        sorted(
            (r for r in returned if r.covers(claim) and anchor < r.returned_on <= as_of),
            key=lambda r: (r.returned_on, r.ref),
        )
    )
    grace = days_left < 0 and as_of <= last_day
    code = advice_code(days_left, last, pending, grace=grace)
    return Position(claim, expires, days_left, last, pending, code, last_day, came_back)


def positions(
    claims: Iterable[Claim],
    events: Sequence[Event],
    unproven: Sequence[UnprovenLetter] = (),
    *,
    as_of: dt.date,
    years: int,
    within: int | None = DEFAULT_WITHIN_DAYS,
    returned: Sequence[ReturnedLetter] = (),
) -> list[Position]:
    """Claims whose period ends within `within` days of `as_of` (or has ended), soonest first.

    `within` None lists every claim.
    """
    # Each claim looks only at its own customer's events: one pass to group them.
    by_customer: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_customer[event.customer].append(event)
    sent: dict[str, list[UnprovenLetter]] = defaultdict(list)
    for letter in unproven:
        sent[letter.customer].append(letter)
    back: dict[str, list[ReturnedLetter]] = defaultdict(list)
    for came_back in returned:
        back[came_back.customer].append(came_back)
    found = [
        position(
            c,
            by_customer[c.customer],
            sent[c.customer],
            as_of=as_of,
            years=years,
            returned=back[c.customer],
        )
        for c in claims
        if c.open_amount > 0 and c.due <= as_of
    ]
    if within is not None:
        found = [p for p in found if p.days_left <= within]
    return sorted(found, key=lambda p: (p.expires, p.claim.customer, p.claim.invoice_no))


def position_json(p: Position) -> dict[str, Any]:
    """The SPEC §10 shape of one `limitation --json` entry (plus advice and unproven letters)."""
    return {
        "customer": p.claim.customer,
        "name": p.claim.name,
        "invoice": p.claim.invoice_no,
        "due": p.claim.due.isoformat(),
        "open": f"{p.claim.open_amount:.2f}",
        "expires": p.expires.isoformat(),
        "days_left": p.days_left,
        "last_event": p.last_event.to_json() if p.last_event else None,
        "unproven": [{"letter": ref, "status": "sent, unproven"} for ref in p.unproven],
        "advice": p.advice,
        "last_day": (p.last_day or p.expires).isoformat(),
        "returned": [r.to_json() for r in p.returned],
    }
