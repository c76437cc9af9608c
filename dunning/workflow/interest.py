"""Interest on overdue invoices (逾期付款利息 / 违约金), SPEC §13: pure functions.

The rate is the contract's, when a clerk confirmed one (per day, month or year), else the LPR
rule for a sale of goods (买卖合同解释 art. 18(4)): the 1-year LPR in force on the day payment
was due, plus a markup (default 30 %), simple interest on the overdue principal, per day / 365.

Principal: what the ledger row leaves open (its undated 已收金额 counts as paid on time), then
every payment lowers it from its own day, allocated as `receivables.allocate` does (a payment
naming an invoice first, the rest oldest due first). Interest for an invoice runs from its due
date to the as-of date: a segment of days for each principal between payments. Every figure
carries its formula in words, for the clerk and for the court papers.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dunning.archive.ledger.csvtext import decode
from dunning.dates import parse_date
from dunning.errors import DunningError
from dunning.money import format_amount, from_fen, quantize, to_fen
from dunning.receivables import ZERO, Invoice, Payment

PACKAGE_LPR = Path(__file__).resolve().parent.parent / "data" / "lpr.csv"
DEFAULT_MARKUP = Decimal("0.30")
DAYS_PER_YEAR = 365
# 民事诉讼法 art. 264: after judgment, double interest on the debt at 0.0175 % a day.
JUDGMENT_DAILY_PERCENT = Decimal("0.0175")
PERIODS = ("day", "month", "year", "lpr")
PERIOD_TITLES = {"day": "日", "month": "月", "year": "年"}
COUNSEL = "请与律师确认"


class InterestError(DunningError):
    """A rate or an LPR table that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Rate:
    """A rate in percent per period: 0.05 per day (万分之五), 6 per year, 1 per month."""

    percent: Decimal  # for `lpr`: the multiple of the 1-year LPR on the due day (1.5)
    period: str  # day | month | year | lpr
    basis: str  # contract | lpr
    source: str  # where it comes from, in words (a contract phrase, the LPR rule)

    @property
    def yearly_percent(self) -> Decimal:
        """The rate per year: a day's rate × 365, a month's × 12."""
        if self.period == "day":
            return self.percent * DAYS_PER_YEAR
        if self.period == "month":
            return self.percent * 12
        return self.percent

    def words(self) -> str:
        """年利率3.9%（一年期LPR 3.00% × 1.3） / 日利率0.05% / 一年期LPR × 1.5."""
        if self.period == "lpr":
            shown = f"一年期LPR × {percent_text(self.percent)}"
        else:
            shown = f"{PERIOD_TITLES[self.period]}利率{percent_text(self.percent)}%"
        return f"{shown}（{self.source}）" if self.source else shown


@dataclass(frozen=True)
class LprPoint:
    effective: dt.date
    percent: Decimal


@dataclass(frozen=True)
class LprTable:
    """What one LPR file gave: its change points and how each of its lines was counted."""

    points: tuple[LprPoint, ...]
    lines: int  # every line of the file
    imported: int
    skipped: dict[str, int]  # title, header, blank, comment, duplicate


_DATE_HEADERS = ("date", "日期", "生效日", "起始日", "公布日", "发布日")
_RATE_HEADERS = ("1年", "一年", "1y", "lpr", "利率", "rate")
_HEADER_SCAN = 20


def _header(cells: list[str]) -> tuple[int, int] | None:
    """(date column, rate column) when `cells` is a header row; the 5-year LPR is not ours."""
    lowered = [c.strip().lower() for c in cells]
    dates = [i for i, c in enumerate(lowered) if any(h in c for h in _DATE_HEADERS)]
    rates = [
        i for i, c in enumerate(lowered)
        if i not in dates and any(h in c for h in _RATE_HEADERS) and not re.search(r"5|五", c)
    ]  # fmt: skip
    if not dates or not rates:
        return None
    best = min(rates, key=lambda i: next(n for n, h in enumerate(_RATE_HEADERS) if h in lowered[i]))
    return dates[0], best


