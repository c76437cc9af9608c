"""Interest from the archive: contract rates found and confirmed, and a customer's interest.

This module owns the `interest_rates` table: the rate a clerk confirmed for a customer (all its
contracts, contract_no '') or for one of its contracts. Candidates come from the archived
contracts' text; nothing found there is used until a clerk confirms it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import sqlite_utils

from dunning.archive.accounts import get_customer, load_invoices, load_payments
from dunning.archive.db import write_transaction
from dunning.workflow.contract_rates import RateCandidate, rate_candidates
from dunning.workflow.interest import (
    DEFAULT_MARKUP,
    CustomerInterest,
    InterestError,
    Rate,
    RateChooser,
    invoice_interest,
    load_lpr,
)
from dunning.workflow.log import add_entry


def contract_candidates(db: sqlite_utils.Database, code: str) -> list[RateCandidate]:
    """Rates named in the customer's archived contracts, document by document."""
    customer = get_customer(db, code).code
    rows = db.execute(
        "SELECT d.id, c.contract_no, t.text FROM documents d"
        " JOIN document_text t ON t.document_id = d.id"
        " LEFT JOIN contracts c ON c.document_id = d.id"
        " WHERE d.kind = 'contract' AND (d.customer_code = ? OR c.customer_code = ?)"
        " ORDER BY d.id",
        [customer, customer],
    ).fetchall()
    found: list[RateCandidate] = []
    seen: set[int] = set()
    for document, contract_no, text in rows:
        if document in seen:
            continue
        seen.add(document)
        for cand in rate_candidates(text or ""):
            found.append(RateCandidate(cand.rate, cand.phrase, document, contract_no))
    return found


def confirm_rate(
    db: sqlite_utils.Database,
    code: str,
    rate: Rate,
    *,
    contract_no: str | None = None,
    document: int | None = None,
    by: str | None = None,
) -> Rate:
    """Record the contract rate a clerk confirmed (for one contract, or all the customer's)."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    with write_transaction(db) as conn:
        customer = get_customer(conn, code).code
        conn.execute(
            "INSERT OR REPLACE INTO interest_rates (customer_code, contract_no, percent, period,"
            " source, document_id, confirmed_by, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                customer,
                contract_no or "",
                str(rate.percent),
                rate.period,
                rate.source,
                document,
                by,
                now,
            ],
        )
        scope = f"合同{contract_no}" if contract_no else "全部合同"
        add_entry(
            conn, customer, kind="legal", note=f"确认逾期利率（{scope}）：{rate.words()}", by=by
        )
    return Rate(rate.percent, rate.period, "contract", rate.source)


def clear_rate(db: sqlite_utils.Database, code: str, *, contract_no: str | None = None) -> bool:
    """Drop a confirmed rate (the LPR rule applies again); False when there was none."""
    with write_transaction(db) as conn:
        customer = get_customer(conn, code).code
        gone = conn.execute(
            "DELETE FROM interest_rates WHERE customer_code = ? AND contract_no = ?",
            [customer, contract_no or ""],
        ).rowcount
        if gone:
            add_entry(conn, customer, kind="legal", note="取消约定逾期利率，改按LPR规则计算")
    return bool(gone)


def confirmed_rates(db: sqlite_utils.Database, code: str) -> tuple[Rate | None, dict[str, Rate]]:
    """The customer-wide confirmed rate, and those confirmed per contract."""
    rows = db.execute(
        "SELECT contract_no, percent, period, source FROM interest_rates WHERE customer_code = ?",
        [code],
    ).fetchall()
    general: Rate | None = None
    by_contract: dict[str, Rate] = {}
    for contract_no, percent, period, source in rows:
        rate = Rate(Decimal(percent), period, "contract", source)
        if contract_no:
            by_contract[contract_no] = rate
        else:
            general = rate
    return general, by_contract


def customer_interest(
    db: sqlite_utils.Database,
    code: str,
    *,
    as_of: dt.date,
    desk_root: Path | None = None,
    markup: Decimal = DEFAULT_MARKUP,
) -> CustomerInterest:
    """One customer's interest to `as_of`, invoice by invoice; raises InterestError when an
    invoice falls due before the LPR table starts and no contract rate is confirmed."""
    customer = get_customer(db, code)
    general, by_contract = confirmed_rates(db, customer.code)
    chooser = RateChooser(
        load_lpr(desk_root), markup=markup, contract=general, by_contract=by_contract
    )
    lines = invoice_interest(
        load_invoices(db, customer.code),
        load_payments(db, customer.code),
        as_of=as_of,
        rate_for=chooser,
    )
    return CustomerInterest(customer.code, customer.name, as_of, tuple(lines), markup)


__all__ = [
    "InterestError",
    "clear_rate",
    "confirm_rate",
    "confirmed_rates",
    "contract_candidates",
    "customer_interest",
]
