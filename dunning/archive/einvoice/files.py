"""E-invoice files as the ingest pipeline meets them: what a file is, reading it, and writing
its document's rows (text, pages, the invoices, the document's customer and title)."""

from __future__ import annotations

import dataclasses
import html
import json
import sqlite3
import zipfile
from pathlib import Path

from dunning.archive.contracts.extract import ExtractedText, ExtractLimits, extract_text
from dunning.archive.contracts.pages import record_pages
from dunning.archive.einvoice.listing import is_invoice_list as is_list_header
from dunning.archive.einvoice.listing import marks_in, read_invoice_list
from dunning.archive.einvoice.model import EInvoiceFile
from dunning.archive.einvoice.ofd import read_ofd
from dunning.archive.einvoice.pdftext import looks_like_einvoice, read_invoice_text
from dunning.archive.einvoice.registry import Recorded, company_key, record_file, relink
from dunning.archive.einvoice.xmlread import parse_xml, read_invoice_xml
from dunning.archive.ledger.csvtext import decode
from dunning.archive.ledger.files import open_sheets
from dunning.archive.sniff import sniff
from dunning.errors import IngestError
from dunning.money import format_amount
from dunning.vocabulary import FILE_TYPES, title

KIND = "einvoice"
_SAMPLE = 256 * 1024  # enough of a workbook's strings to hold its header


def kind_by_name(sniffed: str, path: Path) -> str | None:
    """`einvoice` for a zip named .ofd that cannot be opened: it is quarantined as a damaged
    OFD (the name only words the message; an OFD that opens is known by its content)."""
    return KIND if sniffed == "zip" and path.suffix.lower() == ".ofd" else None


def refine_kind(kind: str, sniffed: str, path: Path) -> str:
    """`einvoice` for the 全量发票查询 export, which a ledger reader would take for an invoice
    ledger. Call it only after the zip guard has passed the file."""
    if kind == "ledger" and sniffed in ("xlsx", "csv") and is_invoice_list(path, sniffed):
        return KIND
    return kind


def is_invoice_list(path: Path, sniffed: str) -> bool:
    """The export, not a ledger: a cheap look at the raw text for its own headers (发票状态,
    销方识别号…), then, when they are there, its header row read properly."""
    if not _marks(path, sniffed):
        return False
    try:
        with open_sheets(path) as sheets:
            return any(is_list_header(sheet.head) for sheet in sheets)
    except IngestError:
        return False  # the ledger reader says what is wrong with it


def _marks(path: Path, sniffed: str) -> bool:
    try:
        if sniffed == "csv":
            with path.open("rb") as fh:
                decoded = decode(fh.read(16 * 1024), complete=False)
            return decoded is not None and marks_in(decoded[0])
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            part = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else None
            part = part or next((n for n in names if n.startswith("xl/worksheets/")), None)
            if part is None:
                return False
            with archive.open(part) as member:
                sample = member.read(_SAMPLE)
    except (OSError, zipfile.BadZipFile, ValueError, NotImplementedError, RuntimeError, EOFError):
        return False  # the ledger reader says what is wrong with it
    # Some writers (openpyxl among them) store every CJK character as &#NNNNN;.
    return marks_in(html.unescape(sample.decode("utf-8", "ignore")))


def read_einvoice_file(
    path: Path, limits: ExtractLimits
) -> tuple[EInvoiceFile, ExtractedText | None]:
    """Read an e-invoice file of any kind (in a worker process)."""
    sniffed = sniff(path)
    if sniffed == "xml":
        data = path.read_bytes()
        invoice = read_invoice_xml(data, path.name)
        text = _xml_text(data)
        return EInvoiceFile("xml", (invoice,), text), None
    if sniffed in ("ofd", "zip"):
        return read_ofd(path), None
    if sniffed in ("xlsx", "csv"):
        return read_invoice_list(path), None
    if sniffed == "pdf":
        extracted = extract_text(path, limits)
        found = from_pdf_text(extracted, path.name)
        if found is None:
            raise IngestError(
                f"{path.name} 是 PDF，但读不出电子发票（文字中没有发票号码、开票日期和价税合计）："
                "请从税务平台重新下载发票的 PDF、OFD 或 XML。"
            )
        return found, extracted
    raise IngestError(
        f"{path.name} 不是电子发票（识别为 {title(FILE_TYPES, sniffed)}）："
        "请放入发票的 XML、OFD 或 PDF，或全量发票查询导出（XLSX）。"
    )


