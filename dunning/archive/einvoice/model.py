"""What an e-invoice reads into: plain, picklable dataclasses (built in worker processes)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from dunning.archive.ledger.rows import RowCounts

Status = Literal["normal", "void", "red_flushed", "partly_red"]
Source = Literal["xml", "ofd", "pdf", "list"]

# 数电 numbers are 20 digits; an older invoice is a 10- or 12-digit 发票代码 + 8-digit 发票号码.
DIGITAL_NUMBER = re.compile(r"\d{20}")
OLD_CODE = re.compile(r"\d{10}|\d{12}")
OLD_NUMBER = re.compile(r"\d{8}")
# 统一社会信用代码 (18) or an older 纳税人识别号 (15, 17 or 20), letters upper-case.
TAX_ID = re.compile(r"[0-9A-Z]{15}|[0-9A-Z]{17,18}|[0-9A-Z]{20}")


@dataclass(frozen=True)
class Line:
    name: str
    amount: Decimal | None
    tax: Decimal | None


@dataclass(frozen=True)
class EInvoice:
    """One invoice as the tax platform issued it; amounts of a 红字 invoice are negative."""

    number: str
    code: str | None  # older invoices only
    issued_on: dt.date
    total: Decimal  # 价税合计
    net: Decimal | None = None  # 合计金额 (without tax)
    tax: Decimal | None = None  # 合计税额
    seller_name: str | None = None
    seller_tax_id: str | None = None
    buyer_name: str | None = None
    buyer_tax_id: str | None = None
    kind_title: str | None = None  # 票种 as printed: 增值税专用发票, 普通发票, 通行费…
    red: bool = False
    original: str | None = None  # the key of the invoice a 红字 invoice cancels
    status: Status = "normal"
    status_text: str | None = None  # 发票状态 as the export wrote it
    check_code: str | None = None
    lines: tuple[Line, ...] = ()
    source: Source = "xml"
    row: int | None = None  # the export's row

    @property
    def key(self) -> str:
        """The invoice's identity: the 20-digit number, or CODE-NUMBER for an older one."""
        return invoice_key(self.number, self.code)


@dataclass(frozen=True)
class EInvoiceFile:
    """A parsed e-invoice file: one invoice (XML, OFD, PDF) or many (the export)."""

    source: Source
    invoices: tuple[EInvoice, ...]
    text: str  # searchable text
    counts: RowCounts | None = None  # the export's row accounting
    pages: int | None = None
    columns: dict[str, str] = field(default_factory=dict)  # export: field -> header as written


def invoice_key(number: str, code: str | None) -> str:
    return f"{code}-{number}" if code else number


def clean_tax_id(raw: str | None) -> str | None:
    """A buyer's or seller's tax id, width-folded and upper-cased; None unless it has the form."""
    if not raw:
        return None
    value = "".join(unicodedata.normalize("NFKC", raw).split()).upper()
    return value if TAX_ID.fullmatch(value) else None


def clean_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = " ".join(unicodedata.normalize("NFKC", raw).split())
    value = "".join(ch for ch in value if ch.isprintable())
    return value or None


def number_of(raw: str | None) -> str | None:
    """An invoice number's digits, when it is a 20-digit 数电 or an 8-digit older number."""
    if raw is None:
        return None
    value = "".join(unicodedata.normalize("NFKC", raw).split())
    if DIGITAL_NUMBER.fullmatch(value) or OLD_NUMBER.fullmatch(value):
        return value
    return None


def code_of(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = "".join(unicodedata.normalize("NFKC", raw).split())
    return value if OLD_CODE.fullmatch(value) else None


# A 红字 invoice names the invoice it cancels in its 备注 (and the export's 备注 column).
_RED_DIGITAL = re.compile(r"被红冲蓝字(?:数电|全电)?发票号码[:：]?\s*(\d{20})")
_RED_OLD = re.compile(r"对应正数发票代码[:：]?\s*(\d{10,12})\s*[,，;；]?\s*号码[:：]?\s*(\d{8})")


def original_from_note(note: str | None) -> str | None:
    """The key of the blue invoice a 红字 invoice's note names, if it names one."""
    if not note:
        return None
    text = unicodedata.normalize("NFKC", note)
    hit = _RED_DIGITAL.search(text)
    if hit:
        return hit.group(1)
    old = _RED_OLD.search(text)
    if old:
        return invoice_key(old.group(2), old.group(1))
    return None
