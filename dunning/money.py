"""Money: Decimal in Python, integer fen (分) in SQLite, never float."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# After NFKC (￥→¥, ，→, full-width digits → ASCII): currency marks may sit before or after.
_CURRENCY = re.compile(r"RMB|CNY|人民币|[¥$元]", re.IGNORECASE)
# Thousands separators must group by three: "1.234,56" (European) must not read as 1.23456.
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
# Excel's accounting format shows zero as a dash, and "save as CSV" writes what is shown.
_DASHES = frozenset({"-", "--", "—", "——", "–"})
_NOT_AN_AMOUNT = "not an amount (write it like 1234.50, ￥1,234.50 or (300.00))"


def quantize(value: Decimal) -> Decimal:
    """Round half-up to the fen."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(raw: object) -> Decimal:
    """Read an amount from a cell: numbers, `￥1,234.50`, `(300.00)`, `-300`, `1 234`.

    Raises ValueError with a short reason when the value is not an amount.
    """
    if isinstance(raw, bool):
        raise ValueError(_NOT_AN_AMOUNT)
    if isinstance(raw, int):
        return _finite(Decimal(raw))
    if isinstance(raw, float):
        # Excel numeric cells are binary floats: go through repr, then round half-up.
        return _finite(Decimal(repr(raw)))
    if isinstance(raw, Decimal):
        return _finite(raw)
    return _parse_text(str(raw))


def _parse_text(raw: str) -> Decimal:
    text = "".join(unicodedata.normalize("NFKC", raw).split())
    if not text:
        raise ValueError("the amount is empty")
    if text in _DASHES:
        return quantize(Decimal(0))
    text = _CURRENCY.sub("", text)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text[:1] in ("-", "+") and not negative:  # "(-300)" is ambiguous: rejected below
        negative, text = text[0] == "-", text[1:]
    if not _NUMBER.fullmatch(text):
        raise ValueError(_NOT_AN_AMOUNT)
    return _finite(Decimal(text.replace(",", "")) * (-1 if negative else 1))


# A trillion yuan: far beyond any invoice, and inside SQLite's 64-bit integer fen.
LIMIT = Decimal(10) ** 12


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError(_NOT_AN_AMOUNT)
    if abs(value) >= LIMIT:
        raise ValueError("the amount is too large (a trillion yuan or more)")
    try:
        return quantize(value)
    except InvalidOperation as exc:  # more digits than the decimal context holds
        raise ValueError("the amount is too large") from exc


def to_fen(amount: Decimal) -> int:
    """Decimal yuan to integer fen (half-up)."""
    return int(quantize(amount) * 100)


def from_fen(fen: int) -> Decimal:
    """Integer fen to Decimal yuan with two places."""
    return (Decimal(fen) / 100).quantize(CENT)


def format_amount(amount: Decimal) -> str:
    """`1234567.5` → `1,234,567.50`, the way a statement prints it."""
    return f"{quantize(amount):,.2f}"
