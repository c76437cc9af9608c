"""Money: Decimal in Python, integer fen (分) in SQLite, never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
_STRIP = re.compile(r"[\s,，￥¥$]|RMB|CNY|元", re.IGNORECASE)


def quantize(value: Decimal) -> Decimal:
    """Round half-up to the fen."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(raw: object) -> Decimal:
    """Read an amount from a cell: numbers, `￥1,234.50`, `(300.00)`, `-300`, `1 234`.

    Raises ValueError with a short reason when the value is not an amount.
    """
    if isinstance(raw, bool):
        raise ValueError("not an amount")
    if isinstance(raw, int):
        return quantize(Decimal(raw))
    if isinstance(raw, float):
        # Excel numeric cells are binary floats: go through repr, then round half-up.
        return quantize(Decimal(repr(raw)))
    if isinstance(raw, Decimal):
        return quantize(raw)
    text = str(raw).strip()
    if not text:
        raise ValueError("empty amount")
    negative = False
    if (text.startswith("(") and text.endswith(")")) or (
        text.startswith("（") and text.endswith("）")
    ):
        negative, text = True, text[1:-1]
    text = _STRIP.sub("", text)
    if text.startswith("-") or text.startswith("－"):
        negative, text = not negative, text[1:]
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", text):
        raise ValueError("not a number")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex guards this
        raise ValueError("not a number") from exc
    return quantize(-value if negative else value)


def to_fen(amount: Decimal) -> int:
    """Decimal yuan to integer fen (half-up)."""
    return int(quantize(amount) * 100)


def from_fen(fen: int) -> Decimal:
    """Integer fen to Decimal yuan with two places."""
    return (Decimal(fen) / 100).quantize(CENT)


def format_amount(amount: Decimal) -> str:
    """`1234567.5` → `1,234,567.50`, the way a statement prints it."""
    return f"{quantize(amount):,.2f}"
