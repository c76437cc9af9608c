"""今日: what a clerk should do today, ranked by amount × days, each with its one action.

Every kind of work comes from one *source*: a function `(Day) -> list[TodayItem]` in
`SOURCES`. A new kind of work is one more function appended there; `today` runs them all and
ranks what they find.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import sqlite_utils

from dunning.archive.accounts import aging_report, list_customers
from dunning.archive.bank.review import WAITING, receipts
from dunning.archive.unmatched import unmatched_receipts
from dunning.config import Config
from dunning.letters.delivery import Delivery, load_deliveries
from dunning.receivables import ZERO, CustomerAging
from dunning.vocabulary import LETTER_LEVELS, TODAY_ACTIONS, TODAY_KINDS, title
from dunning.workflow.limitation_archive import limitation_report
from dunning.workflow.log import list_entries, promise_statuses

# A sent letter not proven delivered after this many days: ask the courier for the proof.
PROOF_AFTER_DAYS = 7
# Claims whose limitation period ends within this many days are listed.
LIMITATION_WITHIN_DAYS = 90
# A broken promise stays on the list this many days unless the customer was contacted since.
BROKEN_PROMISE_DAYS = 30


@dataclass(frozen=True)
class TodayItem:
    """One thing to do today: about one customer (and maybe one letter), with its action."""

    kind: str  # a key of vocabulary.TODAY_KINDS
    customer: str
    name: str
    amount: Decimal
    days: int
    what: str  # one Chinese sentence: why it is on the list
    action: str  # a key of vocabulary.TODAY_ACTIONS
    ref: str | None = None  # the letter concerned, if any
    # The receipt concerned, if any: its queue ("bank" 到账核对, "ledger" 未匹配到款) and id.
    receipt: tuple[str, int] | None = None

    @property
    def score(self) -> Decimal:
        """Amount × days: a large sum long overdue comes first."""
        return self.amount * max(self.days, 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "kind_title": TODAY_KINDS[self.kind],
            "customer": self.customer,
            "name": self.name,
            "amount": f"{self.amount:.2f}",
            "days": self.days,
            "what": self.what,
            "action": self.action,
            "action_title": TODAY_ACTIONS[self.action],
            "letter": self.ref,
            "receipt": (
                {"queue": self.receipt[0], "id": self.receipt[1]} if self.receipt else None
            ),
        }


@dataclass
class Day:
    """What every source reads, loaded once: the archive, the settings, the day."""

    db: sqlite_utils.Database
    config: Config
    today: dt.date
    _cache: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def names(self) -> dict[str, str]:
        return {c.code: c.name for c in list_customers(self.db)}

    @cached_property
    def aging(self) -> dict[str, CustomerAging]:
        report = aging_report(self.db, as_of=self.today, edges=self.config.bucket_edges)
        return {a.customer: a for a in report}

    @cached_property
    def letters(self) -> list[Delivery]:
        return [d for d in load_deliveries(self.db) if d.issued_on <= self.today]

    def overdue(self, code: str) -> tuple[Decimal, int]:
        aging = self.aging.get(code)
        return (aging.overdue, aging.max_days_overdue) if aging else (ZERO, 0)


def _letter_title(letter: Delivery) -> str:
    return f"{title(LETTER_LEVELS, letter.level_name)} {letter.ref}"


def promises_due(day: Day) -> list[TodayItem]:
    """Promises to pay due today, and promises broken lately with no contact since."""
    entries = list_entries(day.db, until=day.today, zone=day.config.timezone)
    statuses = promise_statuses(day.db, entries, as_of=day.today)
    last_contact: dict[str, dt.date] = {}
    for e in entries:
        if e.kind in ("call", "visit", "sms", "promise", "legal"):
            last_contact[e.customer] = max(e.day, last_contact.get(e.customer, e.day))
    found = []
    for e in entries:
        status = statuses.get(e.id)
        if status is None or e.promise_date is None or e.promise_amount is None:
            continue
        late = (day.today - e.promise_date).days
        if status == "pending" and e.promise_date == day.today:
            what = f"承诺今天付款 {e.promise_amount:,.2f} 元"
            kind = "promise_due"
        elif status == "broken" and 0 < late <= BROKEN_PROMISE_DAYS:
            if last_contact.get(e.customer, e.day) > e.day:
                continue  # someone has called since the promise was made
            what = f"承诺 {e.promise_date.isoformat()} 付款 {e.promise_amount:,.2f} 元，未兑现"
            kind = "promise_broken"
        else:
            continue
        _, days = day.overdue(e.customer)
        found.append(
            TodayItem(
                kind,
                e.customer,
                day.names.get(e.customer, ""),
                e.promise_amount,
                days,
                what,
                "log_call",
            )
        )
    return found


def letters_to_send(day: Day) -> list[TodayItem]:
    """Each customer's newest letter generated but not yet mailed (older unsent ones counted)."""
    unsent: dict[str, list[Delivery]] = {}
    for letter in day.letters:  # oldest first
        if letter.status == "issued":
            unsent.setdefault(letter.customer, []).append(letter)
        else:  # a later letter went out: the older unsent ones are superseded
            unsent.pop(letter.customer, None)
    found = []
    for code, waiting in unsent.items():
        letter = waiting[-1]
        amount, days = day.overdue(code)
        age = (day.today - letter.issued_on).days
        when = "今天生成" if age == 0 else f"已生成 {age} 天"
        what = f"{_letter_title(letter)} {when}，尚未寄出"
        if len(waiting) > 1:
            what += f"（另有 {len(waiting) - 1} 封更早的函件也未登记寄出）"
        found.append(
            TodayItem(
                "letter_unsent",
                code,
                day.names.get(code, ""),
                amount,
                days,
                what,
                "mark_sent",
                letter.ref,
            )
        )
    return found


