"""Detail ledgers (客户往来明细账, 应收款明细表, 往来对账单): dated debits and credits per customer.

Debit rows become invoices, credit rows payments, the opening balance one item at the period's
start; 合计/累计 rows are skipped. The file's own 余额 is recomputed row by row (opening +
借方 − 贷方, signed by 方向) and any row that does not reconcile rejects the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from dunning.archive.ledger.header import Column
from dunning.archive.ledger.rows import (
    OPENING_PREFIX,
    ZERO,
    Currencies,
    InvoiceRow,
    Ledger,
    PaymentRow,
    amount_value,
    checked_text,
    date_value,
    is_sign_off,
    skip_kind,
    text,
)
from dunning.archive.ledger.tabular import Layout, Rows, _check_twice
from dunning.errors import RowProblem

DETAIL_FIELDS = (
    "customer_code", "customer_name", "contract_no", "invoice_no", "invoice_date", "year",
    "month", "day", "voucher", "summary", "debit", "credit", "direction", "balance", "currency",
)  # fmt: skip
(_CODE, _NAME, _CONTRACT, _NUMBER, _DATE, _YEAR, _MONTH, _DAY, _VOUCHER, _SUMMARY, _DEBIT,
 _CREDIT, _DIRECTION, _BALANCE, _CURRENCY) = range(len(DETAIL_FIELDS))  # fmt: skip

# The whole 摘要 of an opening row (收回期初欠款 is a payment, not an opening).
_OPENING = re.compile(r"\s*(?:期初余额|期初|上年结转|上期结转|年初余额|本年期初)\s*[:：]?\s*")
_CLOSING = re.compile(r"期末余额|结转下年")
# Printed books carry a page's running totals over: 过次页 at the foot, 承前页 at the head of
# the next. They repeat what the rows already say; the balance runs on through them.
_PAGE = re.compile(r"过次页|承前页|转下页|接上页|^\s*第\s*\d+\s*页|^\s*共\s*\d+\s*页")
_WHO_LABEL = re.compile(
    r"(?:客户(?:名称|编码|编号)?|往来单位(?:名称)?|单位名称|对账单位|购货单位|对方单位)\s*[:：]\s*"
)
_CUT = re.compile(
    r"\s{2,}|(?:会计)?期间|日期|币[别种]|截至|打印|单位[:：]|科目|客户(?:编码|编号|代码)[:：]"
)
_CODE_LABEL = re.compile(r"客户(?:编码|编号|代码)\s*[:：]\s*([A-Za-z0-9][\w.\-]*)")
_CODED = re.compile(r"^([A-Za-z]{0,6}\d[A-Za-z0-9.\-]*)\s*(?<=\s|\d)([^\s\d].*)$")
_NAME_CODE = re.compile(r"^(.+?)\s*[(（]([A-Za-z0-9.\-]+)[)）]$")
_BARE_CODE = re.compile(r"^[A-Za-z]{0,6}\d{2,}[\w.\-]*$")
_GENERIC_SHEET = re.compile(
    r"^(sheet\d*|工作表\d*|明细.*|.*明细[账表]?|汇总.*|往来.*|台账.*|对账单.*|数据.*|export.*"
    r"|\d{4}\s*年?度?|\d{4}[-./]\d{1,2}|\d{4}\s*年\s*\d{1,2}\s*月|\d{1,2}\s*月份?|[一二三四五六七八九十]+月)$",
    re.IGNORECASE,
)
_PERIOD_START = re.compile(r"((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*[月期]")
_YEAR_TEXT = re.compile(r"((?:19|20)\d\d)\s*年")
# A print or export date says when the book was printed, not which period it covers.
_NOT_PERIOD = re.compile(r"(?:制表|打印|编制|导出|填报)(?:日期|时间)?\s*[:：]?\s*\S*")
_INVOICE_IN_SUMMARY = re.compile(r"(?:发票号码?|票号|发票)\s*[:：#]?\s*([A-Za-z]*\d[\w\-]{3,})")
_INVOICE_DIGITS = re.compile(r"(?<!\d)(\d{20}|\d{8})(?!\d)")
_SIGN = {
    "借": 1, "贷": -1, "平": 0, "借方": 1, "贷方": -1, "dr": 1, "cr": -1, "debit": 1,
    "credit": -1, "d": 1, "c": -1,
}  # fmt: skip

Who = tuple[str | None, str | None]


@dataclass
class Context:
    """What the lines above a sheet's header say: its customer and the period."""

    who: Who | None = None
    year: int | None = None
    period_start: dt.date | None = None


