"""Court fees (诉讼费用交纳办法 arts. 13, 14, 16): every band boundary and 300,000 → 5,800."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.workflow.court_fees import (
    acceptance_fee,
    fee_sheet,
    payment_order_fee,
    preservation_fee,
    simple_procedure_fee,
)

D = Decimal

# Hand-computed at each edge: 50 + the bands' rates on their parts.
BOUNDARIES = [
    ("0", "50.00"),
    ("10000", "50.00"),
    ("10000.01", "50.00"),  # 0.01 × 2.5 % = 0.00025 → rounds to 50.00
    ("10001", "50.03"),  # 1 × 2.5 % = 0.025 → 0.03 (half-up)
    ("100000", "2300.00"),  # 50 + 90,000 × 2.5 %
    ("100100", "2302.00"),
    ("200000", "4300.00"),  # + 100,000 × 2 %
    ("300000", "5800.00"),  # the SPEC's example
    ("500000", "8800.00"),  # + 300,000 × 1.5 %
    ("1000000", "13800.00"),  # + 500,000 × 1 %
    ("2000000", "22800.00"),  # + 1,000,000 × 0.9 %
    ("5000000", "46800.00"),  # + 3,000,000 × 0.8 %
    ("10000000", "81800.00"),  # + 5,000,000 × 0.7 %
    ("20000000", "141800.00"),  # + 10,000,000 × 0.6 %
    ("20000100", "141800.50"),  # + 100 × 0.5 %
    ("30000000", "191800.00"),
]


@pytest.mark.parametrize(("claim", "fee"), BOUNDARIES)
def test_acceptance_fee_at_every_band_edge(claim: str, fee: str) -> None:
    assert acceptance_fee(D(claim)).amount == D(fee)


def test_300000_is_5800_with_its_formula_in_words() -> None:
    fee = acceptance_fee(D("300000"))
    assert fee.amount == D("5800.00")
    assert fee.formula.endswith("= 5,800.00元")
    assert "× 2.5%" in fee.formula and "× 1.5%" in fee.formula
    assert "第十三条" in fee.article


def test_simple_procedure_halves_and_payment_order_is_a_third() -> None:
    assert simple_procedure_fee(D("300000")).amount == D("2900.00")
    assert payment_order_fee(D("300000")).amount == D("1933.33")
    assert payment_order_fee(D("10000")).amount == D("16.67")


@pytest.mark.parametrize(
    ("amount", "fee"),
    [("0", "30.00"), ("1000", "30.00"), ("1001", "30.01"), ("100000", "1020.00"),
     ("300000", "2020.00"), ("896000", "5000.00"), ("895998", "4999.99"),
     ("10000000", "5000.00")],
)  # fmt: skip
def test_preservation_fee(amount: str, fee: str) -> None:
    assert preservation_fee(D(amount)).amount == D(fee)


@given(st.integers(0, 10**10), st.integers(0, 10**10))
def test_fees_grow_with_the_claim(a: int, b: int) -> None:
    low, high = sorted((D(a) / 100, D(b) / 100))
    for fee in (acceptance_fee, simple_procedure_fee, payment_order_fee, preservation_fee):
        assert fee(low).amount <= fee(high).amount


def test_fee_sheet_json_has_every_fee_as_strings() -> None:
    sheet = fee_sheet(D("300000")).to_json()
    assert sheet["claim"] == "300000.00"
    assert sheet["acceptance"]["amount"] == "5800.00"  # type: ignore[index]
    assert "律师" in str(sheet["note"])
