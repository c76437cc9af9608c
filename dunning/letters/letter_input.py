"""What one letter says: its input built from the plan, the customer's contracts and items."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from dunning.archive.contracts.meta import contracts_of as customer_contracts
from dunning.config import Config, Level
from dunning.letters.context import ContractInfo, CustomerInfo, LetterInput, OpenItem
from dunning.receivables import CustomerAging, bucket_title
from dunning.vocabulary import DOCUMENT_TITLES as _DOCUMENT_TITLES

if TYPE_CHECKING:
    from dunning.letters.pack import Candidate

# How a letter names the documents that go with it (附件).
DOCUMENT_TITLES = dict(_DOCUMENT_TITLES)


def contracts_of(conn: Any, code: str, aging: CustomerAging) -> list[tuple[ContractInfo, Any]]:
    """The customer's contracts behind its open items (all of them when none is named)."""
    contracts = customer_contracts(conn, code)
    named = {a.item.invoice.contract_no for a in aging.items}
    chosen = [c for c in contracts if c.contract_no in named] or contracts
    return [(ContractInfo(c.contract_no, c.signed_on, c.amount), c.stored_path) for c in chosen]


def letter_input(
    config: Config,
    as_of: dt.date,
    cand: Candidate,
    level: Level,
    ref: str,
    contracts: list[tuple[ContractInfo, Any]],
) -> LetterInput:
    cust, aging = cand.customer, cand.aging
    return LetterInput(
        ref=ref,
        level=level.level,
        level_name=level.name,
        level_title=level.title,
        as_of=as_of,
        deadline=as_of + dt.timedelta(days=config.payment_deadline_days),
        customer=CustomerInfo(
            cust.code, cust.name, cust.address or "", cust.contact or "", cust.phone or ""
        ),
        company=config.company,
        bank=config.bank,
        signatory=config.signatory,
        lawyer=config.lawyer,
        contracts=[info for info, _ in contracts],
        items=[
            OpenItem(
                invoice_no=a.item.invoice.invoice_no,
                contract_no=a.item.invoice.contract_no or "",
                invoice_date=a.item.invoice.invoice_date,
                due_date=a.item.invoice.due_date,
                amount=a.item.invoice.amount,
                received=a.item.paid,
                open_amount=a.item.open_amount,
                days_overdue=max(a.days_overdue, 0),
            )
            for a in aging.items
        ],
        total_open=aging.balance + aging.credit,
        total_overdue=aging.overdue,
        credit=aging.credit,
        aging={bucket_title(k): v for k, v in aging.buckets.items()},
        enclosures=[
            DOCUMENT_TITLES.get(d, d)
            for d in level.documents
            # the 证据清单 is the lawyer's file, not an enclosure for the debtor
            if d not in (level.name, "evidence")
            and (d != "contract" or any(stored for _, stored in contracts))
        ],
    )
