"""Amounts in capital Chinese numerals (大写金额), written the way the PBoC rules ask.

Choices where the rules allow two forms, fixed here so letters never vary:

- 整 follows 元 when there are no 角/分, and follows 角 when 分 is 0 (10.10 → 壹拾元壹角整);
  it never follows 分.
- Inside the yuan part one 零 stands for a run of zeros, also across 万/亿 (1000010 →
  壹佰万零壹拾元整); zeros at the end of the yuan part are not read (100000 → 壹拾万元整).
- 零 is written between 元 and 分 when 角 is 0 (16409.02 → 壹万陆仟肆佰零玖元零贰分); when the
  yuan part ends in 0 but 角 is not 0 no 零 is written (1680.32 → 壹仟陆佰捌拾元叁角贰分), one of
  the two forms the rules allow.
- 拾 at the start is always 壹拾 (10 → 壹拾元整).
- Amounts under one yuan have no 元 (0.05 → 伍分); zero is 零元整; negatives start with 负,
  after the optional 人民币 prefix.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿")  # up to 9999亿: far above any receivable
_CENT = Decimal("0.01")
LIMIT = Decimal(10) ** (4 * len(_SECTIONS))


def amount_in_words(amount: Decimal, *, prefix: bool = False) -> str:
    """`Decimal("10500")` → `壹万零伍佰元整`; with `prefix=True` → `人民币壹万零伍佰元整`."""
    fen_total = int(amount.quantize(_CENT, rounding=ROUND_HALF_UP).scaleb(2))
    sign = "负" if fen_total < 0 else ""
    fen_total = abs(fen_total)
    if fen_total >= LIMIT * 100:
        raise ValueError(f"金额 {amount} 太大，无法写成大写金额")
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    words = sign + _yuan_and_cents(yuan, jiao, fen)
    return ("人民币" if prefix else "") + words


def _yuan_and_cents(yuan: int, jiao: int, fen: int) -> str:
    if yuan == 0 and jiao == 0 and fen == 0:
        return "零元整"
    head = _integer_words(yuan) + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        return head + "整"
    if fen == 0:
        return head + DIGITS[jiao] + "角整"
    if jiao == 0:
        return head + ("零" if yuan else "") + DIGITS[fen] + "分"
    return head + DIGITS[jiao] + "角" + DIGITS[fen] + "分"


def _integer_words(number: int) -> str:
    """Whole yuan in words, without 元; one 零 for every run of inner zeros."""
    digits = str(number)
    out: list[str] = []
    zero_pending = False
    section_has_digit = False
    for index, char in enumerate(digits):
        position = len(digits) - 1 - index
        place, section = position % 4, position // 4
        if char == "0":
            zero_pending = bool(out)
        else:
            if zero_pending:
                out.append("零")
                zero_pending = False
            out.append(DIGITS[int(char)] + _PLACES[place])
            section_has_digit = True
        if place == 0 and section > 0:
            if section_has_digit:
                out.append(_SECTIONS[section])
            section_has_digit = False
    return "".join(out)