@dataclass
class _Block:
    """One customer's running balance inside a file."""

    who: Who
    balance: Decimal | None = None
    # Opening balances waiting for a date: (row, amount, the row's own date or None).
    openings: list[tuple[int, Decimal, dt.date | None]] = field(default_factory=list)


def parse_who(raw: str) -> Who | None:
    """`KH003 南京同创化工有限公司` → (KH003, name); `南京同创（KH003）`; a bare code or name."""
    found = raw.strip()
    if not found:
        return None
    if hit := _CODED.match(found):
        return hit.group(1), hit.group(2).strip()
    if hit := _NAME_CODE.match(found):
        return hit.group(2), hit.group(1).strip()
    if _BARE_CODE.match(found):
        return found, None
    return None, found


def _who_in_line(joined: str) -> Who | None:
    """`客户：KH003 某某公司`, `客户：KH003某某公司`, `客户名称：某某公司 客户编码：KH003`."""
    hit = _WHO_LABEL.search(joined)
    if hit is None:
        return None
    rest = _CUT.split(joined[hit.end() :], maxsplit=1)[0]
    who = parse_who(rest)
    code = _CODE_LABEL.search(joined)
    if code is not None and who is not None and who[0] is None:
        return code.group(1), who[1]
    if code is not None and who is not None and who[0] == code.group(1):
        return who
    return who


def context_of(lines: Sequence[Sequence[object]], sheet: str | None) -> Context:
    """The customer and period from title lines above the header, else from the sheet name."""
    ctx = Context()
    for line in lines:
        joined = " ".join(t for cell in line if (t := text(cell)) is not None)
        if ctx.who is None:
            ctx.who = _who_in_line(joined)
        joined = _NOT_PERIOD.sub(" ", joined)
        if ctx.period_start is None and (start := _PERIOD_START.search(joined)):
            year, month = int(start.group(1)), int(start.group(2))
            if 1 <= month <= 12:
                ctx.period_start = dt.date(year, month, 1)
        if ctx.year is None and (year_hit := _YEAR_TEXT.search(joined)):
            ctx.year = int(year_hit.group(1))
    if ctx.who is None and sheet and not _GENERIC_SHEET.match(sheet.strip()):
        ctx.who = parse_who(sheet)
    return ctx


