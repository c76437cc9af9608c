"""The limitation report read from the archive: open invoices and their interrupting events.

Which invoices a letter covers: as a demand, those overdue on the day it was issued (it
cannot demand what was not yet due); as a statement confirmed 相符, every invoice of its
customer dated on or before the letter (the statement lists the customer's open items).
Letters are seen as they stood on the as-of day: one delivered later was "sent, unproven" then.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import sqlite_utils

from dunning.archive.accounts import ledger_by_customer, list_customers
from dunning.config import Config
from dunning.letters.delivery import Delivery, address_flags, load_deliveries
from dunning.money import from_fen
from dunning.receivables import Invoice, Payment, allocate
from dunning.workflow.limitation import (
    DEFAULT_WITHIN_DAYS,
    PACK_WARNING_DAYS,
    Claim,
    Event,
    Position,
    ReturnedLetter,
    UnprovenLetter,
    positions,
)


def limitation_report(
    db: sqlite_utils.Database,
    config: Config,
    *,
    as_of: dt.date,
    within: int | None = DEFAULT_WITHIN_DAYS,
    codes: Sequence[str] | None = None,
) -> list[Position]:
    """Open invoices whose limitation period ends within `within` days of `as_of`."""
    invoices, payments = ledger_by_customer(db)
    received = _received(db, as_of)
    names = {c.code: c.name for c in list_customers(db)}
    wanted = set(codes) if codes is not None else None
    claims: list[Claim] = []
    events: list[Event] = []
    for code, own in invoices.items():
        if wanted is not None and code not in wanted:
            continue
        dated = [i for i in own if i.invoice_date <= as_of]
        paid = [p for p in payments.get(code, []) if p.paid_on <= as_of]
        claims.extend(_claims(code, names.get(code, code), dated, paid))
        events.extend(_payment_events(code, dated, received.get(code, [])))
    letters = [d for d in load_deliveries(db) if d.issued_on <= as_of]
    covered = _coverage(invoices, letters)
    demanded = _coverage(invoices, letters, overdue=True)
    events.extend(_letter_events(letters, demanded, covered, as_of))
    events.extend(_promise_events(db))
    unproven = [
        UnprovenLetter(d.ref, d.customer, d.sent_on, demanded[d.ref])
        for d in letters
        if d.sent_on is not None and _unproven_on(d, as_of)
    ]
    returned = _returned_letters(db, demanded, as_of)
    return positions(
        claims,
        events,
        unproven,
        as_of=as_of,
        years=config.limitation_years,
        within=within,
        returned=returned,
    )


def _returned_letters(
    db: sqlite_utils.Database, demanded: dict[str, frozenset[str]], as_of: dt.date
) -> list[ReturnedLetter]:
    """Every time a letter came back by `as_of`, from the address flags: a letter sent again
    afterwards keeps its refusal on record (cleared flags included)."""
    return [
        ReturnedLetter(f.letter_ref, f.customer, f.flagged_on, f.reason, demanded[f.letter_ref])
        for f in address_flags(db, include_cleared=True)
        if f.flagged_on <= as_of and f.letter_ref in demanded
    ]


def _unproven_on(letter: Delivery, as_of: dt.date) -> bool:
    """Sent by `as_of`, and on that day neither proven delivered nor back."""
    if letter.sent_on is None or letter.sent_on > as_of:
        return False
    if letter.proven_on is not None and letter.proven_on <= as_of:
        return False
    return letter.returned_on is None or letter.returned_on > as_of


def _claims(code: str, name: str, invoices: list[Invoice], paid: list[Payment]) -> list[Claim]:
    return [
        Claim(
            code,
            name,
            item.invoice.invoice_no,
            item.invoice.invoice_date,
            item.invoice.due_date,
            item.open_amount,
        )
        for item in allocate(invoices, paid).items
        if item.open_amount > 0
    ]


def _received(db: sqlite_utils.Database, as_of: dt.date) -> dict[str, list[Payment]]:
    """Money the customer paid, by customer: credit notes and opening balances in the
    payments table allocate like payments but are no acknowledgement by the debtor."""
    found: dict[str, list[Payment]] = defaultdict(list)
    for code, day, fen, ref in db.execute(
        "SELECT customer_code, paid_on, amount_fen, invoice_ref FROM payments"
        " WHERE kind = 'payment' AND paid_on <= ? ORDER BY paid_on, id",
        [as_of.isoformat()],
    ):
        found[code].append(Payment(code, dt.date.fromisoformat(day), from_fen(fen), ref))
    return found


def _payment_events(code: str, invoices: list[Invoice], paid: list[Payment]) -> list[Event]:
    """A payment naming one of the customer's invoices restarts that invoice; a payment
    naming none is a part payment of the customer's whole debt. A payment naming an invoice
    this customer does not have acknowledges some other debt, not these: no event."""
    numbers = {_ref_key(i.invoice_no): i.invoice_no for i in invoices}
    events = []
    for p in paid:
        key = _ref_key(p.invoice_ref)
        if p.amount <= 0 or (key and key not in numbers):
            continue
        number = numbers.get(key)
        proof = f"{p.paid_on.isoformat()} 回款 {p.amount:,.2f} 元"
        events.append(
            Event(
                "payment",
                code,
                p.paid_on,
                proof + (f"（发票 {number}）" if number else ""),
                frozenset({number}) if number else None,
            )
        )
    return events


def _ref_key(ref: str | None) -> str:
    """An invoice number as a bank remark may spell it: case and spaces do not matter."""
    return "".join((ref or "").split()).upper()


def _coverage(
    invoices: dict[str, list[Invoice]], letters: list[Delivery], *, overdue: bool = False
) -> dict[str, frozenset[str]]:
    """The invoices each letter lists (`overdue`: those it demands, past due when issued)."""
    return {
        d.ref: frozenset(
            i.invoice_no
            for i in invoices.get(d.customer, [])
            if i.invoice_date <= d.issued_on and (not overdue or i.due_date < d.issued_on)
        )
        for d in letters
    }


def _letter_events(
    letters: list[Delivery],
    demanded: dict[str, frozenset[str]],
    covered: dict[str, frozenset[str]],
    as_of: dt.date,
) -> list[Event]:
    events = []
    for d in letters:
        if d.delivered_on is not None:
            day = d.proven_on or d.delivered_on
            events.append(Event("delivered", d.customer, day, d.proof, demanded[d.ref], d.ref))
        elif d.signed_on is not None and d.signed_on <= as_of:  # in hand by then
            events.append(_signed_event(d, demanded[d.ref]))
        if d.reply == "agreed" and d.reply_on is not None:
            proof = f"document {d.reply_document}" if d.reply_document else d.ref
            events.append(Event("statement", d.customer, d.reply_on, proof, covered[d.ref], d.ref))
    return events


def _signed_event(letter: Delivery, demanded: frozenset[str]) -> Event:
    """A signed receipt without a recorded delivery date: `signed_on` is the day its scan was
    filed, weeks after the debtor signed perhaps; the safe restart is the earliest day it can
    have been signed, the day the letter went out (or was issued)."""
    assert letter.signed_on is not None
    day = min(letter.sent_on or letter.issued_on, letter.signed_on)
    proof = f"{letter.proof} (receipt filed {letter.signed_on.isoformat()})"
    return Event("signed", letter.customer, day, proof, demanded, letter.ref)


def _promise_events(db: sqlite_utils.Database) -> list[Event]:
    rows = db.execute(
        "SELECT id, customer_code, logged_at, promise_amount_fen, promise_date"
        " FROM collection_log WHERE kind = 'promise' AND promise_amount_fen IS NOT NULL"
    ).fetchall()
    return [
        Event(
            "promise",
            r[1],
            dt.date.fromisoformat(r[2][:10]),
            f"log {r[0]} (promised {from_fen(r[3]):,.2f} by {r[4]})",
        )
        for r in rows
    ]


def expiring_customers(
    db: sqlite_utils.Database,
    config: Config,
    *,
    as_of: dt.date,
    codes: Sequence[str] | None = None,
    within: int = PACK_WARNING_DAYS,
) -> dict[str, dt.date]:
    """Customers with an invoice whose period ends within `within` days: the earliest expiry."""
    found: dict[str, dt.date] = {}
    for p in limitation_report(db, config, as_of=as_of, within=within, codes=codes):
        found.setdefault(p.claim.customer, p.expires)
    return found
