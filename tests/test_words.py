"""Amounts in capital Chinese numerals: PBoC golden cases and properties."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.letters.words import DIGITS, LIMIT, amount_in_words

GOLDEN = [
    ("10500", "壹万零伍佰元整"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("100000", "壹拾万元整"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("0.05", "伍分"),
    ("1.005", "壹元零壹分"),  # half-up to the fen, not truncated
    ("100000000", "壹亿元整"),
    ("1000010", "壹佰万零壹拾元整"),
    ("10.10", "壹拾元壹角整"),  # 整 after 角 when 分 is 0 (our chosen PBoC form)
    ("10", "壹拾元整"),
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("0.50", "伍角整"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("107000.53", "壹拾万零柒仟元伍角叁分"),  # 零 for the zero 万 place, as 1000010
    ("1050000", "壹佰零伍万元整"),
    ("100010000", "壹亿零壹万元整"),
    ("10000500", "壹仟万零伍佰元整"),
    ("30000000000.01", "叁佰亿元零壹分"),
    ("-3.5", "负叁元伍角整"),
]


@pytest.mark.parametrize(("amount", "words"), GOLDEN)
def test_golden(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_prefix_is_optional() -> None:
    assert amount_in_words(Decimal("10500"), prefix=True) == "人民币壹万零伍佰元整"
    assert amount_in_words(Decimal("-1"), prefix=True) == "人民币负壹元整"


def test_too_large_is_refused() -> None:
    with pytest.raises(ValueError, match="太大，无法写成大写金额"):
        amount_in_words(LIMIT)


# --- a tiny inverse parser, to check the words mean the amount -----------------------------

_PLACE = {"拾": 10, "佰": 100, "仟": 1000}


def _section(text: str) -> int:
    total = digit = 0
    for char in text:
        if char in _PLACE:
            total += digit * _PLACE[char]
            digit = 0
        elif char != "零":
            digit = DIGITS.index(char)
    return total + digit


def _integer(text: str) -> int:
    high, _, rest = text.rpartition("亿")
    middle, _, low = rest.rpartition("万")
    return _section(high) * 10**8 + _section(middle) * 10**4 + _section(low)


def parse_words(words: str) -> Decimal:
    sign = -1 if words.startswith("负") else 1
    words = words.removeprefix("负").removesuffix("整")
    yuan, _, cents = words.rpartition("元")
    jiao = re.search(r"(.)角", cents)
    fen = re.search(r"(.)分", cents)
    fen_total = _integer(yuan) * 100
    fen_total += DIGITS.index(jiao.group(1)) * 10 if jiao else 0
    fen_total += DIGITS.index(fen.group(1)) if fen else 0
    return sign * Decimal(fen_total) / 100


fens = st.integers(min_value=-(10**13), max_value=10**13)


@given(fens)
def test_round_trip(fen: int) -> None:
    amount = Decimal(fen) / 100
    assert parse_words(amount_in_words(amount)) == amount


@given(fens)
def test_form(fen: int) -> None:
    words = amount_in_words(Decimal(fen) / 100)
    assert "零零" not in words
    assert not words.endswith("零")
    assert words.endswith(("整", "分"))
    assert "分整" not in words
    assert not re.match(r"负?拾", words)  # 壹拾 in full
    if fen % 100 == 0:
        assert words.endswith("元整")


@given(st.integers(min_value=1, max_value=10**11), st.integers(min_value=1, max_value=9))
def test_zero_between_yuan_and_fen(yuan: int, fen: int) -> None:
    words = amount_in_words(Decimal(yuan) + Decimal(fen) / 100)
    assert f"元零{DIGITS[fen]}分" in words


@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=4))
def test_rounds_half_up_to_the_fen(amount: Decimal) -> None:
    assert parse_words(amount_in_words(amount)) == amount.quantize(
        Decimal("0.01"), rounding="ROUND_HALF_UP"
    )
