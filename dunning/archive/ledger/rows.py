"""What a ledger file reads into: plain rows, the row accounting, and cell value conversion."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from dunning.dates import parse_date
from dunning.errors import RowProblem
from dunning.money import CENT, parse_amount

LedgerKind = Literal["invoices", "payments", "customers", "detail"]
PaymentKind = Literal["payment", "credit_note", "opening"]
SkipKind = Literal["blank", "total", "subtotal", "opening", "heading", "header"]


@dataclass(frozen=True)
class InvoiceRow:
    row: int  # the row number the clerk sees in Excel (1-based, header rows counted)
    customer_code: str | None
    customer_name: str | None
    contract_no: str | None
    invoice_no: str
    invoice_date: dt.date
    due_date: dt.date | None  # None: the import applies the desk's default terms
    amount: Decimal
    received: Decimal  # 已收金额 already applied to this invoice; 0 when the column is absent


@dataclass(frozen=True)
class PaymentRow:
    row: int
    customer_code: str | None
    customer_name: str | None
    paid_on: dt.date
    amount: Decimal
    invoice_ref: str | None
    payment_no: str | None
    kind: PaymentKind = "payment"  # a credit note (红字发票) or a credit opening balance


@dataclass(frozen=True)
class CustomerRow:
    row: int
    code: str | None
    name: str | None
    address: str | None = None
    contact: str | None = None
    phone: str | None = None
    credit_grade: str | None = None
    salesperson: str | None = None


@dataclass
class RowCounts:
    """Every data row of a file, accounted for: imported, skipped (by kind) or bad."""

    read: int = 0
    imported: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # kind -> rows
    bad: int = 0

    def skip(self, kind: str) -> None:
        self.skipped[kind] = self.skipped.get(kind, 0) + 1

    @property
    def adds_up(self) -> bool:
        return self.read == self.imported + sum(self.skipped.values()) + self.bad

    def summary(self) -> str:
        """`18 rows read: 17 imported, 1 total skipped`."""
        parts = [f"{self.imported} imported"]
        parts += [f"{n} {kind} skipped" for kind, n in sorted(self.skipped.items())]
        if self.bad:
            parts.append(f"{self.bad} bad")
        return f"{self.read} row{'s' if self.read != 1 else ''} read: {', '.join(parts)}"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RowCounts:
        return cls(
            int(data.get("read", 0)),
            int(data.get("imported", 0)),
            {str(k): int(v) for k, v in dict(data.get("skipped") or {}).items()},
            int(data.get("bad", 0)),
        )

    def to_json(self) -> dict[str, object]:
        return {
            "read": self.read,
            "imported": self.imported,
            "skipped": dict(sorted(self.skipped.items())),
            "bad": self.bad,
        }


@dataclass
class Ledger:
    kind: LedgerKind
    sheet: str | None  # XLSX sheet name (the first read), None for CSV
    header_row: int  # 1-based
    columns: dict[str, str]  # our field name -> the header as written in the file
    invoices: list[InvoiceRow] = field(default_factory=list)
    payments: list[PaymentRow] = field(default_factory=list)
    customers: list[CustomerRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # headers no field was read from
    encoding: str | None = None  # CSV only: utf-8-sig, gb18030 or utf-16
    counts: RowCounts = field(default_factory=RowCounts)
    sheets: list[str] = field(default_factory=list)  # every sheet read (XLSX)

    @property
    def row_count(self) -> int:
        return len(self.invoices) + len(self.payments) + len(self.customers)


ZERO = Decimal("0.00")
# 合计/总计/小计 (also 本月合计, 合 计, 本年累计); 小计算机 is a name, not a subtotal.
_TOTAL = re.compile(r"[合总小]\s*计(?!算)|本年累计|累计发生")
_SUBTOTAL = re.compile(r"小\s*计|本[月期季]\s*合\s*计")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Below this a float is an ordinary amount (money.LIMIT): its repr is exact enough to quantize.
_FLOAT_FAST = 1e11


def is_blank(row: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def skip_kind(row: Sequence[object]) -> SkipKind | None:
    """Blank rows and total rows (合计/总计/小计 in any text cell) carry no ledger entry."""
    blank = True
    for value in row:
        if value is None:
            continue
        if type(value) is str:
            if "计" in value and _TOTAL.search(value):
                return "subtotal" if _SUBTOTAL.search(value) else "total"
            if not value or value.isspace():
                continue
        blank = False
    return "blank" if blank else None


def text(value: object) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        return value.strip() or None
    if type(value) is float and value.is_integer():
        return str(int(value))  # a code or number typed into a numeric cell: 1001.0 → "1001"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip() or None


def checked_text(value: object, row: int, header: str, problems: list[RowProblem]) -> str | None:
    """A text cell; a control character (never typed by a clerk) makes the row bad."""
    found = text(value)
    if found is not None and _CONTROL.search(found):
        char = _CONTROL.search(found)
        assert char is not None
        why = (
            f"the cell holds a control character (U+{ord(char.group()):04X}) that no ledger "
            "has; retype the value"
        )
        problems.append(RowProblem(row, header, found.encode("unicode_escape").decode(), why))
        return None
    return found


def date_value(
    value: object, row: int, header: str, problems: list[RowProblem], *, required: bool
) -> dt.date | None:
    if type(value) is dt.datetime:
        return value.date()  # the common Excel date cell, without the general parser
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(RowProblem(row, header, "", "the date is empty; fill it in"))
        return None
    try:
        return parse_date(value)
    except (ValueError, OverflowError) as exc:
        problems.append(RowProblem(row, header, str(value), str(exc)))
        return None


def amount_value(
    value: object, row: int, header: str, problems: list[RowProblem], *, required: bool
) -> Decimal | None:
    if type(value) is float and -_FLOAT_FAST < value < _FLOAT_FAST:
        # parse_amount's float rule inlined for the common Excel cell (and NaN fails the test).
        return Decimal(repr(value)).quantize(CENT, ROUND_HALF_UP)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(RowProblem(row, header, "", "the amount is empty; fill it in"))
        return None
    try:
        return parse_amount(value)
    except ValueError as exc:
        problems.append(RowProblem(row, header, str(value), str(exc)))
        return None
