"""What a ledger file reads into: plain rows, the row accounting, and cell value conversion."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from dunning.dates import parse_date
from dunning.errors import RowProblem
from dunning.money import CENT, YUAN, currency_code, foreign_amount, parse_money
from dunning.vocabulary import row_summary

LedgerKind = Literal["invoices", "payments", "customers", "detail"]
PaymentKind = Literal["payment", "credit_note", "opening"]
SkipKind = Literal[
    "blank", "total", "subtotal", "opening", "heading", "header", "page", "footer", "summary"
]


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

    def summary(self, *, rejected: bool = False) -> str:
        """`读取 18 行：导入 17 行，跳过合计行 1 行`; for a rejected file, where nothing was
        imported, `本可导入 17 行`."""
        return row_summary(self.read, self.imported, self.skipped, self.bad, rejected=rejected)

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
    ignored_sheets: list[str] = field(default_factory=list)  # "name (why)": sheets not read

    @property
    def row_count(self) -> int:
        return len(self.invoices) + len(self.payments) + len(self.customers)

    def searchable_text(self) -> str:
        """The identifiers the ledger holds, each once: its customers (code, name, address,
        contact), contracts, invoice and payment numbers. A search for any of them finds the
        file; repeating a customer's name on each of its 1,000 rows would find nothing more."""
        lines: dict[str, None] = {}
        numbers: dict[str, None] = {}
        for inv in self.invoices:
            lines[" ".join(filter(None, [inv.customer_code, inv.customer_name]))] = None
            numbers.update(dict.fromkeys(filter(None, [inv.contract_no, inv.invoice_no])))
        for pay in self.payments:
            lines[" ".join(filter(None, [pay.customer_code, pay.customer_name]))] = None
            numbers.update(dict.fromkeys(filter(None, [pay.invoice_ref, pay.payment_no])))
        for cus in self.customers:
            lines[" ".join(filter(None, [cus.code, cus.name, cus.address, cus.contact]))] = None
        words = list(numbers)
        rows = (" ".join(words[i : i + 8]) for i in range(0, len(words), 8))
        return "\n".join([*lines, *rows])


