"""Court fees for a claim for money (诉讼费用交纳办法), SPEC §13: pure functions.

受理费 (art. 13(1), property cases): each rate applies to its band of the claim, like income
tax; 简易程序 halves it (art. 16); a 支付令 application pays one third (art. 14(3)). 保全费
(art. 14(2)): 30 yuan up to 1,000; 1 % of 1,000–100,000; 0.5 % above; at most 5,000.
Figures are rounded half-up to the fen. Every figure carries its formula in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dunning.money import format_amount, quantize

ZERO = Decimal("0.00")
COUNSEL = "请与律师确认"
# (upper edge of the band in yuan, or None for the last; rate on the band)
ACCEPTANCE_BANDS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal(100_000), Decimal("0.025")),
    (Decimal(200_000), Decimal("0.02")),
    (Decimal(500_000), Decimal("0.015")),
    (Decimal(1_000_000), Decimal("0.01")),
    (Decimal(2_000_000), Decimal("0.009")),
    (Decimal(5_000_000), Decimal("0.008")),
    (Decimal(10_000_000), Decimal("0.007")),
    (Decimal(20_000_000), Decimal("0.006")),
    (None, Decimal("0.005")),
)
FLAT_UP_TO = Decimal(10_000)
FLAT_FEE = Decimal(50)
PRESERVATION_FLAT_UP_TO = Decimal(1_000)
PRESERVATION_FLAT = Decimal(30)
PRESERVATION_CAP = Decimal(5_000)


@dataclass(frozen=True)
class Fee:
    """One fee with the law it follows and how it is computed, in words."""

    name: str
    amount: Decimal
    formula: str
    article: str

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "amount": f"{self.amount:.2f}",
            "formula": self.formula,
            "article": self.article,
        }


def _yuan(value: Decimal) -> str:
    return f"{format_amount(value)}元"


def _rate(rate: Decimal) -> str:
    return f"{format((rate * 100).normalize(), 'f')}%"


def acceptance_fee(claim: Decimal) -> Fee:
    """受理费 for a claim of `claim` yuan, by the bands of art. 13(1)."""
    claim = max(claim, ZERO)
    total = FLAT_FEE
    parts = [f"{_yuan(FLAT_FEE)}（{_yuan(FLAT_UP_TO)}以下）"]
    low = FLAT_UP_TO
    for high, rate in ACCEPTANCE_BANDS:
        if claim <= low:
            break
        top = claim if high is None else min(claim, high)
        total += (top - low) * rate
        parts.append(f"（{format_amount(top)} − {format_amount(low)}）× {_rate(rate)}")
        if high is None:
            break
        low = high
    amount = quantize(total)
    formula = " + ".join(parts) + f" = {_yuan(amount)}" if len(parts) > 1 else parts[0]
    return Fee("案件受理费", amount, formula, "《诉讼费用交纳办法》第十三条第（一）项")


def simple_procedure_fee(claim: Decimal) -> Fee:
    """简易程序: half the acceptance fee (art. 16)."""
    full = acceptance_fee(claim)
    amount = quantize(full.amount / 2)
    return Fee(
        "简易程序受理费（减半）",
        amount,
        f"{_yuan(full.amount)} ÷ 2 = {_yuan(amount)}",
        "《诉讼费用交纳办法》第十六条",
    )


def payment_order_fee(claim: Decimal) -> Fee:
    """支付令申请费: one third of the acceptance fee (art. 14(3))."""
    full = acceptance_fee(claim)
    amount = quantize(full.amount / 3)
    return Fee(
        "支付令申请费（三分之一）",
        amount,
        f"{_yuan(full.amount)} ÷ 3 = {_yuan(amount)}",
        "《诉讼费用交纳办法》第十四条第（三）项",
    )


def preservation_fee(amount: Decimal) -> Fee:
    """保全申请费 for property of `amount` yuan (art. 14(2))."""
    amount = max(amount, ZERO)
    if amount <= PRESERVATION_FLAT_UP_TO:
        return Fee(
            "财产保全申请费",
            PRESERVATION_FLAT,
            f"{_yuan(PRESERVATION_FLAT)}（{_yuan(PRESERVATION_FLAT_UP_TO)}以下）",
            "《诉讼费用交纳办法》第十四条第（二）项",
        )
    top = min(amount, Decimal(100_000))
    raw = PRESERVATION_FLAT + (top - PRESERVATION_FLAT_UP_TO) * Decimal("0.01")
    parts = [_yuan(PRESERVATION_FLAT), f"（{format_amount(top)} − 1,000.00）× 1%"]
    if amount > 100_000:
        raw += (amount - 100_000) * Decimal("0.005")
        parts.append(f"（{format_amount(amount)} − 100,000.00）× 0.5%")
    fee = quantize(min(raw, PRESERVATION_CAP))
    capped = f"，最高{_yuan(PRESERVATION_CAP)}" if raw > PRESERVATION_CAP else ""
    return Fee(
        "财产保全申请费",
        fee,
        " + ".join(parts) + f" = {_yuan(quantize(raw))}{capped}",
        "《诉讼费用交纳办法》第十四条第（二）项",
    )


@dataclass(frozen=True)
class FeeSheet:
    """What a claim of `claim` yuan costs to bring, each way (SPEC §13)."""

    claim: Decimal
    acceptance: Fee
    simple: Fee
    payment_order: Fee
    preservation: Fee

    @property
    def fees(self) -> tuple[Fee, ...]:
        return (self.acceptance, self.simple, self.payment_order, self.preservation)

    def to_json(self) -> dict[str, object]:
        return {
            "claim": f"{self.claim:.2f}",
            "acceptance": self.acceptance.to_json(),
            "simple_procedure": self.simple.to_json(),
            "payment_order": self.payment_order.to_json(),
            "preservation": self.preservation.to_json(),
            "note": COUNSEL,
        }


def fee_sheet(claim: Decimal, *, preserve: Decimal | None = None) -> FeeSheet:
    """Every fee for a claim; `preserve`: the property to freeze (default: the claim)."""
    return FeeSheet(
        claim=claim,
        acceptance=acceptance_fee(claim),
        simple=simple_procedure_fee(claim),
        payment_order=payment_order_fee(claim),
        preservation=preservation_fee(claim if preserve is None else preserve),
    )
