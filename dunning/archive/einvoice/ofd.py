"""An OFD e-invoice (GB/T 33190 zip): 数电 and older, read into an `EInvoice`.

Three structured sources, best first: an attached invoice XML (older invoices carry the full
edrm `eInvoice` in Doc_0/Attachs), the custom tags (数电: each field points at a text object
on the page), and OFD.xml's `CustomData` (发票号码, tax ids, 合计金额 = the amount WITHOUT
tax, 合计税额, 开票日期; 价税合计 only on some issuers). The page text is kept for search.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from dunning.archive.einvoice.model import (
    EInvoice,
    EInvoiceFile,
    clean_name,
    clean_tax_id,
    code_of,
    number_of,
    original_from_note,
)
from dunning.archive.einvoice.xmlread import (
    MAX_XML_BYTES,
    child,
    children,
    invoice_from_root,
    is_invoice_root,
    local,
    parse_xml,
    value,
)
from dunning.dates import parse_date
from dunning.errors import IngestError
from dunning.money import parse_amount

# Leaf names of the custom tags (both families) -> our field.
_TAG_FIELDS = {
    "InvoiceNo": "number",
    "InvoiceNumber": "number",
    "InvoiceCode": "code",
    "IssueDate": "date",
    "IssueTime": "date",
    "BuyerName": "buyer_name",
    "BuyerTaxID": "buyer_tax_id",
    "BuyerIdNum": "buyer_tax_id",
    "SellerName": "seller_name",
    "SellerTaxID": "seller_tax_id",
    "SellerIdNum": "seller_tax_id",
    "TaxExclusiveTotalAmount": "net",
    "TotalAmWithoutTax": "net",
    "TaxTotalAmount": "tax",
    "TotalTaxAm": "tax",
    "TaxInclusiveTotalAmount": "total",
    "TotalTax-includedAmount": "total",
    "Note": "note",
    "Remark": "note",
    "InvoiceCheckCode": "check_code",
}
# OFD.xml CustomData names -> our field. 合计金额 is the amount without tax, never 价税合计.
_CUSTOM_FIELDS = {
    "发票号码": "number",
    "发票代码": "code",
    "开票日期": "date",
    "购买方名称": "buyer_name",
    "购买方纳税人识别号": "buyer_tax_id",
    "销售方名称": "seller_name",
    "销售方纳税人识别号": "seller_tax_id",
    "合计金额": "net",
    "合计税额": "tax",
    "价税合计": "total",
    "校验码": "check_code",
}
_KIND = re.compile(r"[^\s：:（()）]*发票(?:[（(][^）)]*[）)])?")


class _Package:
    """The zip's parts, looked up by OFD location (absolute, or relative to a part)."""

    def __init__(self, archive: zipfile.ZipFile, name: str) -> None:
        self.archive, self.name = archive, name
        self.parts = {n.lstrip("/"): n for n in archive.namelist()}
        self.folded = {k.lower(): v for k, v in self.parts.items()}

    def locate(self, base: str, loc: str) -> str | None:
        loc = loc.strip().replace("\\", "/")
        path = loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc)
        path = posixpath.normpath(path)
        if path in self.parts:
            return path
        return self.folded.get(path.lower()) and path

    def xml(self, path: str | None) -> ET.Element | None:
        if path is None:
            return None
        member = self.parts.get(path) or self.folded.get(path.lower())
        if member is None:
            return None
        info = self.archive.getinfo(member)
        if info.file_size > MAX_XML_BYTES:
            raise IngestError(
                f"{self.name}：其中的 {path} 远大于一张发票的 XML：未读取（文件已损坏或有恶意）。"
            )
        return parse_xml(self.archive.read(member), self.name, path)


