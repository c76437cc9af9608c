"""Money: Decimal in Python, integer fen (分) in SQLite, never float."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# After NFKC (￥→¥, ，→, full-width digits → ASCII): currency marks may sit before or after.
# Longest first, so US$ is read as a whole (not as $) and 人民币元 as yuan.
_CURRENCIES: dict[str, str] = {
    "人民币": "CNY", "RMB": "CNY", "CNY": "CNY", "¥": "CNY", "元": "CNY", "圆": "CNY",
    "US$": "USD", "USD": "USD", "美元": "USD", "美金": "USD", "$": "USD",
    "HK$": "HKD", "HKD": "HKD", "港币": "HKD", "港元": "HKD", "港幣": "HKD",
    "NT$": "TWD", "TWD": "TWD", "新台币": "TWD", "台币": "TWD",
    "S$": "SGD", "SGD": "SGD", "新加坡元": "SGD", "新币": "SGD",
    "A$": "AUD", "AUD": "AUD", "澳元": "AUD", "C$": "CAD", "CAD": "CAD", "加元": "CAD",
    "EUR": "EUR", "€": "EUR", "欧元": "EUR", "GBP": "GBP", "£": "GBP", "英镑": "GBP",
    "JPY": "JPY", "日元": "JPY", "円": "JPY", "KRW": "KRW", "₩": "KRW", "韩元": "KRW",
    "CHF": "CHF", "瑞士法郎": "CHF", "MOP": "MOP", "澳门元": "MOP", "澳门币": "MOP",
    "RUB": "RUB", "₽": "RUB", "卢布": "RUB", "INR": "INR", "₹": "INR", "卢比": "INR",
    "THB": "THB", "泰铢": "THB", "MYR": "MYR", "林吉特": "MYR", "VND": "VND", "越南盾": "VND",
}  # fmt: skip
_CURRENCY = re.compile(
    "|".join(re.escape(m) for m in sorted(_CURRENCIES, key=len, reverse=True)), re.IGNORECASE
)
_UPPER = {mark.upper(): code for mark, code in _CURRENCIES.items()}
YUAN = "CNY"
# Thousands separators must group by three: "1.234,56" (European) must not read as 1.23456.
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
# Excel's accounting format shows zero as a dash, and "save as CSV" writes what is shown.
_DASHES = frozenset({"-", "--", "—", "——", "–"})
_NOT_AN_AMOUNT = "不是金额（请写成 1234.50、￥1,234.50 或 (300.00) 这样）"


def quantize(value: Decimal) -> Decimal:
    """Round half-up to the fen."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(raw: object) -> Decimal:
    """Read an amount in yuan from a cell: numbers, `￥1,234.50`, `(300.00)`, `-300`, `1 234`.

    Raises ValueError with a short reason when the value is not an amount, or names another
    currency (`$5,000.00`, `USD 100`, `€20` are never yuan).
    """
    amount, currency = parse_money(raw)
    if currency is not None and currency != YUAN:
        raise ValueError(foreign_amount(currency, YUAN))
    return amount


def foreign_amount(currency: str, desk: str) -> str:
    """Why an amount in another currency is refused."""
    return (
        f"金额的币种是 {currency}，不是本工作台的本位币 {desk}：请换算成 {desk} 填写，或删去这一行"
    )


def currency_code(raw: str) -> str | None:
    """`美元`/`US$`/`usd` → `USD`, `人民币`/`￥` → `CNY`; another word → itself in capitals;
    None for an empty cell."""
    text = "".join(unicodedata.normalize("NFKC", raw).split())
    if not text:
        return None
    upper = text.upper()
    known = _UPPER.get(upper) or _UPPER.get(upper.removesuffix("元"))
    if known is not None:
        return known
    # 人民币(CNY), USD 美元: every mark names the same currency and nothing else is there.
    codes = {_UPPER[m.upper()] for m in _CURRENCY.findall(text)}
    rest = _CURRENCY.sub("", text).strip("()[]-/:|")
    if len(codes) == 1 and not rest:
        return codes.pop()
    return upper


def known_currency(raw: str) -> str | None:
    """The code of a currency mark or name this module knows (`美元` → USD), else None."""
    text = "".join(unicodedata.normalize("NFKC", raw).split()).upper()
    return _UPPER.get(text)


def parse_money(raw: object) -> tuple[Decimal, str | None]:
    """An amount and the currency its text names (None when it names none)."""
    if isinstance(raw, bool):
        raise ValueError(_NOT_AN_AMOUNT)
    if isinstance(raw, int):
        return _finite(Decimal(raw)), None
    if isinstance(raw, float):
        # Excel numeric cells are binary floats: go through repr, then round half-up.
        return _finite(Decimal(repr(raw))), None
    if isinstance(raw, Decimal):
        return _finite(raw), None
    return _parse_text(str(raw))


def _parse_text(raw: str) -> tuple[Decimal, str | None]:
    text = "".join(unicodedata.normalize("NFKC", raw).split())
    if not text:
        raise ValueError("金额为空：请填写金额")
    if text in _DASHES:
        return quantize(Decimal(0)), None
    currencies = {_UPPER[m.upper()] for m in _CURRENCY.findall(text)}
    if len(currencies) > 1:
        raise ValueError(f"金额写了两种币种（{'、'.join(sorted(currencies))}）：请只写一种")
    currency = currencies.pop() if currencies else None
    text = _CURRENCY.sub("", text)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text[:1] in ("-", "+") and not negative:  # "(-300)" is ambiguous: rejected below
        negative, text = text[0] == "-", text[1:]
    if not _NUMBER.fullmatch(text):
        raise ValueError(_NOT_AN_AMOUNT)
    return _finite(Decimal(text.replace(",", "")) * (-1 if negative else 1)), currency


# A trillion yuan: far beyond any invoice, and inside SQLite's 64-bit integer fen.
LIMIT = Decimal(10) ** 12


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError(_NOT_AN_AMOUNT)
    if abs(value) >= LIMIT:
        raise ValueError("金额太大（一万亿元或以上）：请核对金额")
    try:
        return quantize(value)
    except InvalidOperation as exc:  # more digits than the decimal context holds
        raise ValueError("金额太大：请核对金额") from exc


def to_fen(amount: Decimal) -> int:
    """Decimal yuan to integer fen (half-up)."""
    return int(quantize(amount) * 100)


def from_fen(fen: int) -> Decimal:
    """Integer fen to Decimal yuan with two places."""
    return Decimal(fen).scaleb(-2)  # exact: the fen's digits, two of them after the point


def format_amount(amount: Decimal) -> str:
    """`1234567.5` → `1,234,567.50`, the way a statement prints it."""
    return f"{quantize(amount):,.2f}"
