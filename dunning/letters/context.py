"""What a letter needs, as plain dataclasses, and the template variables built from it.

`build_context` is the one place that turns domain values into printable text: amounts as
`1,234.50` plus their 大写 form, dates as `2025年11月30日` plus ISO. Every variable a template
may use is listed in `CONTEXT_DOC`; `dunning templates list --context` prints it and the
template check flags any tag that is not in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dunning.dates import chinese_date
from dunning.letters.qr import qr_png
from dunning.letters.words import amount_in_words
from dunning.money import format_amount

ZERO = Decimal("0.00")

# Used when the desk's dunning.toml has no [lawyer] section (or leaves a key out).
DEFAULT_LAWYER: dict[str, str] = {
    "firm": "浙江示例律师事务所",
    "name": "王明",
    "phone": "0571-88886666",
    "address": "浙江省杭州市上城区解放路88号",
}
_COMPANY_KEYS = ("name", "name_en", "address", "phone", "contact", "contact_phone", "email")
_BANK_KEYS = ("name", "account_name", "account_no")
_SIGNATORY_KEYS = ("name", "title")


@dataclass(frozen=True)
class CustomerInfo:
    code: str
    name: str
    address: str = ""
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ContractInfo:
    contract_no: str
    signed_on: dt.date | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class OpenItem:
    invoice_no: str
    contract_no: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    received: Decimal
    open_amount: Decimal
    days_overdue: int


@dataclass(frozen=True)
class EvidenceItem:
    """One line of the 证据清单: a document and what it proves."""

    name: str  # 买卖合同（HT-2025-0001）
    reference: str  # number and date
    proves: str  # 证明内容
    note: str = ""  # archive number, or what is missing


@dataclass(frozen=True)
class LetterInput:
    """Everything one letter prints; amounts are Decimal yuan, dates are `datetime.date`."""

    ref: str
    level: int
    level_name: str
    level_title: str
    as_of: dt.date
    deadline: dt.date
    customer: CustomerInfo
    company: dict[str, str] = field(default_factory=dict)
    bank: dict[str, str] = field(default_factory=dict)
    signatory: dict[str, str] = field(default_factory=dict)
    lawyer: dict[str, str] = field(default_factory=dict)
    contracts: list[ContractInfo] = field(default_factory=list)
    items: list[OpenItem] = field(default_factory=list)
    total_open: Decimal = ZERO
    total_overdue: Decimal = ZERO
    credit: Decimal = ZERO
    aging: dict[str, Decimal] = field(default_factory=dict)
    enclosures: list[str] = field(default_factory=list)  # what goes with the letter
    evidence: list[EvidenceItem] = field(default_factory=list)  # the lawyer level's 证据清单
    # Interest to date ([interest] in_letters): amount and its basis in words; None: not stated.
    interest: Decimal | None = None
    interest_basis: str = ""


CONTEXT_DOC: dict[str, str] = {
    "ref": "the letter's unique reference, e.g. CS-2025-000123 (also encoded in the QR code)",
    "level": "escalation level number, 1 = reminder … 4 = lawyer's letter",
    "level_name": "level name from dunning.toml, e.g. demand",
    "level_title": "level title from dunning.toml, e.g. 催款函",
    "as_of": "letter date in Chinese, e.g. 2025年11月30日",
    "as_of_iso": "letter date as 2025-11-30",
    "deadline": "payment deadline in Chinese, e.g. 2025年12月10日",
    "deadline_iso": "payment deadline as 2025-12-10",
    "deadline_days": "days from the letter date to the deadline, e.g. 10",
    "company": "your company: .name .name_en .address .phone .contact .contact_phone .email",
    "bank": "your bank account: .name (bank and branch) .account_name .account_no",
    "signatory": "who signs: .name .title",
    "lawyer": "the law firm for 律师函: .firm .name .phone .address",
    "customer": "the customer: .code .name .address .contact .phone",
    "contracts": "list of contracts; each has .contract_no .signed_on .signed_on_iso "
    ".amount .amount_words",
    "contract_nos": "the contract numbers joined with 、, e.g. HT-2025-001、HT-2025-007",
    "contracts_text": "the contracts as a phrase, e.g. 编号为HT-2025-001的合同（2025年1月5日签订）",
    "items": "open invoices (rows of the statement); each has .invoice_no .contract_no "
    ".invoice_date .invoice_date_iso .due_date .due_date_iso .amount .received .open_amount "
    ".days_overdue (number, 0 when not yet due) .days_overdue_text (天数 or 未到期)",
    "item_count": "number of open invoices",
    "total_amount": "sum of the invoices' amounts, e.g. 1,234.50",
    "total_received": "sum received against those invoices",
    "total_open": "total open balance, e.g. 16,409.02",
    "total_open_words": "total open balance in capital numerals, e.g. 壹万陆仟肆佰零玖元零贰分",
    "total_overdue": "overdue part of the balance",
    "total_overdue_words": "overdue part in capital numerals",
    "credit": "unallocated payments held for the customer (预收/未核销款)",
    "credit_words": "credit in capital numerals",
    "has_credit": "true when credit is not zero",
    "balance_due": "total open less credit: what the customer owes net",
    "balance_due_words": "balance_due in capital numerals",
    "max_days_overdue": "days overdue of the oldest overdue invoice",
    "aging": "aging buckets in order; each has .label (e.g. 1-30天) and .amount",
    "aging_total": "sum of the aging buckets",
    "enclosures": "what goes with the letter, e.g. 对账单、签收回执 (from the level's documents)",
    "evidence": "the 证据清单 rows (lawyer level): contract, invoices, signed statements, each"
    " letter with its delivery proof; each has .no .name .reference .proves .note",
    "evidence_count": "number of rows in the evidence list",
    "qr_png": "(not a tag) PNG of the QR code; replaces the picture whose alt text is `qr`",
    "has_interest": "true when the letter states interest to date ([interest] in_letters = true)",
    "interest": "interest on the overdue invoices to the letter date, e.g. 1,234.56",
    "interest_words": "interest in capital numerals",
    "interest_basis": "how it is computed, e.g. 按合同约定的逾期付款违约金标准",
}


def build_context(letter: LetterInput) -> dict[str, Any]:
    """The template variables for one letter; keys and meanings are in `CONTEXT_DOC`."""
    balance_due = letter.total_open - letter.credit
    context: dict[str, Any] = {
        "ref": letter.ref,
        "level": letter.level,
        "level_name": letter.level_name,
        "level_title": letter.level_title,
        **_dates(letter),
        "company": _filled(letter.company, _COMPANY_KEYS),
        "bank": _filled(letter.bank, _BANK_KEYS),
        "signatory": _filled(letter.signatory, _SIGNATORY_KEYS),
        "lawyer": {**DEFAULT_LAWYER, **{k: v for k, v in letter.lawyer.items() if v}},
        "customer": _customer(letter.customer),
        "contracts": [_contract(c) for c in letter.contracts],
        "contract_nos": "、".join(c.contract_no for c in letter.contracts),
        "contracts_text": _contracts_text(letter.contracts),
        "items": [_item(i) for i in letter.items],
        "item_count": len(letter.items),
        "total_amount": format_amount(sum((i.amount for i in letter.items), ZERO)),
        "total_received": format_amount(sum((i.received for i in letter.items), ZERO)),
        **_money("total_open", letter.total_open),
        **_money("total_overdue", letter.total_overdue),
        **_money("credit", letter.credit),
        "has_credit": letter.credit != 0,
        **_money("balance_due", balance_due),
        "max_days_overdue": max((i.days_overdue for i in letter.items), default=0),
        "aging": [{"label": k, "amount": format_amount(v)} for k, v in letter.aging.items()],
        "aging_total": format_amount(sum(letter.aging.values(), ZERO)),
        "enclosures": "、".join(letter.enclosures),
        "evidence": [
            {"no": n, "name": e.name, "reference": e.reference, "proves": e.proves, "note": e.note}
            for n, e in enumerate(letter.evidence, start=1)
        ],
        "evidence_count": len(letter.evidence),
        "qr_png": qr_png(letter.ref),
        "has_interest": bool(letter.interest),
        **_money("interest", letter.interest or ZERO),
        "interest_basis": letter.interest_basis,
    }
    return context


def _dates(letter: LetterInput) -> dict[str, Any]:
    return {
        "as_of": chinese_date(letter.as_of),
        "as_of_iso": letter.as_of.isoformat(),
        "deadline": chinese_date(letter.deadline),
        "deadline_iso": letter.deadline.isoformat(),
        "deadline_days": (letter.deadline - letter.as_of).days,
    }


def _money(name: str, amount: Decimal) -> dict[str, str]:
    return {name: format_amount(amount), f"{name}_words": amount_in_words(amount)}


def _filled(values: dict[str, str], keys: tuple[str, ...]) -> dict[str, str]:
    # Every documented key is present, so a template using one never meets StrictUndefined.
    return {**dict.fromkeys(keys, ""), **values}


def _customer(customer: CustomerInfo) -> dict[str, str]:
    return {
        "code": customer.code,
        "name": customer.name,
        "address": customer.address,
        "contact": customer.contact,
        "phone": customer.phone,
    }


def _contract(contract: ContractInfo) -> dict[str, str]:
    signed = contract.signed_on
    return {
        "contract_no": contract.contract_no,
        "signed_on": chinese_date(signed) if signed else "",
        "signed_on_iso": signed.isoformat() if signed else "",
        "amount": format_amount(contract.amount) if contract.amount is not None else "",
        "amount_words": amount_in_words(contract.amount) if contract.amount is not None else "",
    }


def _contracts_text(contracts: list[ContractInfo]) -> str:
    if not contracts:
        return "双方之间的买卖合同"
    parts = []
    for contract in contracts:
        signed = f"（{chinese_date(contract.signed_on)}签订）" if contract.signed_on else ""
        parts.append(f"编号为{contract.contract_no}的合同{signed}")
    return "、".join(parts)


def _item(item: OpenItem) -> dict[str, Any]:
    return {
        "invoice_no": item.invoice_no,
        "contract_no": item.contract_no,
        "invoice_date": chinese_date(item.invoice_date),
        "invoice_date_iso": item.invoice_date.isoformat(),
        "due_date": chinese_date(item.due_date),
        "due_date_iso": item.due_date.isoformat(),
        "amount": format_amount(item.amount),
        "received": format_amount(item.received),
        "open_amount": format_amount(item.open_amount),
        "days_overdue": item.days_overdue,
        "days_overdue_text": str(item.days_overdue) if item.days_overdue > 0 else "未到期",
    }
