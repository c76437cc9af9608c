"""The 证据清单 (evidence list) of the lawyer level: what a court will ask to see.

Contract, invoices, signed statements, and each letter with its proof of delivery, read from
the archive; numbers in the notes are archive document numbers (`dunning show ID`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping, Sequence

from dunning.dates import chinese_date
from dunning.letters.context import ContractInfo, EvidenceItem, OpenItem
from dunning.letters.delivery import CHANNEL_TITLES, Delivery, load_deliveries
from dunning.money import format_amount
from dunning.vocabulary import LETTER_LEVELS

LETTER_TITLES = dict(LETTER_LEVELS)


def evidence_items(
    conn: sqlite3.Connection,
    code: str,
    contracts: Sequence[ContractInfo],
    items: Sequence[OpenItem],
    *,
    as_of: dt.date,
    titles: Mapping[str, str] | None = None,
) -> list[EvidenceItem]:
    """The customer's evidence, in the order a court file puts it."""
    found = [_contract(conn, code, c) for c in contracts]
    found += [_invoice(i) for i in items]
    letters = [d for d in load_deliveries(conn, code) if d.issued_on <= as_of]
    found += [_reply(d) for d in letters if d.reply == "agreed" and d.reply_on is not None]
    names = {**LETTER_TITLES, **(titles or {})}
    found += [_letter(d, names) for d in letters if d.status != "issued"]
    return found


def _contract(conn: sqlite3.Connection, code: str, contract: ContractInfo) -> EvidenceItem:
    row = conn.execute(
        "SELECT document_id FROM contracts WHERE customer_code = ? AND contract_no = ?",
        [code, contract.contract_no],
    ).fetchone()
    signed = f"，{chinese_date(contract.signed_on)}签订" if contract.signed_on else ""
    amount = (
        f"，合同金额人民币{format_amount(contract.amount)}元" if contract.amount is not None else ""
    )
    document = row[0] if row else None
    return EvidenceItem(
        name=f"买卖合同（{contract.contract_no}）",
        reference=f"{contract.contract_no}{signed}",
        proves=f"双方存在买卖合同关系，约定供货及付款义务{amount}",
        note=f"档案 {document}" if document else "未归档：请补合同扫描件",
    )


def _invoice(item: OpenItem) -> EvidenceItem:
    return EvidenceItem(
        name=f"发票（{item.invoice_no}）",
        reference=f"{item.invoice_no}，{item.invoice_date.isoformat()}开具",
        proves=(
            f"我司已供货并开具发票，金额人民币{format_amount(item.amount)}元，约定"
            f"{item.due_date.isoformat()}前付款，尚欠{format_amount(item.open_amount)}元"
        ),
        note=f"合同 {item.contract_no}" if item.contract_no else "",
    )


def _reply(letter: Delivery) -> EvidenceItem:
    assert letter.reply_on is not None
    return EvidenceItem(
        name=f"对账单回执（{letter.ref}）",
        reference=f"{letter.ref}，{letter.reply_on.isoformat()}确认相符",
        proves="对方签章确认欠款余额（诉讼时效中断）",
        note=f"档案 {letter.reply_document}" if letter.reply_document else "回执原件",
    )


def _letter(letter: Delivery, names: Mapping[str, str]) -> EvidenceItem:
    title = names.get(letter.level_name, letter.level_name)
    sent = ""
    if letter.sent_on is not None and letter.channel is not None:
        number = f" {letter.tracking_no}" if letter.tracking_no else ""
        sent = f"；{CHANNEL_TITLES[letter.channel]}{number}，{letter.sent_on.isoformat()}寄出"
    proves, note = _letter_proof(letter)
    return EvidenceItem(
        name=f"{title}（{letter.ref}）及送达凭证",
        reference=f"{letter.ref}，{letter.issued_on.isoformat()}出具{sent}",
        proves=proves,
        note=note,
    )


def _letter_proof(letter: Delivery) -> tuple[str, str]:
    if letter.proven_on is not None:
        proves = f"我司已向对方催收，{letter.proven_on.isoformat()}送达（诉讼时效中断）"
        if letter.evidence_document is not None:
            return proves, f"妥投证明：档案 {letter.evidence_document}"
        if letter.signed_document is not None:
            return proves, f"签收回执：档案 {letter.signed_document}"
        return proves, "送达记录"
    if letter.status == "returned":
        return f"函件被退回（{letter.return_reason}）", "退件凭证"
    return "我司已向对方寄送催款函", "未取得妥投证明：请向快递公司调取"