def letters_without_proof(day: Day) -> list[TodayItem]:
    """Letters sent a while ago whose delivery is not proven: ask the courier for the proof."""
    found = []
    for letter in day.letters:
        if letter.status != "sent" or letter.sent_on is None:
            continue
        age = (day.today - letter.sent_on).days
        if age < PROOF_AFTER_DAYS:
            continue
        amount, days = day.overdue(letter.customer)
        what = f"{_letter_title(letter)} 寄出 {age} 天，尚无妥投证明"
        found.append(
            TodayItem(
                "letter_unproven",
                letter.customer,
                day.names.get(letter.customer, ""),
                amount,
                days,
                what,
                "upload_proof",
                letter.ref,
            )
        )
    return found


def letters_returned(day: Day) -> list[TodayItem]:
    """Letters that came back: the address needs checking before anything else goes out."""
    found = []
    for letter in day.letters:
        if letter.status != "returned":
            continue
        amount, days = day.overdue(letter.customer)
        reason = letter.return_reason or ""
        what = f"{_letter_title(letter)} 被退回（{reason}），请核实地址"
        found.append(
            TodayItem(
                "letter_returned",
                letter.customer,
                day.names.get(letter.customer, ""),
                amount,
                days,
                what,
                "check_address",
                letter.ref,
            )
        )
    return found


def limitation_near(day: Day) -> list[TodayItem]:
    """Claims whose limitation period ends soon (one line per customer, the earliest)."""
    earliest: dict[str, tuple[dt.date, Decimal, int, int]] = {}
    report = limitation_report(day.db, day.config, as_of=day.today, within=LIMITATION_WITHIN_DAYS)
    for p in report:
        if p.expired:
            continue
        code = p.claim.customer
        prev = earliest.get(code)
        total = p.claim.open_amount + (prev[1] if prev else ZERO)
        count = 1 + (prev[3] if prev else 0)
        if prev is None or p.expires < prev[0]:
            earliest[code] = (p.expires, total, p.days_left, count)
        else:
            earliest[code] = (prev[0], total, prev[2], count)
    found = []
    for code, (expires, total, left, count) in earliest.items():
        _, days = day.overdue(code)
        what = f"{count} 张发票的诉讼时效将于 {expires.isoformat()} 届满（还剩 {left} 天）"
        found.append(
            TodayItem("limitation", code, day.names.get(code, ""), total, days, what, "open_case")
        )
    return found


