"""What the weekly overdue report and the legal hand-over say, read from the archive.

The workbooks themselves are laid out in `weekly_xlsx` and `legal_xlsx`; this module only
gathers the facts, so both can be tested without opening a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlite_utils

from dunning.archive.accounts import Customer, aging_report, ledger_by_customer, list_customers
from dunning.archive.bank.review import BankReceipt
from dunning.archive.bank.review import receipts as bank_receipts
from dunning.archive.contracts.meta import contracts_of
from dunning.config import Config
from dunning.letters import registry
from dunning.money import from_fen
from dunning.receivables import ZERO, CustomerAging, Invoice, Payment, age, bucket_labels
from dunning.workflow.cases import Case, list_cases
from dunning.workflow.limitation import Position
from dunning.workflow.limitation_archive import limitation_report
from dunning.workflow.log import LogEntry, PromiseStatus, list_entries, status_of

WEEK_DAYS = 7


@dataclass(frozen=True)
class LetterInfo:
    ref: str
    level: int
    title: str  # the level's title from dunning.toml (e.g. 律师函), else its stored name
    issued_on: dt.date
    amount: Decimal
    signed: bool
    signed_at: str | None


@dataclass(frozen=True)
class CustomerPosition:
    """One customer on the as-of date, with its collection history up to that day."""

    customer: Customer
    aging: CustomerAging
    letters: tuple[LetterInfo, ...] = ()  # oldest first
    log: tuple[LogEntry, ...] = ()  # oldest first
    promise_statuses: dict[int, PromiseStatus] = field(default_factory=dict)

    @property
    def last_letter(self) -> LetterInfo | None:
        return self.letters[-1] if self.letters else None

    @property
    def last_entry(self) -> LogEntry | None:
        return self.log[-1] if self.log else None

    @property
    def last_promise(self) -> LogEntry | None:
        promises = [e for e in self.log if e.is_promise]
        return promises[-1] if promises else None

    @property
    def last_promise_status(self) -> PromiseStatus | None:
        promise = self.last_promise
        return self.promise_statuses[promise.id] if promise else None


@dataclass(frozen=True)
class Receipt:
    paid_on: dt.date
    customer: str
    name: str
    amount: Decimal
    invoice_ref: str | None
    payment_no: str | None


@dataclass(frozen=True)
class WeeklyReport:
    as_of: dt.date
    company: str
    labels: tuple[str, ...]  # aging bucket labels, "current" first
    positions: tuple[CustomerPosition, ...]  # every customer with receivables
    overdue: tuple[CustomerPosition, ...]  # overdue > 0, largest overdue first
    new_overdue: tuple[CustomerPosition, ...]  # overdue now, nothing overdue a week ago
    receipts: tuple[Receipt, ...]  # payments dated in the week ending on as_of
    # invoices whose limitation period (诉讼时效) ends within 180 days or has ended
    limitation: tuple[Position, ...] = ()
    # bank receipts finance has not booked yet (未入账到款, SPEC §11)
    unbooked: tuple[BankReceipt, ...] = ()

    @property
    def week_start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=WEEK_DAYS - 1)

    @property
    def total_balance(self) -> Decimal:
        return sum((p.aging.balance for p in self.positions), ZERO)

    @property
    def total_overdue(self) -> Decimal:
        return sum((p.aging.overdue for p in self.overdue), ZERO)

    @property
    def bucket_totals(self) -> dict[str, Decimal]:
        return {k: sum((p.aging.buckets[k] for p in self.positions), ZERO) for k in self.labels}

    @property
    def receipts_total(self) -> Decimal:
        return sum((r.amount for r in self.receipts), ZERO)

    @property
    def broken_promises(self) -> int:
        """Overdue customers whose latest promise to pay was not kept."""
        return sum(1 for p in self.overdue if p.last_promise_status == "broken")


def _level_titles(config: Config) -> dict[tuple[int, str], str]:
    return {(lv.level, lv.name): lv.title for lv in config.levels}


def load_letters(
    db: sqlite_utils.Database, *, as_of: dt.date, config: Config, code: str | None = None
) -> dict[str, list[LetterInfo]]:
    """Letters issued by `as_of`, per customer, oldest first."""
    titles = _level_titles(config)
    letters: dict[str, list[LetterInfo]] = defaultdict(list)
    for letter in registry.letters(db, customer=code, issued_by=as_of):
        letters[letter.customer].append(
            LetterInfo(
                ref=letter.ref,
                level=letter.level,
                title=titles.get((letter.level, letter.level_name), letter.level_name),
                issued_on=letter.issued_on,
                amount=from_fen(letter.amount_fen),
                signed=letter.status == "signed",
                signed_at=letter.signed_at,
            )
        )
    return letters


def _positions(
    db: sqlite_utils.Database, *, as_of: dt.date, config: Config, codes: set[str] | None = None
) -> tuple[list[CustomerPosition], dict[str, list[Payment]], dict[str, list[Invoice]]]:
    invoices, payments = ledger_by_customer(db)
    letters = load_letters(db, as_of=as_of, config=config)
    log: dict[str, list[LogEntry]] = defaultdict(list)
    for entry in list_entries(db, until=as_of, zone=config.timezone):
        log[entry.customer].append(entry)
    customers = {c.code: c for c in list_customers(db)}
    report = aging_report(
        db,
        as_of=as_of,
        edges=config.bucket_edges,
        codes=sorted(codes) if codes is not None else None,
        ledger=(invoices, payments),
        idle=codes is not None,
    )
    positions = []
    for aging in report:
        cust = customers[aging.customer]
        entries = log[cust.code]
        statuses = {
            e.id: status_of(e, payments[cust.code], as_of=as_of) for e in entries if e.is_promise
        }
        positions.append(
            CustomerPosition(cust, aging, tuple(letters[cust.code]), tuple(entries), statuses)
        )
    return positions, payments, invoices


def weekly_report(db: sqlite_utils.Database, *, as_of: dt.date, config: Config) -> WeeklyReport:
    """The facts of the weekly 逾期客户名单 on `as_of`."""
    positions, payments, invoices = _positions(db, as_of=as_of, config=config)
    overdue = sorted(
        (p for p in positions if p.aging.overdue > 0),
        key=lambda p: (-p.aging.overdue, p.customer.code),
    )
    week_ago = as_of - dt.timedelta(days=WEEK_DAYS)
    new_overdue = [
        p
        for p in overdue
        if age(
            p.customer.code,
            p.customer.name,
            invoices[p.customer.code],
            payments[p.customer.code],
            as_of=week_ago,
            edges=config.bucket_edges,
        ).overdue
        <= 0
    ]
    return WeeklyReport(
        as_of=as_of,
        company=config.company.get("name", ""),
        labels=tuple(bucket_labels(config.bucket_edges)),
        positions=tuple(positions),
        overdue=tuple(overdue),
        new_overdue=tuple(new_overdue),
        receipts=tuple(_receipts(db, as_of - dt.timedelta(days=WEEK_DAYS - 1), as_of)),
        limitation=tuple(limitation_report(db, config, as_of=as_of)),
        unbooked=tuple(r for r in bank_receipts(db, unbooked=True) if r.received_on <= as_of),
    )


def _receipts(db: sqlite_utils.Database, first: dt.date, last: dt.date) -> list[Receipt]:
    rows = db.execute(
        "SELECT p.paid_on, p.customer_code, c.name, p.amount_fen, p.invoice_ref, p.payment_no"
        " FROM payments p JOIN customers c ON c.code = p.customer_code"
        " WHERE p.paid_on BETWEEN ? AND ? AND p.kind = 'payment'"
        " ORDER BY p.paid_on, p.customer_code, p.id",
        [first.isoformat(), last.isoformat()],
    ).fetchall()
    return [
        Receipt(dt.date.fromisoformat(r[0]), r[1], r[2], from_fen(r[3]), r[4], r[5]) for r in rows
    ]


@dataclass(frozen=True)
class Contract:
    contract_no: str
    amount: Decimal | None
    signed_on: str | None
    title: str | None


@dataclass(frozen=True)
class LegalCase:
    position: CustomerPosition
    reasons: tuple[str, ...]  # why the customer is handed over, in the clerk's words
    contracts: tuple[Contract, ...]

    @property
    def signed_letters(self) -> tuple[LetterInfo, ...]:
        return tuple(letter for letter in self.position.letters if letter.signed)


@dataclass(frozen=True)
class LegalReport:
    as_of: dt.date
    company: str
    labels: tuple[str, ...]
    cases: tuple[LegalCase, ...]  # largest overdue first
    court_cases: tuple[Case, ...] = ()  # cases opened by the as-of day, newest first
    timezone: str = "Asia/Shanghai"  # the office's zone: stored timestamps are shown in it


def _contracts(db: sqlite_utils.Database, code: str) -> tuple[Contract, ...]:
    return tuple(
        Contract(c.contract_no, c.amount, c.signed_on.isoformat() if c.signed_on else None, c.title)
        for c in contracts_of(db, code)
    )


def _legal_reasons(position: CustomerPosition, top_level: int) -> tuple[str, ...]:
    reasons = []
    if position.customer.status == "litigation":
        reasons.append("状态：诉讼中")
    last = position.last_letter
    if last is not None and last.level >= top_level:
        reasons.append(f"已发{last.title}（{last.issued_on.isoformat()}）")
    return tuple(reasons)


def legal_report(db: sqlite_utils.Database, *, as_of: dt.date, config: Config) -> LegalReport:
    """Customers for the legal side: in litigation, or whose last letter was the top level.

    The top level is the highest in dunning.toml (4, the lawyer's letter, by default).
    """
    top_level = max((lv.level for lv in config.levels), default=4)
    positions, _, _ = _positions(db, as_of=as_of, config=config, codes=_legal_codes(db, as_of))
    cases = []
    for position in positions:
        reasons = _legal_reasons(position, top_level)
        if reasons:
            cases.append(LegalCase(position, reasons, _contracts(db, position.customer.code)))
    cases.sort(key=lambda c: (-c.position.aging.overdue, c.position.customer.code))
    return LegalReport(
        as_of=as_of,
        company=config.company.get("name", ""),
        labels=tuple(bucket_labels(config.bucket_edges)),
        cases=tuple(cases),
        court_cases=tuple(c for c in list_cases(db) if c.opened_on <= as_of),
        timezone=config.timezone,
    )


def _legal_codes(db: sqlite_utils.Database, as_of: dt.date) -> set[str]:
    # A cheap first cut: the exact test (last letter's level) runs on these few customers.
    rows = db.execute("SELECT code FROM customers WHERE status = 'litigation'").fetchall()
    return {r[0] for r in rows} | {x.customer for x in registry.letters(db, issued_by=as_of)}
