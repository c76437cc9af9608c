"""Contract metadata: number, customer, amount, signing date — from the text or the file name."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dunning.dates import parse_date
from dunning.money import from_fen, parse_amount

_SEP = r"\s*[:：]?\s*"
_NO_LABELS = r"(?:合同编号|合同号|合同编码|协议编号|Contract\s*No\.?|Contract\s*Number)"
_CONTRACT_NO = re.compile(
    _NO_LABELS + _SEP + r"([A-Za-z0-9][A-Za-z0-9\-_/.]{2,40}[A-Za-z0-9])", re.I
)
# A number in a file name: letters, a dash, digits with dashes (HT-2025-0005, XS2025-031).
_NO_IN_NAME = re.compile(r"[A-Za-z]{1,6}-?\d{2,4}(?:-\d{1,6})+|[A-Za-z]{2,6}\d{6,}")
_PARTY = re.compile(
    r"(甲方|乙方|买方|卖方|需方|供方|委托方|受托方|Buyer|Seller|Party\s*A|Party\s*B)"
    r"\s*(?:[（(][^）)]{0,8}[）)])?\s*[:：]\s*([^\s:：,，;；()（）]{2,60})",
    re.I,
)
_BUYER_ROLES = ("买方", "需方", "甲方", "委托方", "buyer", "party a")
_AMOUNT = re.compile(
    r"(?:合同总价|合同金额|合同总金额|合同价款|总价款|总金额|合同总额|Contract\s*(?:Total\s*)?"
    r"(?:Price|Amount|Value))\s*(?:[（(][^）)]{0,10}[）)])?"
    + _SEP
    + r"(?:人民币|RMB|CNY)?\s*[￥¥]?\s*([\d,，]+(?:\.\d{1,2})?)\s*(万)?",
    re.I,
)
_SIGNED = re.compile(
    r"(?:签订日期|签约日期|签订时间|签署日期|合同日期|Date\s*of\s*Signing|Signing\s*Date)"
    + _SEP
    + r"(\d{4}\s*(?:年\s*\d{1,2}\s*月\s*\d{1,2}\s*日?|[-/.]\d{1,2}[-/.]\d{1,2}))",
    re.I,
)
_SUFFIX = re.compile(r"[（(]?\s*(?:盖章|签章|公章|签字)\s*[)）]?$")
# Normalised text joins lines, so a party's name runs into the next label: cut it there.
_NAME_END = re.compile(
    r"(?:甲方|乙方|买方|卖方|需方|供方|签订|签约|日期|地址|住所|电话|法定代表人|委托代理人|"
    r"开户|账号|合同|统一社会信用代码|[（(]\s*(?:盖章|签章|公章|签字))"
)


@dataclass(frozen=True)
class ContractMeta:
    contract_no: str | None = None
    parties: tuple[tuple[str, str], ...] = ()  # (role, name) as written
    amount: Decimal | None = None
    signed_on: dt.date | None = None

    def customer_candidates(self, own_company: str = "") -> list[str]:
        """Party names that may be the customer, buyers first, our own company left out."""
        ranked = sorted(
            self.parties,
            key=lambda p: 0 if p[0].lower() in _BUYER_ROLES else 1,
        )
        names = []
        for _, name in ranked:
            if own_company and (name in own_company or own_company in name):
                continue
            if name not in names:
                names.append(name)
        return names


def extract_meta(text: str, filename: str) -> ContractMeta:
    """Read the contract's particulars; anything not found stays None."""
    number = _first(_CONTRACT_NO, text) or _first(_NO_IN_NAME, filename, group=0)
    parties = tuple(
        (m.group(1), _NAME_END.split(_SUFFIX.sub("", m.group(2)), maxsplit=1)[0].strip())
        for m in _PARTY.finditer(text)
    )
    return ContractMeta(
        contract_no=number.upper() if number else None,
        parties=tuple(p for p in parties if len(p[1]) >= 2),
        amount=_amount(text),
        signed_on=_signed_on(text),
    )