def read_ofd(path: Path) -> EInvoiceFile:
    """Read an OFD e-invoice; IngestError with one sentence when it holds none."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _read(_Package(archive, path.name))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise IngestError(
            f"{path.name} 是损坏或不完整的 OFD 文件：请从税务平台重新下载发票后再放入。"
        ) from exc


def _read(pkg: _Package) -> EInvoiceFile:
    root = pkg.xml(pkg.locate("", "OFD.xml"))
    if root is None or local(root.tag) != "OFD":
        raise IngestError(
            f"{pkg.name} 是不含 OFD.xml 的压缩包，不是 OFD 发票：请从税务平台重新下载发票。"
        )
    body = child(root, "DocBody")
    custom = {
        (item.get("Name") or "").strip(): (item.text or "").strip()
        for item in children(child(body, "DocInfo", "CustomDatas"), "CustomData")
    }
    doc_loc = value(body, "DocRoot") or ""
    doc_path = pkg.locate("", doc_loc) if doc_loc else None
    document = pkg.xml(doc_path)
    base = posixpath.dirname(doc_path or "")
    objects, texts = _page_objects(pkg, document, base)
    attached = _attached_invoice(pkg, document, base)
    tagged = _tagged_fields(pkg, document, base, objects)
    fields = {_CUSTOM_FIELDS[k]: v for k, v in custom.items() if k in _CUSTOM_FIELDS and v}
    fields.update({k: v for k, v in tagged.items() if v})
    page_text = "\n".join(texts)
    if attached is not None:
        invoice = replace(attached, source="ofd", kind_title=_kind(texts) or attached.kind_title)
    else:
        invoice = _from_fields(pkg.name, fields, page_text, texts)
    return EInvoiceFile("ofd", (invoice,), page_text, pages=max(1, len(_pages(document))))


def _pages(document: ET.Element | None) -> list[ET.Element]:
    return children(child(document, "Pages"), "Page")


def _page_objects(
    pkg: _Package, document: ET.Element | None, base: str
) -> tuple[dict[str, str], list[str]]:
    """Text objects by ID (what tags point at) and every text in page order (for search)."""
    locs = [t.get("BaseLoc", "") for t in children(child(document, "CommonData"), "TemplatePage")]
    locs += [p.get("BaseLoc", "") for p in _pages(document)]
    objects: dict[str, str] = {}
    texts: list[str] = []
    for loc in locs:
        content = pkg.xml(pkg.locate(base, loc)) if loc else None
        for obj in _iter(content, "TextObject"):
            text = "".join(code.text or "" for code in obj.iter() if local(code.tag) == "TextCode")
            objects[obj.get("ID", "")] = text
            if text.strip():
                texts.append(text.strip())
    return objects, texts


def _iter(node: ET.Element | None, name: str) -> Iterator[ET.Element]:
    if node is None:
        return
    for element in node.iter():
        if local(element.tag) == name:
            yield element


def _attached_invoice(pkg: _Package, document: ET.Element | None, base: str) -> EInvoice | None:
    """The full invoice XML an older OFD attaches (Doc_0/Attachs/original_invoice.xml)."""
    loc = value(document, "Attachments")
    list_path = pkg.locate(base, loc) if loc else None
    attachments = pkg.xml(list_path)
    folder = posixpath.dirname(list_path or "")
    for item in children(attachments, "Attachment"):
        file_loc = value(item, "FileLoc")
        if not file_loc:
            continue
        part = pkg.locate(folder, file_loc)
        root = pkg.xml(part) if part and part.lower().endswith(".xml") else None
        if root is not None and is_invoice_root(root):
            try:
                return invoice_from_root(root, pkg.name, part)
            except IngestError:
                continue  # an empty or partial attachment: the other sources may do
    return None


def _tagged_fields(
    pkg: _Package, document: ET.Element | None, base: str, objects: dict[str, str]
) -> dict[str, str]:
    """Fields from the custom tags: each names text objects on the page by ID."""
    loc = value(document, "CustomTags")
    index_path = pkg.locate(base, loc) if loc else None
    index = pkg.xml(index_path)
    folder = posixpath.dirname(index_path or "")
    fields: dict[str, str] = {}
    for tag in children(index, "CustomTag"):
        file_loc = value(tag, "FileLoc")
        root = pkg.xml(pkg.locate(folder, file_loc)) if file_loc else None
        if root is None:
            continue
        for element in root.iter():
            field = _TAG_FIELDS.get(local(element.tag))
            if field is None or field in fields:
                continue
            refs = [r for r in element if local(r.tag) == "ObjectRef"]
            if refs:
                text = "".join(objects.get((r.text or "").strip(), "") for r in refs)
            else:
                text = (element.text or "").strip()
            if text.strip():
                fields[field] = text.strip()
    return fields


def _from_fields(name: str, fields: dict[str, str], page_text: str, texts: list[str]) -> EInvoice:
    code = code_of(fields.get("code"))
    number = number_of(fields.get("number"))
    if number is None:
        raise IngestError(
            f"{name} 是没有发票数据的 OFD（其中没有 20 位或 8 位的发票号码）：未作为电子发票归档；"
            "请从税务平台重新下载发票。"
        )
    try:
        issued = parse_date(fields.get("date", ""))
    except ValueError as exc:
        raise IngestError(
            f"{name}：无法读取开票日期 {fields.get('date', '（缺失）')!r}（{exc}）："
            "请从税务平台重新下载发票。"
        ) from exc
    net, tax = _amount(fields.get("net")), _amount(fields.get("tax"))
    total = _amount(fields.get("total"))
    if total is None and net is not None and tax is not None:
        total = net + tax
    if total is None:
        raise IngestError(
            f"{name}：OFD 中没有价税合计（也没有合计金额和合计税额），读不出应收金额："
            "请从税务平台重新下载发票。"
        )
    note = fields.get("note") or page_text
    original = original_from_note(note)
    negative = "负数" in page_text
    if negative and total > 0:
        total, net, tax = -total, _neg(net), _neg(tax)
    return EInvoice(
        number=number,
        code=code if len(number) == 8 else None,
        issued_on=issued,
        total=total,
        net=net,
        tax=tax,
        seller_name=clean_name(fields.get("seller_name")),
        seller_tax_id=clean_tax_id(fields.get("seller_tax_id")),
        buyer_name=clean_name(fields.get("buyer_name")),
        buyer_tax_id=clean_tax_id(fields.get("buyer_tax_id")),
        kind_title=_kind(texts),
        red=total < 0 or original is not None,
        original=original,
        check_code=fields.get("check_code"),
        source="ofd",
    )


def _amount(raw: str | None) -> Decimal | None:
    if not raw:
        return None
    try:
        return parse_amount(raw)
    except ValueError:
        return None


def _neg(amount: Decimal | None) -> Decimal | None:
    return -amount if amount is not None and amount > 0 else amount


def _kind(texts: list[str]) -> str | None:
    """The invoice's title as printed: 电子发票（增值税专用发票）, 重庆增值税电子普通发票."""
    for text in texts:
        hit = _KIND.search(text)
        if hit and hit.group() != "发票" and not text.rstrip().endswith(("：", ":")):
            return hit.group()
    return None