def read_lpr(text: str, name: str = "lpr.csv") -> LprTable:
    """LPR change points from CSV text: a header naming the date and the 1-year rate (any
    order, other columns ignored, title lines above it), or bare `date,rate` lines.

    Every line is counted: imported, or skipped by kind; a bad line rejects the file, naming
    every bad line (InterestError).
    """
    lines = text.splitlines()
    delimiter = max((",", "\t", ";"), key=lambda d: sum(line.count(d) for line in lines[:50]))
    rows = list(csv.reader(lines, delimiter=delimiter))
    header_at, columns = -1, (0, 1)
    for index, cells in enumerate(rows[:_HEADER_SCAN]):
        found = _header(cells)
        if found is not None:
            header_at, columns = index, found
            break
    skipped: dict[str, int] = {}
    points: dict[dt.date, Decimal] = {}
    bad: list[str] = []
    for index, cells in enumerate(rows):
        kind = _line_kind(cells, index, header_at)
        if kind is None:
            kind = _lpr_line(cells, columns, index + 1, points, bad)
        if kind:
            skipped[kind] = skipped.get(kind, 0) + 1
    if bad:
        raise InterestError(f"{name}：" + "；".join(bad) + "（每行请写成 2025-05-20,3.00 这样）。")
    table = LprTable(
        tuple(LprPoint(d, points[d]) for d in sorted(points)),
        len(rows),
        len(points),
        skipped,
    )
    assert table.lines == table.imported + sum(skipped.values()) + len(bad)
    return table


def _line_kind(cells: list[str], index: int, header_at: int) -> str | None:
    if index == header_at:
        return "header"
    if not any(c.strip() for c in cells):
        return "blank"
    if cells[0].lstrip().startswith("#"):
        return "comment"
    if index < header_at:
        return "title"
    return None


def _lpr_line(
    cells: list[str],
    columns: tuple[int, int],
    line: int,
    points: dict[dt.date, Decimal],
    bad: list[str],
) -> str:
    """Read one data line into `points`: "" when imported, else the kind it is skipped as."""
    date_col, rate_col = columns
    raw_date = cells[date_col].strip() if date_col < len(cells) else ""
    raw_rate = cells[rate_col].strip() if rate_col < len(cells) else ""
    try:
        day = parse_date(raw_date)
    except ValueError as exc:
        bad.append(f"第 {line} 行：日期 {raw_date!r} {exc}")
        return ""
    try:
        percent = Decimal(raw_rate.rstrip("%％").strip())
    except InvalidOperation:
        percent = Decimal("NaN")
    if not percent.is_finite() or not Decimal(0) < percent < Decimal(100):
        bad.append(f"第 {line} 行：利率 {raw_rate!r} 不是 3.00 这样的百分数")
        return ""
    if day in points:
        if points[day] != percent:
            bad.append(f"第 {line} 行：{day.isoformat()} 出现了两次，利率不同")
            return ""
        return "duplicate"
    points[day] = percent
    return ""


def load_lpr(desk_root: Path | None = None) -> list[LprPoint]:
    """The package's LPR table, extended (and corrected) by the desk's own lpr.csv if any."""
    package = read_lpr(PACKAGE_LPR.read_text(encoding="utf-8"))
    merged = {p.effective: p for p in package.points}
    own = desk_root / "lpr.csv" if desk_root is not None else None
    if own is not None and own.is_file():
        decoded = decode(own.read_bytes())
        if decoded is None:
            raise InterestError(f"{own}：不是文本文件；请另存为 CSV（UTF-8），每行写 日期,利率。")
        merged.update({p.effective: p for p in read_lpr(decoded[0], str(own)).points})
    return [merged[d] for d in sorted(merged)]


def lpr_on(points: Sequence[LprPoint], day: dt.date) -> LprPoint | None:
    """The LPR in force on `day` (the latest change point on or before it)."""
    found = None
    for point in points:
        if point.effective > day:
            break
        found = point
    return found


def lpr_rate(points: Sequence[LprPoint], due: dt.date, markup: Decimal) -> Rate:
    """The LPR rule's yearly rate for an invoice due on `due`."""
    point = lpr_on(points, due)
    if point is None:
        first = points[0].effective.isoformat() if points else "（空）"
        raise InterestError(
            f"没有 {due.isoformat()} 适用的 LPR（利率表从 {first} 开始）：请把当时的利率"
            "加到工作台文件夹的 lpr.csv 中。"
        )
    factor = 1 + markup
    return Rate(
        percent=point.percent * factor,
        period="year",
        basis="lpr",
        source=(
            f"{point.effective.isoformat()}起一年期LPR {point.percent:.2f}% × {percent_text(factor)}"
        ),
    )