class DetailReader:
    """Reads the rows of one detail-ledger sheet into `ledger`, checking 余额 as it goes."""

    def __init__(
        self,
        columns: dict[str, Column],
        ledger: Ledger,
        problems: list[RowProblem],
        ctx: Context,
        header_cells: Sequence[object],
        currencies: Currencies | None = None,
    ) -> None:
        self.layout = Layout(columns, DETAIL_FIELDS, (), currencies)
        self.desk = self.layout.desk
        self.h = self.layout.headers
        self.columns, self.ledger, self.problems, self.ctx = columns, ledger, problems, ctx
        self.has_who_column = "customer_code" in columns or "customer_name" in columns
        self.header_texts = [c.strip() for c in header_cells if type(c) is str and c.strip()]
        self.current: Who | None = ctx.who
        self.blocks: dict[str, _Block] = {}
        self.seen: dict[str, tuple[int, InvoiceRow]] = {}
        self.keys: Counter[str] = Counter()

    def read(self, rows: Rows) -> None:
        for row, raw in rows:
            self.ledger.counts.read += 1
            kind = self._skip(raw)
            if kind is not None:
                self.ledger.counts.skip(kind)
                continue
            before = len(self.problems)
            skip = self._entry(row, self.layout.values(raw))
            if skip is not None:
                self.ledger.counts.skip(skip)
            elif len(self.problems) == before:
                self.ledger.counts.imported += 1
        for block in self.blocks.values():
            self._flush_openings(block, None)

    def _skip(self, raw: Sequence[object]) -> str | None:
        kind = skip_kind(raw, self.layout.labels)
        if kind is not None:
            return kind
        cells: list[str] = []
        numbers = False  # a number or date cell: no sign-off line, no heading
        for value in raw:
            if type(value) is str:
                value = value.strip()
                if value:
                    cells.append(value)
            elif value is not None:
                numbers = True
        if any(_PAGE.search(c) for c in cells if "页" in c):
            return "page"
        if any(_CLOSING.search(c) for c in cells if "期末" in c or "结转" in c):
            return "total"
        if not numbers and is_sign_off(raw):
            return "footer"
        if cells == self.header_texts:
            return "header"  # the header printed again on a new page
        alone = len(cells) == 1 and not numbers
        if alone and not self.has_who_column and not _OPENING.search(cells[0]):
            # The customer's name in merged cells over its block.
            hit = _WHO_LABEL.search(cells[0])
            who = parse_who(cells[0][hit.end() :] if hit else cells[0])
            if who is not None:
                self.current = who
                return "heading"
        return None

    def _who(self, values: tuple[object, ...], row: int) -> Who | None:
        if self.has_who_column:
            first, second = values[_CODE], values[_NAME]
            key = (type(first), first, type(second), second)
            known = self.layout.customers.get(key)
            if known is not None:
                return known
            before = len(self.problems)
            code = checked_text(first, row, self.h["customer_code"], self.problems)
            name = checked_text(second, row, self.h["customer_name"], self.problems)
            if code or name:
                if len(self.problems) == before:
                    self.layout.customers[key] = (code, name)
                return code, name
        if self.current is not None:
            return self.current
        why = (
            "该行没有客户：请加一列「客户」，或加标题行如 客户：KH003 某某公司，"
            "或以客户名称命名工作表"
        )
        self.problems.append(RowProblem(row, self.h["customer_name"], "", why))
        return None

    def _entry(self, row: int, values: tuple[object, ...]) -> str | None:
        """Read one dated row; returns a skip kind when it carries no entry."""
        who = self._who(values, row)
        summary = checked_text(values[_SUMMARY], row, self.h["summary"], self.problems) or ""
        h, problems, desk = self.h, self.problems, self.desk
        debit = amount_value(
            values[_DEBIT], row, h["debit"], problems, required=False, currency=desk
        )
        credit = amount_value(
            values[_CREDIT], row, h["credit"], problems, required=False, currency=desk
        )
        printed = self._printed_balance(values, row)
        if who is None or self.layout.foreign(values, row, problems):
            return None
        key = who[0] or who[1] or ""
        block = self.blocks.get(key) or self.blocks.setdefault(key, _Block(who))
        if ("期初" in summary or "结转" in summary or "年初" in summary) and _OPENING.fullmatch(
            summary
        ):
            own = self._date(values, row, quiet=True)
            return self._opening(row, block, printed, debit, credit, own)
        day = self._date(values, row)
        if debit is None and credit is None:
            why = f"该行{self.h['debit']}和{self.h['credit']}都没有金额：请填写其中一项或删去该行"
            self.problems.append(RowProblem(row, self.h["debit"], "", why))
            return None
        debit, credit = debit or ZERO, credit or ZERO
        self._reconcile(row, block, debit - credit, printed)
        if day is None:
            return None
        if block.openings:
            self._flush_openings(block, day)
        number = checked_text(values[_NUMBER], row, self.h["invoice_no"], self.problems)
        voucher = text(values[_VOUCHER])
        contract = checked_text(values[_CONTRACT], row, self.h["contract_no"], self.problems)
        # A red-ink reversal (negative) moves to the other side: a negative credit is a charge.
        charge = (debit if debit > 0 else ZERO) + (-credit if credit < 0 else ZERO)
        if charge:
            key = number or _invoice_in(summary) or self._key(who, day, voucher, summary, charge)
            invoice = InvoiceRow(row, *who, contract, key, day, None, charge, ZERO)
            _check_twice(invoice, self.seen, self.h["invoice_no"], self.problems)
            self.ledger.invoices.append(invoice)
        if debit < 0:
            ref = number or _invoice_in(summary)
            self.ledger.payments.append(
                PaymentRow(row, *who, day, -debit, ref, None, "credit_note")
            )
        if credit > 0:
            self.ledger.payments.append(PaymentRow(row, *who, day, credit, None, number))
        return None

    def _printed_balance(self, values: tuple[object, ...], row: int) -> Decimal | None:
        amount = amount_value(
            values[_BALANCE], row, self.h["balance"], self.problems, required=False,
            currency=self.desk,
        )  # fmt: skip
        direction = text(values[_DIRECTION])
        if direction is None:
            return amount
        sign = _SIGN.get(direction.lower())
        if sign is None:
            why = f"{self.h['direction']}只能是 借、贷 或 平"
            self.problems.append(RowProblem(row, self.h["direction"], direction, why))
            return None
        if sign == 0 or amount is None:
            return ZERO if sign == 0 else None
        # A negative balance is a credit whatever 方向 says (books that print 借 throughout).
        return -abs(amount) if amount < 0 else sign * amount

    def _opening(
        self,
        row: int,
        block: _Block,
        printed: Decimal | None,
        debit: Decimal | None,
        credit: Decimal | None,
        own: dt.date | None,
    ) -> str | None:
        opening = printed if printed is not None else (debit or ZERO) - (credit or ZERO)
        block.balance = opening
        if opening == 0:
            return "opening"  # nothing carried forward: no item
        block.openings.append((row, opening, own))
        return None

    def _reconcile(self, row: int, block: _Block, change: Decimal, printed: Decimal | None) -> None:
        computed = (block.balance or ZERO) + change
        if printed is not None and printed != computed:
            why = (
                f"{self.h['balance']}对不上：表上为 {printed}，按上一行余额 + {self.h['debit']} − "
                f"{self.h['credit']} 应为 {computed}：请更正该行或重新导出台账"
            )
            self.problems.append(RowProblem(row, self.h["balance"], str(printed), why))
            computed = printed  # one wrong row is reported once, not on every row below
        block.balance = computed

    def _date(self, values: tuple[object, ...], row: int, *, quiet: bool = False) -> dt.date | None:
        """The row's date; with `quiet`, None for a missing or unreadable one (openings)."""
        problems: list[RowProblem] = [] if quiet else self.problems
        if "invoice_date" in self.columns:
            return date_value(values[_DATE], row, self.h["invoice_date"], problems, required=True)
        if quiet and (text(values[_MONTH]) is None or text(values[_DAY]) is None):
            return None
        year = values[_YEAR] if "year" in self.columns else self.ctx.year
        parts = (year, values[_MONTH], values[_DAY])
        try:
            y, m, d = (int(str(text(p))) for p in parts)
            return dt.date(y, m, d)
        except (TypeError, ValueError):
            shown = "-".join(str(text(p) or "?") for p in parts)
            why = "年/月/日 组不成日期（印在「月」列上方的年份也算在内）"
            problems.append(RowProblem(row, self.h["month"], shown, why))
            return None

    def _key(
        self, who: Who, day: dt.date, voucher: str | None, summary: str, amount: Decimal
    ) -> str:
        """A stable invoice key for a debit with no number: a re-export supersedes it, even one
        with the amount corrected (the amount is not part of the key)."""
        mark = "".join(voucher.split()) if voucher else None
        if mark is None:
            mark = hashlib.sha1(summary.encode()).hexdigest()[:8]
        # The day as YYYYMMDD, without strftime (slow, and called on every unnumbered debit).
        base = f"{who[0] or who[1]}-{day.year:04d}{day.month:02d}{day.day:02d}-{mark}"
        self.keys[base] += 1
        n = self.keys[base]
        return base if n == 1 else f"{base}-{n}"

    def _flush_openings(self, block: _Block, day: dt.date | None) -> None:
        """Date waiting opening balances: the period's start, else the first dated row's month."""
        for row, amount, own in block.openings:
            # The period's start, else the opening row's own date, else the first movement's
            # month.
            start = self.ctx.period_start or own or (day.replace(day=1) if day else None)
            self._add_opening(block.who, row, amount, start)
        block.openings.clear()

    def _add_opening(self, who: Who, row: int, amount: Decimal, start: dt.date | None) -> None:
        if start is None:
            why = "期初余额没有日期，后面也没有带日期的行：请补上日期"
            self.problems.append(RowProblem(row, self.h["invoice_date"], "", why))
            return
        code, name = who
        if amount > 0:
            number = f"{OPENING_PREFIX}{code or name}-{start:%Y%m%d}"
            self.ledger.invoices.append(
                InvoiceRow(row, code, name, None, number, start, start, amount, ZERO)
            )
        else:
            self.ledger.payments.append(
                PaymentRow(row, code, name, start, -amount, None, None, "opening")
            )


def _invoice_in(summary: str) -> str | None:
    """An invoice number named in the 摘要 (发票号 12345678, or a bare 8/20-digit number)."""
    if hit := _INVOICE_IN_SUMMARY.search(summary):
        return hit.group(1)
    for hit in _INVOICE_DIGITS.finditer(summary):
        digits = hit.group(1)
        if len(digits) == 8 and _looks_like_a_date(digits):
            continue  # 20250315 in a 摘要 is a date, not an invoice
        return digits
    return None


def _looks_like_a_date(digits: str) -> bool:
    try:
        dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return 1900 <= int(digits[:4]) <= 2100
