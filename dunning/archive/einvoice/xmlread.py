"""The 数电 XML (root `EInvoice`) and the older e-invoice XML (root `eInvoice`, the edrm schema
inside an older OFD's attachment), read into an `EInvoice`.

Elements are found by their path of local names (namespaces differ between issuers), and
each field is read from its one documented place: a toll invoice's `PlateNumber` (or any
other `*Number`) is never taken for the invoice number.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from dunning.archive.einvoice.model import (
    EInvoice,
    Line,
    clean_name,
    clean_tax_id,
    code_of,
    invoice_key,
    number_of,
    original_from_note,
)
from dunning.dates import parse_date
from dunning.errors import IngestError
from dunning.money import parse_amount

# The marks zipguard refuses in a workbook's XML: a DTD or entity declarations (XXE,
# "billion laughs"), in any of the encodings an XML file may use.
_DTD_MARKS = tuple(
    mark.encode(codec)
    for mark in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("ascii", "utf-16-le", "utf-16-be")
)
MAX_XML_BYTES = 8 * 1024 * 1024  # an invoice's XML is a few KB; a huge one is not an invoice


def parse_xml(data: bytes, name: str, part: str | None = None) -> ET.Element:
    """Parse untrusted XML: refused with a DTD, too large or not well-formed."""
    where = f"{name}（{part}）" if part else name
    if len(data) > MAX_XML_BYTES:
        raise IngestError(
            f"{where} 是 {len(data) // (1024 * 1024)} MB 的 XML，远超一张电子发票的大小：未读取；"
            "请从税务平台重新下载发票。"
        )
    if any(mark in data for mark in _DTD_MARKS):
        raise IngestError(
            f"{where} 声明了 DTD 或实体（XML 外部实体或实体膨胀攻击）：未读取；"
            "请从税务平台重新下载发票。"
        )
    try:
        return ET.fromstring(_as_utf8(data))
    except (ET.ParseError, UnicodeDecodeError) as exc:
        at = (
            "第 {} 行第 {} 列出错".format(*exc.position)
            if isinstance(exc, ET.ParseError)
            else "编码有误"
        )
        raise IngestError(
            f"{where} 不是格式正确的 XML（{at}）：文件可能不完整或已损坏；"
            "请从税务平台重新下载发票。"
        ) from exc


_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9_-]+)["']""")
_GB = {b"gbk", b"gb2312", b"gb18030", b"cp936"}


def _as_utf8(data: bytes) -> bytes:
    """GBK-family XML re-encoded as UTF-8 (expat reads only single-byte codecs beside UTF)."""
    declared = _DECLARED.match(data[:200])
    if declared is None or declared.group(1).lower() not in _GB:
        return data
    text = data.decode("gb18030")
    return text.replace(declared.group(1).decode(), "UTF-8", 1).encode("utf-8")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(node: ET.Element | None, *path: str) -> ET.Element | None:
    """The first element down `path` of local names (namespaces ignored)."""
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if local(c.tag) == name), None)
    return node


