"""A bank statement as read from its file: plain, picklable dataclasses."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dunning.config import account_key
from dunning.money import to_fen
from dunning.vocabulary import SKIPPED_BANK_ROWS, title


@dataclass(frozen=True)
class BankRow:
    """One incoming row (a receipt) of a statement."""

    row: int  # the row number a clerk sees in Excel (1-based)
    on: dt.date
    at: str | None  # "2025-03-05 10:22:33" when the file gives a time
    amount: Decimal  # positive
    payer_name: str
    payer_account: str
    memo: str
    serial: str | None


@dataclass(frozen=True)
class Statement:
    layout: str  # which header layout was recognised: columns | flag | parties | signed
    account: str  # our account, as the file writes it
    account_name: str | None
    header_row: int  # 1-based
    receipts: list[BankRow]
    rows_read: int
    skipped: Counter[str] = field(default_factory=Counter)
    balance_checked: int = 0  # rows whose printed 余额 was reconciled

    def summary(self) -> str:
        """`读取 12 行：到账 7 笔，跳过支出行 4 行，跳过合计行 1 行`."""
        parts = [f"到账 {len(self.receipts)} 笔"]
        parts += [
            f"跳过{title(SKIPPED_BANK_ROWS, k)} {n} 行" for k, n in sorted(self.skipped.items())
        ]
        return f"读取 {self.rows_read} 行：" + "，".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_name": self.account_name,
            "layout": self.layout,
            "rows_read": self.rows_read,
            "receipts": len(self.receipts),
            "skipped": dict(sorted(self.skipped.items())),
            "balance_checked": self.balance_checked,
        }


def same_account(a: str, b: str) -> bool:
    """Equal account numbers; a masked one (`6222****0258`) matches the full number."""
    ka, kb = account_key(a), account_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    for masked, full in ((ka, kb), (kb, ka)):
        if "*" in masked and "*" not in full:
            head, _, tail = masked.partition("*")
            tail = tail.lstrip("*")
            if len(head) + len(tail) >= 4 and full.startswith(head) and full.endswith(tail):
                return len(full) >= len(head) + len(tail)
    return False


def dedupe_key(account: str, row: BankRow, nth: int) -> str:
    """The bank's serial, else account + time + amount + counterparty (+ the n-th such row)."""
    acct = account_key(account)
    if row.serial:
        return f"sn|{acct}|{row.serial}"
    when = row.at or row.on.isoformat()
    return f"row|{acct}|{when}|{to_fen(row.amount)}|{row.payer_account}|{row.payer_name}|{nth}"


def dedupe_keys(account: str, rows: list[BankRow]) -> list[str]:
    seen: Counter[str] = Counter()
    keys = []
    for row in rows:
        base = dedupe_key(account, row, 0)
        seen[base] += 1
        keys.append(base if row.serial else base[: -len("|0")] + f"|{seen[base]}")
    return keys


def same_key(account: str, row: BankRow) -> str:
    """Account + time + amount + payer's account: the same row in an export without serials."""
    when = row.at or row.on.isoformat()
    return f"{account_key(account)}|{when}|{to_fen(row.amount)}|{account_key(row.payer_account)}"