def from_pdf_text(text: ExtractedText, name: str) -> EInvoiceFile | None:
    """The e-invoice a PDF's text shows, if it is one."""
    if not looks_like_einvoice(text.text):
        return None
    invoice = read_invoice_text(text.text)
    if invoice is None:
        return None
    return EInvoiceFile("pdf", (invoice,), text.text, pages=text.page_count)


def _xml_text(data: bytes) -> str:
    """The XML's text content for search (tags left out)."""
    root = parse_xml(data, "")
    return "\n".join(t.strip() for t in root.itertext() if t.strip())


def record_einvoice_document(
    conn: sqlite3.Connection,
    document_id: int,
    parsed: EInvoiceFile,
    extracted: ExtractedText | None,
    *,
    own_company: str = "",
    name: str = "",
) -> str:
    """Write an archived e-invoice file's rows; returns the line the ingest report shows.

    Invoices our own company received (it is the buyer: a purchase invoice, or the
    export's 取得发票 side) are no receivables: a single one is refused, a list counts them.
    """
    parsed = without_received(parsed, own_company, name)
    conn.execute(
        "INSERT INTO document_text (document_id, text) VALUES (?, ?)", [document_id, parsed.text]
    )
    if extracted is not None:
        record_pages(conn, document_id, extracted)
    result = record_file(conn, document_id, parsed)
    first = parsed.invoices[0] if parsed.invoices else None
    single = parsed.source != "list" and first is not None
    heading = f"电子发票 {first.key}" if single and first else "全量发票查询"
    meta = {
        "einvoice": parsed.source,
        "invoices": len(parsed.invoices),
        "row_counts": parsed.counts.to_json() if parsed.counts else None,
        "columns": parsed.columns or None,
    }
    conn.execute(
        "UPDATE documents SET kind = ?, title = ?, customer_code = ?, contract_no = ?,"
        " pages = COALESCE(pages, ?), meta = ? WHERE id = ?",
        [
            KIND, heading, result.customer if single else None,
            result.contract_no if single else None, parsed.pages,
            json.dumps(meta, ensure_ascii=False), document_id,
        ],
    )  # fmt: skip
    return label(parsed, result)


def without_received(parsed: EInvoiceFile, own_company: str, name: str) -> EInvoiceFile:
    """The file less the invoices issued to our own company."""
    if not own_company.strip():
        return parsed
    own = company_key(own_company)
    ours = [i for i in parsed.invoices if not (i.buyer_name and company_key(i.buyer_name) == own)]
    received = len(parsed.invoices) - len(ours)
    if not received:
        return parsed
    if parsed.source != "list":
        invoice = parsed.invoices[0]
        raise IngestError(
            f"{name or '该文件'} 是{invoice.seller_name or '其他公司'}开给{own_company}的发票"
            f" {invoice.key}（进项发票），不是本公司开出的：未归档；应收只需要本公司开出的发票。"
        )
    counts = None
    if parsed.counts is not None:
        counts = dataclasses.replace(
            parsed.counts,
            imported=parsed.counts.imported - received,
            skipped={**parsed.counts.skipped},
        )
        counts.skipped["received by us"] = counts.skipped.get("received by us", 0) + received
    return dataclasses.replace(parsed, invoices=tuple(ours), counts=counts)


def label(parsed: EInvoiceFile, result: Recorded) -> str:
    """`电子发票 2411…（1,130.00），客户 C001` or `全量发票查询（读取 12 行：…）`."""
    if parsed.source == "list" and parsed.counts is not None:
        head = (
            f"全量发票查询（{parsed.counts.summary()}；关联台账 {result.linked} 张，"
            f"作废 {result.void} 张，红字 {result.red} 张）"
        )
    else:
        invoice = parsed.invoices[0]
        amount = format_amount(invoice.total)
        red = "红字" if invoice.red else ""
        head = f"{red}电子发票 {invoice.key}（{amount}）"
        head += f"，客户 {result.customer}" if result.customer else "，未找到客户"
    shown = [i.detail.rstrip("。") for i in result.issues[:3]]
    more = len(result.issues) - len(shown)
    if more:
        shown.append(f"…另有 {more} 条（见 `dunning einvoice issues`）")
    return head + ("；" + "；".join(shown) if shown else "")


def relink_einvoices(conn: sqlite3.Connection) -> None:
    """After a ledger import: tie the e-invoices to the invoices it brought."""
    relink(conn)
