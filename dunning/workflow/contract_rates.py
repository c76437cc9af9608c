"""Rates named in a contract's text (违约金 每日万分之五, 按日0.05%, 年利率6%, 月息1% …), and
the rates a clerk types, as `interest.Rate` values. Nothing found here is used until a clerk
confirms it (`workflow.interest_rates`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from dunning.workflow.interest import InterestError, Rate, percent_text

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip
_FRACTIONS = {"百分之": Decimal(1), "千分之": Decimal("0.1"), "万分之": Decimal("0.01")}
_NUMBER = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十点]+)"
_DAY = r"(?:每日|每天|按日|按天|日|天)"
_MONTH = r"(?:月利率|月息|每月|按月|月)"
_YEAR = r"(?:年利率|年息|年化|每年|按年|年)"
_GAP = r"[^，。；;,\n\d%％‰]{0,8}?"
_LPR = r"(?:LPR|贷款市场报价利率|同期同类贷款利率|同期贷款利率|贷款基准利率)"
_LPR_GAP = r"[^，。；;,\n\d%％]{0,12}?"
_CANDIDATE_PATTERNS = (
    # a multiple of the LPR first: its sentence often names a 年 (一年期) and a % as well
    ("lpr", re.compile(_LPR + _LPR_GAP + _NUMBER + r"\s*(倍)")),
    ("lpr", re.compile(_LPR + r"\s*[×xX*]\s*" + _NUMBER + r"()")),
    ("lpr+", re.compile(_LPR + _LPR_GAP + r"(?:上浮|加计|加收|加)" + _NUMBER + r"\s*([%％])")),
    ("day", re.compile(_DAY + _GAP + r"(百分之|千分之|万分之)" + _NUMBER)),
    ("day", re.compile(_DAY + _GAP + _NUMBER + r"\s*([%％‰])")),
    ("month", re.compile(_MONTH + _GAP + r"(百分之|千分之)" + _NUMBER)),
    ("month", re.compile(_MONTH + _GAP + _NUMBER + r"\s*([%％‰])")),
    ("year", re.compile(_YEAR + _GAP + r"(百分之)" + _NUMBER)),
    ("year", re.compile(_YEAR + _GAP + _NUMBER + r"\s*([%％])")),
)
_CONTEXT = 24
# A penalty clause names 违约金, 利息, 逾期 or 滞纳金 near its rate.
_PENALTY_WORDS = ("违约金", "利息", "逾期", "滞纳金", "迟延", "延期")


@dataclass(frozen=True)
class RateCandidate:
    """A rate found in a contract's text, for the clerk to confirm (or not)."""

    rate: Rate
    phrase: str  # the sentence around it, as the contract says it
    document: int | None = None
    contract_no: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "percent": percent_text(self.rate.percent),
            "period": self.rate.period,
            "words": self.rate.words(),
            "phrase": self.phrase,
            "document": self.document,
            "contract": self.contract_no,
        }


def _cn_number(text: str) -> Decimal | None:
    """五 → 5, 十五 → 15, 二十 → 20, 零点五 → 0.5, 0.05 → 0.05."""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return Decimal(text)
    whole, _, frac = text.partition("点")
    value = 0
    if whole:
        if "十" in whole:
            tens, _, ones = whole.partition("十")
            value = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10
            if ones:
                if ones not in _CN_DIGITS:
                    return None
                value += _CN_DIGITS[ones]
        else:
            digits = [_CN_DIGITS.get(c) for c in whole]
            if any(d is None for d in digits):
                return None
            value = int("".join(str(d) for d in digits))
    if not frac:
        return Decimal(value)
    digits = [_CN_DIGITS.get(c) for c in frac]
    if any(d is None for d in digits):
        return None
    return Decimal(f"{value}.{''.join(str(d) for d in digits)}")


def rate_candidates(text: str) -> list[RateCandidate]:
    """Every penalty or interest rate the text names, in the order it names them."""
    found: dict[tuple[int, int], RateCandidate] = {}
    for period, pattern in _CANDIDATE_PATTERNS:
        for match in pattern.finditer(text):
            rate = _candidate_rate(period, match)
            if rate is None:
                continue
            span = (match.start(), match.end())
            if any(_overlaps(span, seen) for seen in found):
                continue
            lo, hi = max(0, match.start() - _CONTEXT), min(len(text), match.end() + _CONTEXT)
            phrase = re.sub(r"\s+", "", text[lo:hi])
            if not any(word in phrase for word in _PENALTY_WORDS):
                continue
            found[span] = RateCandidate(rate, phrase)
    return [found[span] for span in sorted(found)]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _candidate_rate(period: str, match: re.Match[str]) -> Rate | None:
    first, second = match.group(1), match.group(2)
    if period in ("lpr", "lpr+"):
        number = _cn_number(first)
        if number is None or number <= 0:
            return None
        multiple = number if period == "lpr" else 1 + number / 100
        if not Decimal(1) <= multiple <= 4:  # courts cap penalties near four times the LPR
            return None
        return Rate(multiple, "lpr", "contract", f"合同约定：{match.group(0)}")
    if first in _FRACTIONS:
        number = _cn_number(second)
        scale = _FRACTIONS[first]
    else:
        number = _cn_number(first)
        scale = Decimal("0.1") if second == "‰" else Decimal(1)
    if number is None or number <= 0:
        return None
    percent = number * scale
    if percent >= 100:
        return None
    return Rate(percent, period, "contract", f"合同约定：{match.group(0)}")


def parse_rate(text: str) -> Rate:
    """A rate the clerk types: 日0.05%, 每日万分之五, 年6%, 月1%; raises InterestError."""
    cleaned = text.strip().replace(" ", "")
    for candidate in rate_candidates(f"逾期违约金{cleaned}"):
        return candidate.rate
    raise InterestError(f"{text!r} 不是利率：请写成 日0.05%、每日万分之五、年6% 或 月1% 这样。")