@dataclass(frozen=True)
class Segment:
    """Days on which one principal bore interest."""

    start: dt.date  # the first day counted is the day after `start`
    end: dt.date
    principal: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class InvoiceInterest:
    invoice_no: str
    due: dt.date
    open_amount: Decimal  # still open on the as-of day
    rate: Rate | None  # None when nothing is overdue
    segments: tuple[Segment, ...]
    interest: Decimal
    problem: str = ""  # why no interest could be computed (no rate for its due day)

    def formula(self) -> str:
        """The figure in words: 10,000.00元 × 31天 + 6,000.00元 × 10天 = … × 年利率3.9% ÷ 365."""
        if self.problem:
            return f"未计息：{self.problem}"
        if self.rate is None or not self.segments:
            return "未逾期，无利息" if self.open_amount > 0 else "已付清，无利息"
        parts = " + ".join(
            f"{format_amount(s.principal)}元 × {s.days}天（{s.start.isoformat()}至"
            f"{s.end.isoformat()}）"
            for s in self.segments
        )
        if len(self.segments) > 1:
            parts = f"（{parts}）"
        per = _per_day_words(self.rate)
        return f"{parts} × {per} = {format_amount(self.interest)}元"

    def to_json(self) -> dict[str, object]:
        return {
            "invoice": self.invoice_no,
            "due": self.due.isoformat(),
            "open": f"{self.open_amount:.2f}",
            "rate": _rate_json(self.rate),
            "segments": [
                {
                    "from": s.start.isoformat(),
                    "to": s.end.isoformat(),
                    "days": s.days,
                    "principal": f"{s.principal:.2f}",
                }
                for s in self.segments
            ],
            "interest": f"{self.interest:.2f}",
            "formula": self.formula(),
            "problem": self.problem or None,
        }


def _rate_json(rate: Rate | None) -> dict[str, str] | None:
    if rate is None:
        return None
    return {
        "percent": percent_text(rate.percent),
        "period": rate.period,
        "basis": rate.basis,
        "source": rate.source,
        "words": rate.words(),
    }


def _per_day_words(rate: Rate) -> str:
    if rate.period == "day":
        return rate.words()
    if rate.period == "month":
        return f"{rate.words()} × 12 ÷ {DAYS_PER_YEAR}"
    return f"{rate.words()} ÷ {DAYS_PER_YEAR}"


def segment_interest(segments: Iterable[Segment], rate: Rate) -> Decimal:
    """Simple interest over the segments, rounded half-up to the fen once, at the end."""
    yuan_days = sum((s.principal * s.days for s in segments), ZERO)
    if rate.period == "day":
        raw = yuan_days * rate.percent / 100
    else:
        raw = yuan_days * rate.yearly_percent / (100 * DAYS_PER_YEAR)
    return quantize(raw)


class _OpenAmounts:
    """Open amounts as `receivables.allocate` leaves them, payment day by payment day.

    The same rules in fen integers, without re-sorting or rebuilding objects each day: a
    payment naming an invoice applies to it (at most its amount), everything else is one pool
    that pays the invoices oldest due first. A test checks it against `allocate` itself.
    """

    def __init__(self, ordered: Sequence[Invoice]) -> None:
        nets = [to_fen(i.amount - i.received) for i in ordered]
        self.base = [max(n, 0) for n in nets]
        self.credits = sum(max(-n, 0) for n in nets)
        self.index = {inv.invoice_no: n for n, inv in enumerate(ordered)}
        self.refs = [0] * len(ordered)
        self.total = 0

    def pay(self, payment: Payment) -> None:
        fen = to_fen(payment.amount)
        self.total += fen
        n = self.index.get(payment.invoice_ref) if payment.invoice_ref is not None else None
        if n is not None and fen > 0:
            self.refs[n] += fen

    def opens(self) -> list[int]:
        applied = [min(r, b) for r, b in zip(self.refs, self.base, strict=True)]
        pool = self.credits + self.total - sum(applied)
        out = []
        for base, used in zip(self.base, applied, strict=True):
            left = base - used
            if pool > 0 and left:
                take = min(pool, left)
                left, pool = left - take, pool - take
            out.append(left)
        return out


def invoice_interest(
    invoices: Sequence[Invoice],
    payments: Sequence[Payment],
    *,
    as_of: dt.date,
    rate_for: RateChooser,
) -> list[InvoiceInterest]:
    """Interest to `as_of` on each of one customer's invoices dated by then, oldest due first."""
    ordered = sorted(
        (i for i in invoices if i.invoice_date <= as_of), key=lambda i: (i.due_date, i.invoice_no)
    )
    tracker = _OpenAmounts(ordered)
    opening = tracker.opens()
    # Each invoice's open amount changes only on some payment days: keep those changes.
    changes: list[list[tuple[dt.date, Decimal]]] = [[] for _ in ordered]
    current = list(opening)
    paid = sorted((p for p in payments if p.paid_on <= as_of), key=lambda p: p.paid_on)
    for n, payment in enumerate(paid):
        tracker.pay(payment)
        if n + 1 < len(paid) and paid[n + 1].paid_on == payment.paid_on:
            continue  # the day's last payment closes the day
        for k, value in enumerate(tracker.opens()):
            if value != current[k]:
                changes[k].append((payment.paid_on, from_fen(value)))
                current[k] = value
    result = []
    for k, inv in enumerate(ordered):
        segments = _segments(inv, from_fen(opening[k]), changes[k], as_of)
        open_now = from_fen(current[k])
        if not segments:
            result.append(InvoiceInterest(inv.invoice_no, inv.due_date, open_now, None, (), ZERO))
            continue
        try:
            rate = rate_for(inv)
        except InterestError as exc:
            result.append(
                InvoiceInterest(inv.invoice_no, inv.due_date, open_now, None, segments, ZERO,
                                problem=str(exc))
            )  # fmt: skip
            continue
        interest = segment_interest(segments, rate)
        result.append(
            InvoiceInterest(inv.invoice_no, inv.due_date, open_now, rate, segments, interest)
        )
    return result