ZERO = Decimal("0.00")
# A detail ledger's opening balance is an invoice numbered 期初-CUSTOMER-YYYYMMDD.
OPENING_PREFIX = "期初-"
# A total row's label is a whole cell: 合计, 本月合计, 合 计, 本年累计, 甲公司 小计, 合计：. A name
# such as 江苏联合计量有限公司 or a remark such as 含运费合计 in another column is not one.
_TOTAL = re.compile(
    r"(?:.*?\S)??\s*(本\s*[日月期季年])?\s*([合总小累])\s*计\s*(?:数|金额|发生额)?\s*[:：]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Zero-width characters pasted from web pages and chat: invisible, but they make two names differ.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_EXCEL_ERRORS = frozenset(
    {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!", "#CALC!"}
)
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+")
# Excel keeps 15 significant digits of a number: a longer number typed into a cell is lost.
_EXCEL_DIGITS = 1e15
# Below this a float is an ordinary amount (money.LIMIT): its repr is exact enough to quantize.
_FLOAT_FAST = 1e11


def is_blank(row: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def total_kind(value: str) -> SkipKind | None:
    """`total` or `subtotal` when the cell is a total row's label."""
    if "计" not in value:
        return None
    hit = _TOTAL.fullmatch(value.strip())
    if hit is None:
        return None
    period, word = hit.group(1), hit.group(2)
    if word == "小" or (period is not None and "年" not in period and word == "合"):
        return "subtotal"
    return "total"


def skip_kind(row: Sequence[object], labels: Collection[int] | None = None) -> SkipKind | None:
    """Blank rows, and total rows (a 合计/总计/小计 label in one of the `labels` cells, or in
    any cell when no labels are given), carry no ledger entry."""
    if labels is None:
        labels = range(len(row))
    width = len(row)
    for index in labels:
        if index < width:
            value = row[index]
            if type(value) is str and "计" in value:
                kind = total_kind(value)
                if kind is not None:
                    return kind
    for value in row:
        if value is None:
            continue
        if type(value) is str and (not value or value.isspace()):
            continue
        return None
    return "blank"


_SIGN_OFF = re.compile(
    r"(?:制表人?|编制人?|制单人?|审核人?|复核人?|审批人?|会计主管|财务(?:负责人|主管)|经办人?|"
    r"记账人?|出纳|负责人|打印人|打印(?:时间|日期)|制表日期|签字|盖章|单位负责人)\s*[:：]"
)


def is_sign_off(row: Sequence[object]) -> bool:
    """The sign-off line under a printed ledger: 制表人：张三  审核：李四 (text only)."""
    cells = [v for v in row if v is not None and not (type(v) is str and not v.strip())]
    return bool(cells) and all(type(v) is str and _SIGN_OFF.match(v.strip()) for v in cells)


def text(value: object) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        if not value.isascii() and not value.isprintable():  # zero-width marks are unprintable
            value = value.translate(_ZERO_WIDTH)
        return value.strip() or None
    if type(value) is float and value.is_integer():
        return str(int(value))  # a code or number typed into a numeric cell: 1001.0 → "1001"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip() or None


def checked_text(
    value: object, row: int, header: str, problems: list[RowProblem], *, ident: bool = False
) -> str | None:
    """A text cell; a control character (never typed by a clerk) or an Excel error value makes
    the row bad. An identifier (`ident`: a code or number) is width-folded (ＫＨ００１ → KH001)
    and must not be a number Excel has cut to 15 digits."""
    if ident and type(value) is float and abs(value) >= _EXCEL_DIGITS:
        problems.append(RowProblem(row, header, repr(value), _TOO_LONG))
        return None
    found = text(value)
    if found is None:
        return None
    if found[0] == "#" and found in _EXCEL_ERRORS:
        why = "单元格是 Excel 错误值，不是数据：请更正公式后重新导出"
        problems.append(RowProblem(row, header, found, why))
        return None
    # isprintable() is False for every control character: the regex runs only when it must.
    if not found.isprintable() and (char := _CONTROL.search(found)) is not None:
        why = f"单元格含有台账中不会出现的控制字符（U+{ord(char.group()):04X}）：请重新输入该值"
        problems.append(RowProblem(row, header, found.encode("unicode_escape").decode(), why))
        return None
    if ident:
        if not found.isascii():
            found = unicodedata.normalize("NFKC", found)
        if ("E" in found or "e" in found) and _SCIENTIFIC.fullmatch(found):
            problems.append(RowProblem(row, header, found, _TOO_LONG))
            return None
    return found


_TOO_LONG = "该编号以数值保存，Excel 只保留了前 15 位：请在 Excel 中把该列设为文本格式后重新导出"


def date_value(
    value: object, row: int, header: str, problems: list[RowProblem], *, required: bool
) -> dt.date | None:
    if type(value) is dt.date:
        return value  # the common spreadsheet date cell (calamine), without the general parser
    if type(value) is dt.datetime:
        return value.date()
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(RowProblem(row, header, "", "日期为空：请填写"))
        return None
    try:
        return parse_date(value)
    except (ValueError, OverflowError) as exc:
        problems.append(RowProblem(row, header, str(value), str(exc)))
        return None


def amount_value(
    value: object,
    row: int,
    header: str,
    problems: list[RowProblem],
    *,
    required: bool,
    currency: str = YUAN,
) -> Decimal | None:
    """An amount in the desk's `currency`; a cell naming another one ($5,000.00) is bad."""
    if type(value) is float and -_FLOAT_FAST < value < _FLOAT_FAST:
        # parse_amount's float rule inlined for the common Excel cell (and NaN fails the test).
        return Decimal(repr(value)).quantize(CENT, ROUND_HALF_UP)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(RowProblem(row, header, "", "金额为空：请填写"))
        return None
    try:
        amount, named = parse_money(value)
    except ValueError as exc:
        problems.append(RowProblem(row, header, str(value), str(exc)))
        return None
    if named is not None and named != currency:
        problems.append(RowProblem(row, header, str(value), foreign_amount(named, currency)))
        return None
    return amount


_BOOK_CURRENCY = re.compile(
    r"(?:币\s*[别种]|货\s*币|currency)\s*(?:名称)?\s*[:：]\s*([^\s:：]+)", re.I
)
_LOCAL = ("本位币", "本币")


@dataclass(frozen=True)
class Currencies:
    """Which currency a sheet's rows are in, and the one the desk keeps.

    `book` is what a title line says (币别：美元) or an amount header (应收金额(USD)); a
    currency column overrides it row by row. `local`: the amounts are read from 本位币
    columns, so they are in the desk's currency whatever the row's own currency.
    """

    desk: str = YUAN
    book: str | None = None
    local: bool = False
    said: str = ""  # where the sheet names its currency: 币别：美元, 应收金额(USD)

    def foreign(self, cell: object, row: int, header: str, problems: list[RowProblem]) -> bool:
        """True (and the row named) when the row is in a currency the desk does not keep."""
        raw = text(cell)
        code = self.code(raw) if raw is not None else self.book
        if code is None or code == self.desk or self.local:
            return False
        shown = raw if raw is not None else self.said
        why = (
            f"该行币种为 {code}，不是本工作台的记账币种 {self.desk}，两种币种不能合计为一个余额："
            f"请按本位币（{self.desk}）导出台账，或删去外币行"
        )
        problems.append(RowProblem(row, header, shown, why))
        return True

    def code(self, raw: str) -> str | None:
        if any(word in raw for word in _LOCAL):
            return self.desk  # 综合本位币: every currency converted into the desk's
        return currency_code(raw)


def book_currency(lines: Sequence[Sequence[object]]) -> tuple[str, str] | None:
    """The currency a title line names, as written, and the words that name it:
    `币别：美元` → (`美元`, `币别：美元`)."""
    for line in lines:
        joined = " ".join(t for cell in line if (t := text(cell)) is not None)
        if "币" in joined or "货" in joined or "urrency" in joined:
            hit = _BOOK_CURRENCY.search(joined)
            if hit is not None:
                return hit.group(1), hit.group()
    return None


def sheet_currencies(
    desk: str,
    lines: Sequence[Sequence[object]],
    headers: Collection[str],
    named: Collection[str | None],
) -> Currencies:
    """A sheet's currencies from its title lines, its amount columns' headers (`headers`) and
    the currencies those headers name (`named`: 应收金额(USD) → USD)."""
    rule = Currencies(desk)
    local = any(word in header for header in headers for word in _LOCAL)
    found = book_currency(lines)
    if found is not None:
        return Currencies(desk, rule.code(found[0]), local, found[1])
    for header, code in zip(headers, named, strict=True):
        if code is not None:
            return Currencies(desk, code, local, header)
    return Currencies(desk, None, local)