def letters_blocked(day: Day) -> list[TodayItem]:
    """Customers due a letter today that gets none: no address on file."""
    from dunning.letters.pack import NO_ADDRESS, plan_pack

    found = []
    for cand in plan_pack(day.db, day.config, as_of=day.today).candidates:
        if cand.decision.reason == NO_ADDRESS:
            code = cand.customer.code
            what = "到了发函时间，但客户档案中没有地址，函件未生成：请补上地址"
            found.append(
                TodayItem(
                    "no_address",
                    code,
                    cand.customer.name,
                    cand.aging.overdue,
                    cand.aging.max_days_overdue,
                    what,
                    "add_address",
                )
            )
    return found


def visits_due(day: Day) -> list[TodayItem]:
    """Approved visits due today (or overdue), and planned ones waiting for approval."""
    from dunning.workflow.visits import list_visits

    found = []
    for visit in list_visits(day.db):
        amount, days = day.overdue(visit.customer)
        name = day.names.get(visit.customer, "")
        when = visit.planned_on.isoformat()
        if visit.status == "approved" and visit.planned_on <= day.today:
            what = f"上门催收（{visit.people}，{when}），携带{visit.materials}"
            found.append(TodayItem("visit", visit.customer, name, amount, days, what, "visit"))
        elif visit.status == "planned":
            what = f"上门催收计划（{visit.people}，{when}）等待主管审批"
            found.append(
                TodayItem("visit_approval", visit.customer, name, amount, days, what, "approve")
            )
    return found


def receipts_to_review(day: Day) -> list[TodayItem]:
    """Bank receipts waiting in the 到账核对 queue and ledger payments with no customer."""
    found = []
    for r in receipts(day.db, status=WAITING):
        days = (day.today - r.received_on).days
        if days < 0:
            continue
        code = r.customer or ""
        guess = f"，建议归入 {code}" if code else "，未找到客户"
        what = (
            f"{r.payer_name or '（无户名）'} 于 {r.received_on.isoformat()} "
            f"到账 {r.amount:,.2f} 元，待核对（银行流水 #{r.id}{guess}）"
        )
        name = r.customer_name or day.names.get(code, "") or r.payer_name
        found.append(
            TodayItem(
                "receipt_review", code, name, r.amount, days, what, "review_receipt",
                receipt=("bank", r.id),
            )
        )  # fmt: skip
    for u in unmatched_receipts(day.db):
        days = (day.today - u.paid_on).days
        if days < 0:
            continue
        maybe = f"，可能是 {'、'.join(u.candidates)}" if u.candidates else "，无相近客户"
        what = (
            f"{u.payer_name} 于 {u.paid_on.isoformat()} 付款 {u.amount:,.2f} 元，"
            f"未匹配到客户（未匹配到款 #{u.id}{maybe}）"
        )
        found.append(
            TodayItem(
                "receipt_review", "", u.payer_name, u.amount, days, what, "review_receipt",
                receipt=("ledger", u.id),
            )
        )  # fmt: skip
    return found


Source = Callable[[Day], list[TodayItem]]
SOURCES: list[Source] = [
    promises_due,
    letters_to_send,
    letters_without_proof,
    letters_returned,
    letters_blocked,
    limitation_near,
    visits_due,
    receipts_to_review,
]


def today_list(
    db: sqlite_utils.Database,
    config: Config,
    *,
    today: dt.date,
    sources: list[Source] | None = None,
) -> list[TodayItem]:
    """Everything to do on `today`, largest amount × days first."""
    day = Day(db, config, today)
    items = [item for source in (sources or SOURCES) for item in source(day)]
    items.sort(key=lambda i: (-i.score, i.customer, i.kind, i.ref or ""))
    return items
