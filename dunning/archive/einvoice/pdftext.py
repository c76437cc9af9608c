"""An e-invoice's fields from its PDF text layer (older 增值税电子普通发票 and 数电 PDFs).

Labels are matched whole (发票号码, never 车牌号码 or 订单号码), numbers must stand as a run of
digits of their own, and a name or tax id is given to the buyer or seller by the 名称 label
it follows (the buyer's block comes first on both layouts).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from dunning.archive.einvoice.model import (
    EInvoice,
    clean_name,
    clean_tax_id,
    original_from_note,
)
from dunning.dates import parse_date
from dunning.money import parse_amount

_SPACE_BETWEEN_CJK = re.compile(
    r"(?<=[\u3000-\u9fff\uff00-\uffef])[ \t]+(?=[\u3000-\u9fff\uff00-\uffef])"
)
_NUMBER = re.compile(r"(?<![\u4e00-\u9fff])发票号码[:：]?\s*(?<!\d)(\d{20}|\d{8})(?!\d)")
_CODE = re.compile(r"发票代码[:：]?\s*(?<!\d)(\d{12}|\d{10})(?!\d)")
_DATE = re.compile(
    r"开票日期[:：]?\s*(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}-\d{1,2}-\d{1,2})"
)
_CHECK = re.compile(r"校验码[:：]?\s*((?:\d\s?){20})")
_TOTAL = re.compile(r"[（(]小写[）)]\s*[¥￥]?\s*(-?[\d,]+\.\d{2})")
_NAME = re.compile(
    r"名\s*称[:：]\s*([^\s:：]+?)"
    r"(?=统一社会信用代码|纳税人识别号|地址|开户行|销售方|销方|购买方|购方|项目名称|[\s:：]|$)"
)
_TAX_ID = re.compile(r"(?:纳税人识别号|统一社会信用代码)[^:：\n]*[:：]\s*([0-9A-Za-z]{15,20})")
_LABEL_WORDS = ("统一社会信用代码", "纳税人识别号", "名称", "地址", "开户行", "信息")


# Characters of the labels every e-invoice shows (发票号码, 开票日期, 电子…发票) that no other
# character becomes under NFKC: a text lacking one is no e-invoice, and most contracts lack
# one, so they are not normalised here at all.
NEEDED_CHARS = "发票号码开期电"


def looks_like_einvoice(text: str) -> bool:
    """True for the text of an e-invoice (not a contract that mentions invoices)."""
    if not all(char in text for char in NEEDED_CHARS):
        return False
    flat = _flat(text)
    return (
        "发票号码" in flat
        and "开票日期" in flat
        and ("价税合计" in flat or "合计" in flat)
        and ("电子发票" in flat or "电子普通发票" in flat or "电子专用发票" in flat)
        and (
            _NUMBER.search(flat) is not None
            # Labels apart from their values: only a short text that names both parties
            # (a one-page invoice, not a contract quoting a 20-digit account number).
            or (
                len(flat) < _ONE_PAGE
                and "价税合计" in flat
                and ("购买方" in flat or "购方" in flat)
                and _fields(flat) is not None
            )
        )
    )


def _flat(text: str) -> str:
    return _SPACE_BETWEEN_CJK.sub("", unicodedata.normalize("NFKC", text).replace("\x00", ""))


_ONE_PAGE = 3000  # characters: an e-invoice's text layer is well below this
_LONE_NUMBER = re.compile(r"(?<!\d)\d{20}(?!\d)")
_ANY_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
_YUAN = re.compile(r"¥\s*(-?[\d,]+\.\d{2})")


def _fields(flat: str) -> tuple[str, str, str] | None:
    """Number, date and 价税合计 as written: after their labels, or (a 数电 PDF whose text
    layer gives every label before every value) the one 20-digit number, the first date and
    the largest ¥ amount."""
    number_hit, date_hit, total_hit = _NUMBER.search(flat), _DATE.search(flat), _TOTAL.search(flat)
    number = number_hit.group(1) if number_hit else None
    if number is None and "发票代码" not in flat and "校验码" not in flat:
        runs = set(_LONE_NUMBER.findall(flat))
        number = runs.pop() if len(runs) == 1 else None
    date = date_hit.group(1) if date_hit else None
    if date is None:
        any_date = _ANY_DATE.search(flat)
        date = any_date.group() if any_date else None
    total = total_hit.group(1) if total_hit else None
    if total is None:
        amounts = [a for a in map(_amount, _YUAN.findall(flat)) if a is not None]
        total = str(max(amounts, key=abs)) if amounts else None
    if number is None or date is None or total is None:
        return None
    return number, date, total


def _amount(raw: str) -> Decimal | None:
    try:
        return parse_amount(raw)
    except ValueError:
        return None


def read_invoice_text(text: str) -> EInvoice | None:
    """The invoice the text shows, or None when its number, date or amount cannot be read."""
    flat = _flat(text)
    found = _fields(flat)
    if found is None:
        return None
    number = found[0]
    code_hit = _CODE.search(flat)
    code = code_hit.group(1) if code_hit and len(number) == 8 else None
    try:
        issued = parse_date(found[1].replace(" ", ""))
        total = parse_amount(found[2])
    except ValueError:
        return None
    red = total < 0 or "负数" in flat or "红字" in flat
    if red and total > 0:
        total = -total
    parties = _parties(flat)
    check = _CHECK.search(flat)
    return EInvoice(
        number=number,
        code=code,
        issued_on=issued,
        total=total,
        buyer_name=parties[0][0],
        buyer_tax_id=parties[0][1],
        seller_name=parties[1][0],
        seller_tax_id=parties[1][1],
        kind_title=_kind(flat),
        red=red,
        original=original_from_note(flat),
        check_code=check.group(1).replace(" ", "") if check else None,
        source="pdf",
    )


def _parties(flat: str) -> list[tuple[str | None, str | None]]:
    """(name, tax id) of the buyer then the seller: each tax id belongs to the 名称 before it."""
    names = [(m.start(), m.group(1)) for m in _NAME.finditer(flat)]
    ids = [(m.start(), m.group(1)) for m in _TAX_ID.finditer(flat)]
    parties: list[tuple[str | None, str | None]] = []
    for index, (at, raw) in enumerate(names[:2]):
        end = names[index + 1][0] if index + 1 < len(names) else len(flat)
        name = None if any(word in raw for word in _LABEL_WORDS) else clean_name(raw)
        tax_id = next((clean_tax_id(v) for pos, v in ids if at < pos < end), None)
        parties.append((name, tax_id))
    while len(parties) < 2:
        parties.append((None, None))
    return parties


# Older invoices are titled by their issuing tax bureau: 重庆增值税电子普通发票.
_REGIONS = [
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
    "深圳",
    "大连",
    "宁波",
    "厦门",
    "青岛",
]
_KIND = re.compile(
    rf"(?:(?:{'|'.join(_REGIONS)})?增值税)?电子(?:普通|专用)?发票(?:[（(][^）)\s]{{1,16}}[）)])?"
)


def _kind(flat: str) -> str | None:
    hit = _KIND.search(flat)
    return hit.group() if hit else None