def _first(pattern: re.Pattern[str], text: str, *, group: int = 1) -> str | None:
    match = pattern.search(text)
    return match.group(group).rstrip(".-_/") if match else None


def _amount(text: str) -> Decimal | None:
    match = _AMOUNT.search(text)
    if not match:
        return None
    try:
        value = parse_amount(match.group(1).replace("，", ","))
    except ValueError:
        return None
    return value * 10000 if match.group(2) else value


def _signed_on(text: str) -> dt.date | None:
    match = _SIGNED.search(text)
    if not match:
        return None
    try:
        return parse_date(re.sub(r"\s+", "", match.group(1)))
    except ValueError:
        return None


@dataclass(frozen=True)
class ContractLink:
    contract_no: str | None
    customer_code: str | None


def link_contract(
    conn: sqlite3.Connection, meta: ContractMeta, *, own_company: str = ""
) -> ContractLink:
    """Match the contract to the ledger: by contract number first, then by party name."""
    code = None
    if meta.contract_no:
        row = conn.execute(
            "SELECT customer_code FROM contracts WHERE upper(contract_no) = ?", [meta.contract_no]
        ).fetchone()
        code = row[0] if row else None
    if code is None:
        code = _customer_by_name(conn, meta.customer_candidates(own_company))
    return ContractLink(meta.contract_no, code)


def _customer_by_name(conn: sqlite3.Connection, names: list[str]) -> str | None:
    for name in names:
        row = conn.execute(
            "SELECT code FROM customers WHERE name = ? OR code = ?", [name, name]
        ).fetchone()
        if row:
            return str(row[0])
    for name in names:
        rows = conn.execute(
            "SELECT code FROM customers WHERE length(name) >= 4 AND instr(?, name) > 0", [name]
        ).fetchall()
        if len(rows) == 1:
            return str(rows[0][0])
    return None


def record_contract(
    conn: sqlite3.Connection,
    meta: ContractMeta,
    link: ContractLink,
    document_id: int,
    *,
    own_company: str = "",
) -> None:
    """Create or complete the contracts row for an archived contract document."""
    if not link.contract_no:
        return
    names = meta.customer_candidates(own_company)
    conn.execute(
        "INSERT INTO contracts (contract_no, customer_code, customer_name, amount_fen, signed_on,"
        " document_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(contract_no) DO UPDATE SET"
        " customer_code = COALESCE(contracts.customer_code, excluded.customer_code),"
        " customer_name = COALESCE(excluded.customer_name, contracts.customer_name),"
        " amount_fen = COALESCE(excluded.amount_fen, contracts.amount_fen),"
        " signed_on = COALESCE(excluded.signed_on, contracts.signed_on),"
        " document_id = COALESCE(contracts.document_id, excluded.document_id)",
        [
            link.contract_no,
            link.customer_code,
            names[0] if names else None,
            int(meta.amount * 100) if meta.amount is not None else None,
            meta.signed_on.isoformat() if meta.signed_on else None,
            document_id,
        ],
    )


@dataclass(frozen=True)
class CustomerContract:
    """A contract of a customer as the archive holds it, with its archived copy if any."""

    contract_no: str
    amount: Decimal | None
    signed_on: dt.date | None
    title: str | None
    document: int | None
    stored_path: str | None  # the archived copy, relative to the desk


def contracts_of(db: Any, code: str) -> list[CustomerContract]:
    """Every contract of the customer `code`, by contract number."""
    rows = db.execute(
        "SELECT c.contract_no, c.amount_fen, c.signed_on, c.title, c.document_id, d.stored_path"
        " FROM contracts c LEFT JOIN documents d ON d.id = c.document_id"
        " WHERE c.customer_code = ? ORDER BY c.contract_no",
        [code],
    ).fetchall()
    return [
        CustomerContract(
            r[0],
            from_fen(r[1]) if r[1] is not None else None,
            dt.date.fromisoformat(r[2]) if r[2] else None,
            r[3],
            r[4],
            r[5],
        )
        for r in rows
    ]