def value(node: ET.Element | None, *path: str) -> str | None:
    found = child(node, *path)
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def children(node: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if node is None else [c for c in node if local(c.tag) == name]


def is_invoice_root(root: ET.Element) -> bool:
    return local(root.tag) in ("EInvoice", "eInvoice")


def read_invoice_xml(data: bytes, name: str, part: str | None = None) -> EInvoice:
    """An e-invoice from its XML; IngestError naming the file for an unknown schema."""
    root = parse_xml(data, name, part)
    return invoice_from_root(root, name, part)


def invoice_from_root(root: ET.Element, name: str, part: str | None = None) -> EInvoice:
    tag = local(root.tag)
    if tag == "EInvoice":
        return _digital(root, name)
    if tag == "eInvoice":
        return _older(root, name)
    where = f"{name}（{part}）" if part else name
    raise IngestError(
        f"{where} 的 XML 格式无法识别（根元素为 {tag!r}，不是税务平台的 EInvoice）："
        "未作为发票读取；请重新下载发票的 XML 或 OFD。"
    )


def _digital(root: ET.Element, name: str) -> EInvoice:
    data = child(root, "EInvoiceData")
    basic = child(data, "BasicInformation")
    raw_number = value(root, "TaxSupervisionInfo", "InvoiceNumber") or value(root, "Header", "EIid")
    number = number_of(raw_number)
    if number is None or len(number) != 20:
        raise _missing(name, "TaxSupervisionInfo/InvoiceNumber（20 位）", raw_number)
    issued = _date(
        value(root, "TaxSupervisionInfo", "IssueTime") or value(basic, "RequestTime"),
        name,
        "TaxSupervisionInfo/IssueTime",
    )
    net = _amount(value(basic, "TotalAmWithoutTax"))
    tax = _amount(value(basic, "TotalTaxAm"))
    total = _amount(value(basic, "TotalTax-includedAmount"))
    if total is None and net is not None and tax is not None:
        total = net + tax  # some issuers write only ¥ here: the two parts are on the invoice
    if total is None:
        raise _missing(name, "BasicInformation/TotalTax-includedAmount", None)
    labels = child(root, "Header", "InherentLabel")
    red, original = _red_of(root, data, total)
    kind = " ".join(
        filter(
            None,
            [
                value(labels, "EInvoiceType", "LabelName"),
                value(labels, "GeneralOrSpecialVAT", "LabelName"),
                value(labels, "SpecificBusinessType", "LabelName"),  # 通行费, 旅客运输…
            ],
        )
    )
    seller = child(data, "SellerInformation")
    buyer = child(data, "BuyerInformation")
    lines = tuple(
        Line(
            name=clean_name(value(item, "ItemName")) or "",
            amount=_amount(value(item, "Amount")),
            tax=_amount(value(item, "ComTaxAm")),
        )
        for item in children(data, "IssuItemInformation")
    )
    return EInvoice(
        number=number,
        code=None,
        issued_on=issued,
        total=total,
        net=net,
        tax=tax,
        seller_name=clean_name(value(seller, "SellerName")),
        seller_tax_id=clean_tax_id(value(seller, "SellerIdNum")),
        buyer_name=clean_name(value(buyer, "BuyerName")),
        buyer_tax_id=clean_tax_id(value(buyer, "BuyerIdNum")),
        kind_title=kind or None,
        red=red,
        original=original if original != number else None,
        lines=lines,
        source="xml",
    )


def _red_of(root: ET.Element, data: ET.Element | None, total: Decimal) -> tuple[bool, str | None]:
    """Whether a 数电 invoice is 红字, and the number of the invoice it cancels: its label
    (InIssuType N), its RedEInvoice block, a negative total, or its note naming the original."""
    red_label = value(root, "Header", "InherentLabel", "InIssuType", "LabelCode")
    red_info = child(data, "SpecificInformation", "RedEInvoice")
    original = number_of(
        value(red_info, "OriginalInvoiceNumber") or value(red_info, "OriginalInvoiceCode")
    ) or original_from_note(value(data, "AdditionalInformation", "Remark"))
    red = red_label == "N" or red_info is not None or total < 0 or original is not None
    return red, original


def _older(root: ET.Element, name: str) -> EInvoice:
    code = code_of(value(root, "InvoiceCode"))
    raw_number = value(root, "InvoiceNo")
    number = number_of(raw_number)
    if number is None:
        raise _missing(name, "InvoiceNo", raw_number)
    issued = _date(value(root, "IssueDate"), name, "IssueDate")
    net = _amount(value(root, "TaxExclusiveTotalAmount"))
    tax = _amount(value(root, "TaxTotalAmount"))
    total = _amount(value(root, "TaxInclusiveTotalAmount"))
    if total is None and net is not None and tax is not None:
        total = net + tax
    if total is None:
        raise _missing(name, "TaxInclusiveTotalAmount", None)
    note = value(root, "Note")
    original = original_from_note(note)
    goods = child(root, "GoodsInfos")
    lines = tuple(
        Line(
            name=clean_name(value(item, "Item")) or "",
            amount=_amount(value(item, "Amount")),
            tax=_amount(value(item, "TaxAmount")),
        )
        for item in children(goods, "GoodsInfo")
    )
    return EInvoice(
        number=number,
        code=code,
        issued_on=issued,
        total=total,
        net=net,
        tax=tax,
        seller_name=clean_name(value(root, "Seller", "SellerName")),
        seller_tax_id=clean_tax_id(value(root, "Seller", "SellerTaxID")),
        buyer_name=clean_name(value(root, "Buyer", "BuyerName")),
        buyer_tax_id=clean_tax_id(value(root, "Buyer", "BuyerTaxID")),
        kind_title=None,
        red=total < 0 or original is not None,
        original=original if original != invoice_key(number, code) else None,
        check_code=value(root, "InvoiceCheckCode"),
        lines=lines,
        source="xml",
    )


def _amount(raw: str | None) -> Decimal | None:
    """An amount, or None when the field is empty or holds only a currency mark."""
    if raw is None:
        return None
    try:
        return parse_amount(raw)
    except ValueError:
        return None


def _date(raw: str | None, name: str, field: str) -> dt.date:
    try:
        return parse_date((raw or "").strip())
    except ValueError as exc:
        raise IngestError(
            f"{name}：开票日期 {field} 为 {raw or '（缺失）'!r}，{exc}；请从税务平台重新下载发票。"
        ) from exc


def _missing(name: str, field: str, raw: str | None) -> IngestError:
    shown = f"{raw!r}" if raw else "缺失"
    return IngestError(
        f"{name}：发票的 {field} 为 {shown}，无法作为电子发票读取；请从税务平台重新下载发票。"
    )
