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
    "ref": "函件的唯一编号，如 CS-2025-000123（也印在二维码里）",
    "level": "催收级别的序号，1 = 付款提醒函 … 4 = 律师函",
    "level_name": "dunning.toml 中级别的代码，如 `demand`",
    "level_title": "dunning.toml 中级别的标题，如 催款函",
    "as_of": "函件日期（中文写法），如 2025年11月30日",
    "as_of_iso": "函件日期，写作 2025-11-30",
    "deadline": "付款期限（中文写法），如 2025年12月10日",
    "deadline_iso": "付款期限，写作 2025-12-10",
    "deadline_days": "函件日期到付款期限的天数，如 10",
    "company": "本公司：.name 名称 .name_en 英文名称 .address 地址 .phone 电话 "
    ".contact 联系人 .contact_phone 联系人电话 .email 邮箱",
    "bank": "本公司收款账户：.name 开户银行及支行 .account_name 户名 .account_no 账号",
    "signatory": "落款人：.name 姓名 .title 职务",
    "lawyer": "律师函的律师事务所：.firm 律所 .name 律师 .phone 电话 .address 地址",
    "customer": "客户：.code 编号 .name 名称 .address 地址 .contact 联系人 .phone 电话",
    "contracts": "合同列表；每份有 .contract_no 合同编号 .signed_on 签订日期 "
    ".signed_on_iso 签订日期（2025-01-05 写法） .amount 金额 .amount_words 大写金额",
    "contract_nos": "用 、 连接的合同编号，如 HT-2025-001、HT-2025-007",
    "contracts_text": "合同的一句话写法，如 编号为HT-2025-001的合同（2025年1月5日签订）",
    "items": "未清发票（对账单的各行）；每行有 .invoice_no 发票号 .contract_no 合同编号 "
    ".invoice_date 开票日期 .invoice_date_iso .due_date 到期日 .due_date_iso .amount 金额 "
    ".received 已收 .open_amount 未收 .days_overdue 逾期天数（数字，未到期为 0） "
    ".days_overdue_text 逾期天数或“未到期”",
    "item_count": "未清发票张数",
    "total_amount": "这些发票的金额合计，如 1,234.50",
    "total_received": "这些发票已收款合计",
    "total_open": "未收余额合计，如 16,409.02",
    "total_open_words": "未收余额合计的大写，如 壹万陆仟肆佰零玖元零贰分",
    "total_overdue": "余额中已逾期的部分",
    "total_overdue_words": "已逾期部分的大写",
    "credit": "客户尚未核销的付款（预收/未核销款）",
    "credit_words": "预收/未核销款的大写",
    "has_credit": "有预收/未核销款时为真",
    "balance_due": "未收余额减去预收/未核销款：客户净欠金额",
    "balance_due_words": "客户净欠金额的大写",
    "max_days_overdue": "最早一张逾期发票的逾期天数",
    "aging": "账龄区间，按顺序；每个有 .label 区间名（如 1-30天） .amount 金额",
    "aging_total": "各账龄区间合计",
    "enclosures": "随函附件，如 对账单、签收回执（取自该级别的文书）",
    "evidence": "证据清单的各行（律师函级别）：合同、发票、签字对账单、每封函件及其妥投证明；"
    "每行有 .no 序号 .name 名称 .reference 编号与日期 .proves 证明内容 .note 备注",
    "evidence_count": "证据清单的行数",
    "qr_png": "（不是标签）二维码图片：替换模板中替代文字为 `qr` 的图片",
    "has_interest": "函件写明截至函件日期的利息时为真（`[interest] in_letters = true`）",
    "interest": "逾期发票截至函件日期的利息，如 1,234.56",
    "interest_words": "利息的大写",
    "interest_basis": "利息的计算依据，如 按合同约定的逾期付款违约金标准",
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