class RateChooser:
    """Which rate an invoice bears: the contract's when confirmed, else the LPR rule."""

    def __init__(
        self,
        lpr: Sequence[LprPoint],
        *,
        markup: Decimal = DEFAULT_MARKUP,
        contract: Rate | None = None,
        by_contract: dict[str, Rate] | None = None,
    ) -> None:
        self.lpr = list(lpr)
        self.markup = markup
        self.contract = contract
        self.by_contract = by_contract or {}

    def __call__(self, invoice: Invoice) -> Rate:
        agreed = self.by_contract.get(invoice.contract_no or "", self.contract)
        if agreed is None:
            return lpr_rate(self.lpr, invoice.due_date, self.markup)
        if agreed.period != "lpr":
            return agreed
        # A multiple of the LPR (按LPR的1.5倍): the LPR on the due day, times the contract's multiple.
        base = lpr_rate(self.lpr, invoice.due_date, agreed.percent - 1)
        return Rate(base.percent, "year", "contract", f"{agreed.source}；{base.source}")


def _segments(
    inv: Invoice,
    opening: Decimal,
    changes: Sequence[tuple[dt.date, Decimal]],
    as_of: dt.date,
) -> tuple[Segment, ...]:
    """The days the invoice's principal bore interest: from its due date, cut at each change."""
    if as_of <= inv.due_date:
        return ()
    principal, start = opening, inv.due_date
    segments = []
    for day, after in changes:
        if day <= inv.due_date:
            principal = after  # paid before it fell due
            continue
        if principal > 0 and day > start:
            segments.append(Segment(start, day, principal))
        principal, start = after, max(start, day)
    if principal > 0 and as_of > start:
        segments.append(Segment(start, as_of, principal))
    return tuple(segments)


@dataclass(frozen=True)
class CustomerInterest:
    customer: str
    name: str
    as_of: dt.date
    invoices: tuple[InvoiceInterest, ...]
    markup: Decimal

    @property
    def principal(self) -> Decimal:
        """Overdue principal on the as-of day (what the court papers claim)."""
        return sum((i.open_amount for i in self.invoices if i.due < self.as_of), ZERO)

    @property
    def interest(self) -> Decimal:
        return sum((i.interest for i in self.invoices), ZERO)

    def formula(self) -> str:
        """The claim's interest clause in words, citing its basis."""
        lines = [f"{i.invoice_no}：{i.formula()}" for i in self.invoices if i.segments]
        if not any(i.rate for i in self.invoices) and lines:
            return "；".join(lines) + "。"
        if not lines:
            return "截至计算日无逾期利息。"
        basis = {i.rate.basis for i in self.invoices if i.rate is not None}
        if basis == {"contract"}:
            ground = "依合同约定的逾期付款违约金标准计算"
        else:
            ground = (
                "合同未约定逾期付款违约金的，依《最高人民法院关于审理买卖合同纠纷案件适用法律问题的"
                f"解释》第十八条第四款，以到期日一年期LPR为基础加计{percent_text(self.markup * 100)}%"
                f"，按日（年365天）单利计算"
            )
        return (
            f"{ground}（{COUNSEL}）："
            + "；".join(lines)
            + f"。合计{format_amount(self.interest)}元。"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "customer": self.customer,
            "name": self.name,
            "as_of": self.as_of.isoformat(),
            "principal": f"{self.principal:.2f}",
            "interest": f"{self.interest:.2f}",
            "lpr_markup": percent_text(self.markup),
            "formula": self.formula(),
            "invoices": [i.to_json() for i in self.invoices],
        }


def percent_text(value: Decimal) -> str:
    """0.0500 → 0.05, 3.900 → 3.9, 3 → 3: a percentage as a clerk writes it."""
    text = format(value.normalize(), "f")
    return text
