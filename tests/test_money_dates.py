"""parse_amount and parse_date: every form a ledger writes, and what they refuse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.dates import parse_date
from dunning.money import parse_amount

AMOUNTS = st.decimals(
    min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2
).filter(lambda d: d.is_finite())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("￥1,234.50", "1234.50"),
        ("¥1,234.5", "1234.50"),
        ("(300.00)", "-300.00"),
        ("（300.00）", "-300.00"),
        ("￥(300.00)", "-300.00"),
        ("-300", "-300.00"),
        ("－300", "-300.00"),
        ("-￥300", "-300.00"),
        ("+5", "5.00"),
        ("1 234", "1234.00"),
        ("１２３，４５６．７", "123456.70"),
        ("人民币1000元", "1000.00"),
        ("RMB 1,000", "1000.00"),
        ("-", "0.00"),
        (".5", "0.50"),
        (2.675, "2.68"),  # the float prints as 2.675: half-up, not banker's or binary
        (0.125, "0.13"),
        (1234, "1234.00"),
        (Decimal("1.005"), "1.01"),
    ],
)
def test_parse_amount_accepts(raw: object, expected: str) -> None:
    assert parse_amount(raw) == Decimal(expected)
    assert parse_amount(raw).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "raw",
    ["abc", "1.234,56", "12,34", "(-300)", "1e5", "1.2.3", True, float("nan"), float("inf")],
)
def test_parse_amount_refuses(raw: object) -> None:
    with pytest.raises(ValueError, match="不是金额"):
        parse_amount(raw)


def test_parse_amount_empty_and_huge() -> None:
    with pytest.raises(ValueError, match="金额为空"):
        parse_amount("  ")
    with pytest.raises(ValueError, match="金额太大"):
        parse_amount(1e30)


@given(AMOUNTS, st.sampled_from(["plain", "grouped", "yen", "paren", "fullwidth", "yuan"]))
def test_parse_amount_round_trips_formatted_decimals(value: Decimal, style: str) -> None:
    magnitude = abs(value)
    body = {
        "plain": f"{magnitude:.2f}",
        "grouped": f"{magnitude:,.2f}",
        "yen": f"￥{magnitude:,.2f}",
        "paren": f"{magnitude:,.2f}",
        "fullwidth": f"{magnitude:,.2f}".translate(
            str.maketrans("0123456789,.", "０１２３４５６７８９，．")
        ),
        "yuan": f"{magnitude:.2f}元",
    }[style]
    if value < 0:
        body = f"({body})" if style == "paren" else f"-{body}"
    assert parse_amount(body) == value


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_parse_amount_float_rounds_its_printed_form_half_up(value: float) -> None:
    parsed = parse_amount(value)
    assert abs(parsed - Decimal(repr(value))) <= Decimal("0.005")
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "raw",
    [
        "2025-03-05",
        "2025/3/5",
        "2025.3.5",
        "2025年3月5日",
        "2025 年 3 月 5 日",
        "20250305",
        "2025-03-05 00:00:00",
        "2025/3/5 14:30",
        "２０２５－０３－０５",
        "45721",
        45721,
        45721.75,
        dt.datetime(2025, 3, 5, 9, 30),
        dt.date(2025, 3, 5),
    ],
)
def test_parse_date_accepts(raw: object) -> None:
    assert parse_date(raw) == dt.date(2025, 3, 5)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("2025-02-30", "没有这一天"),
        ("2025-13-01", "没有这一天"),
        ("昨天", "不是日期"),
        ("3/5/2025", "不是日期"),
        (12, "不是日期"),
        (True, "不是日期"),
        ("", "日期为空"),
    ],
)
def test_parse_date_refuses(raw: object, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_date(raw)


@given(st.dates(min_value=dt.date(1960, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_parse_date_round_trips_every_written_form(day: dt.date) -> None:
    forms = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        (day - dt.date(1899, 12, 30)).days,
    ]
    assert {parse_date(form) for form in forms} == {day}
