"""The evidence of a court case (证据), gathered from the archive, and its numbered PDF.

Each exhibit names its source (where the original is kept), what it proves, and the files
that show it: the contract scan, the ledger's invoices (a generated list) and any document
archived for the customer, signed statements, each letter with its proof of delivery and its
signed receipt, and the promises to pay from the collection log (a generated list).
`linked_documents` is the one place to extend when the archive learns a new kind of document
(e-invoices, delivery notes).

The evidence PDF: every exhibit's files converted (Word files by LibreOffice in one batch,
images by Pillow, PDFs as they are), merged with pypdf, and every page stamped with its number
(第 N 页) in a standard CJK font the PDF viewer supplies, so page ranges in the 证据目录 match.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from dunning.archive.contracts.meta import contracts_of
from dunning.dates import chinese_date
from dunning.errors import DunningError
from dunning.letters.delivery import CHANNEL_TITLES, Delivery, load_deliveries
from dunning.letters.pdf import convert_to_pdf
from dunning.money import format_amount
from dunning.receivables import CustomerAging
from dunning.vocabulary import LETTER_LEVELS
from dunning.workflow.log import list_entries

LETTER_TITLES = dict(LETTER_LEVELS)


class EvidenceError(DunningError):
    """The evidence PDF cannot be made; nothing about the case was recorded."""


# Documents already shown as their own exhibit (contracts, letters, receipts) or not evidence.
_OWN_KINDS = ("contract", "ledger", "letter", "receipt")
_IMAGES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp"}


@dataclass(frozen=True)
class GeneratedTable:
    """A page the case file writes itself: a title, a note and a table."""

    title: str
    note: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Exhibit:
    """One line of the 证据目录 and the files that make up its pages."""

    name: str
    source: str  # where the original is kept
    proves: str
    files: tuple[Path, ...] = ()
    table: GeneratedTable | None = None
    missing: str = ""  # what is not (yet) in the archive
    first_page: int | None = None
    last_page: int | None = None

    @property
    def pages(self) -> str:
        if self.first_page is None or self.last_page is None:
            return "另附" if self.missing == "" and not self.files else "—"
        if self.first_page == self.last_page:
            return str(self.first_page)
        return f"{self.first_page}-{self.last_page}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "proves": self.proves,
            "files": [str(f) for f in self.files],
            "pages": self.pages,
            "missing": self.missing,
        }


@dataclass
class _Stored:
    root: Path
    conn: sqlite3.Connection

    def path(self, document: int | None) -> Path | None:
        if document is None:
            return None
        row = self.conn.execute(
            "SELECT stored_path FROM documents WHERE id = ?", [document]
        ).fetchone()
        if row is None:
            return None
        path = Path(row[0])
        path = path if path.is_absolute() else self.root / path
        return path if path.is_file() else None


def gather_exhibits(
    conn: sqlite3.Connection, root: Path, aging: CustomerAging, *, as_of: dt.date
) -> list[Exhibit]:
    """The customer's evidence on `as_of`, in the order a court file puts it."""
    stored = _Stored(root, conn)
    code = aging.customer
    exhibits = [_contract(stored, c) for c in contracts_of(conn, code)]
    exhibits.append(_invoices(aging, as_of))
    exhibits += linked_documents(stored, code)
    letters = [d for d in load_deliveries(conn, code) if d.issued_on <= as_of]
    exhibits += [_statement(stored, d) for d in letters if d.reply == "agreed"]
    exhibits += [_letter(stored, root, d) for d in letters if d.status != "issued"]
    promises = _promises(conn, code, as_of)
    if promises is not None:
        exhibits.append(promises)
    return exhibits


def _contract(stored: _Stored, contract: Any) -> Exhibit:
    signed = f"，{chinese_date(contract.signed_on)}签订" if contract.signed_on else ""
    amount = (
        f"，合同金额人民币{format_amount(contract.amount)}元" if contract.amount is not None else ""
    )
    path = stored.path(contract.document)
    return Exhibit(
        name=f"买卖合同（{contract.contract_no}{signed}）",
        source="原告持有原件",
        proves=f"双方存在买卖合同关系，约定供货及付款义务{amount}",
        files=(path,) if path else (),
        missing="" if path else "合同扫描件未归档，请补充",
    )


def _invoices(aging: CustomerAging, as_of: dt.date) -> Exhibit:
    rows = tuple(
        (
            a.item.invoice.invoice_no,
            a.item.invoice.contract_no or "",
            a.item.invoice.invoice_date.isoformat(),
            a.item.invoice.due_date.isoformat(),
            format_amount(a.item.invoice.amount),
            format_amount(a.item.paid),
            format_amount(a.item.open_amount),
        )
        for a in aging.items
    )
    total = sum((a.item.open_amount for a in aging.items), Decimal(0))
    table = GeneratedTable(
        title="发票及欠款明细",
        note=f"截至{chinese_date(as_of)}，未付货款合计人民币{format_amount(total)}元。",
        headers=("发票号码", "合同编号", "开票日期", "付款到期日", "发票金额", "已付", "未付"),
        rows=rows,
    )
    return Exhibit(
        name=f"增值税发票（{len(rows)}张）及欠款明细",
        source="原告开具，发票存根及应收账款台账",
        proves="原告已履行供货义务并开具发票，被告应付货款金额及付款期限",
        table=table,
    )


def linked_documents(stored: _Stored, code: str) -> list[Exhibit]:
    """Other documents archived for the customer (e-invoices, delivery notes, scans)."""
    rows = stored.conn.execute(
        "SELECT id, kind, original_name, title FROM documents WHERE customer_code = ?"
        f" AND kind NOT IN ({', '.join('?' * len(_OWN_KINDS))}) ORDER BY id",
        [code, *_OWN_KINDS],
    ).fetchall()
    found = []
    for document, kind, original, title in rows:
        path = stored.path(document)
        found.append(
            Exhibit(
                name=str(title or original),
                source=f"原告存档（{kind}）",
                proves="原告已供货并开具发票" if "invoice" in kind else "与本案欠款相关的事实",
                files=(path,) if path else (),
                missing="" if path else "原件缺失",
            )
        )
    return found


def _statement(stored: _Stored, letter: Delivery) -> Exhibit:
    path = stored.path(letter.reply_document)
    day = letter.reply_on.isoformat() if letter.reply_on else ""
    return Exhibit(
        name=f"对账单及被告盖章回执（{letter.ref}，{day}确认相符）",
        source="被告签章后寄回，原告持有原件",
        proves="被告确认欠款余额；诉讼时效中断（《民法典》第一百九十五条）",
        files=(path,) if path else (),
        missing="" if path else "回执原件未扫描归档",
    )


def _letter_files(root: Path, conn: sqlite3.Connection, letter: Delivery) -> list[Path]:
    """The letter itself as the pack wrote it (not the statement or forms sent with it)."""
    row = conn.execute("SELECT pack_dir, files FROM letters WHERE ref = ?", [letter.ref]).fetchone()
    if row is None or not row[0]:
        return []
    pack = Path(row[0]) if Path(row[0]).is_absolute() else root / row[0]
    docs = [pack / n for n in json.loads(row[1] or "[]") if (pack / n).is_file()]
    own = [d for d in docs if d.stem.endswith(f"-{letter.level_name}")]
    return (own or docs)[:1]


def _letter(stored: _Stored, root: Path, letter: Delivery) -> Exhibit:
    title = LETTER_TITLES.get(letter.level_name, letter.level_name)
    files = _letter_files(root, stored.conn, letter)
    for document in (letter.evidence_document, letter.signed_document):
        path = stored.path(document)
        if path is not None and path not in files:
            files.append(path)
    sent = ""
    if letter.sent_on is not None and letter.channel is not None:
        number = f"{letter.tracking_no}" if letter.tracking_no else ""
        sent = f"，{letter.sent_on.isoformat()}以{CHANNEL_TITLES[letter.channel]}{number}寄出"
    if letter.proven_on is not None:
        proves = (
            f"原告已向被告催收，{letter.proven_on.isoformat()}送达；"
            "诉讼时效中断（《民法典》第一百九十五条）"
        )
        missing = ""
    elif letter.status == "returned":
        proves, missing = f"原告已寄送催款函，被退回（{letter.return_reason}）", ""
    else:
        proves, missing = "原告已向被告寄送催款函", "未取得妥投证明，请向快递公司调取"
    return Exhibit(
        name=f"{title}（{letter.ref}）{'及送达凭证' if letter.proven_on else ''}",
        source=f"原告出具{sent}",
        proves=proves,
        files=tuple(files),
        missing=missing,
    )


def _promises(conn: sqlite3.Connection, code: str, as_of: dt.date) -> Exhibit | None:
    entries = [e for e in list_entries(conn, code, until=as_of) if e.is_promise]  # type: ignore[arg-type]
    if not entries:
        return None
    rows = tuple(
        (
            e.day.isoformat(),
            e.note,
            format_amount(e.promise_amount) if e.promise_amount is not None else "",
            e.promise_date.isoformat() if e.promise_date else "",
        )
        for e in entries
    )
    return Exhibit(
        name=f"被告承诺付款记录（{len(rows)}次）",
        source="原告催收记录（附通话、短信或书面承诺原件）",
        proves="被告认可欠款并承诺付款；诉讼时效中断（《民法典》第一百九十五条）",
        table=GeneratedTable(
            title="承诺付款记录",
            note="以下承诺均记录于原告的催收记录中；书面承诺、短信或录音原件另行提交。",
            headers=("日期", "经过", "承诺金额", "承诺付款日"),
            rows=rows,
        ),
    )


# --- pages -------------------------------------------------------------------------------


@dataclass
class Paged:
    """Exhibits with their PDFs, numbered from page 1."""

    exhibits: list[Exhibit]
    pdfs: list[list[Path]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def table_docx(table: GeneratedTable, target: Path) -> Path:
    """A one-table Word file for a generated exhibit (converted with the other Word files)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(1.8)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(9)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(table.title)
    run.bold, run.font.size = True, Pt(16)
    doc.add_paragraph(table.note)
    grid = doc.add_table(rows=1 + len(table.rows), cols=len(table.headers))
    grid.style = doc.styles["Table Grid"]
    grid.autofit = False
    for cell, text in zip(grid.rows[0].cells, table.headers, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row, values in zip(grid.rows[1:], table.rows, strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    widths = _column_widths(table, 17.4)
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = Cm(width)
    for row in grid.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    props = doc.core_properties
    props.author, props.title, props.comments, props.subject = "", table.title, "", ""
    props.last_modified_by = ""
    doc.save(str(target))
    return target


def _column_widths(table: GeneratedTable, total_cm: float) -> list[float]:
    """Widths in proportion to the longest text of each column (at least 1.6 cm)."""
    longest = [
        max([len(h)] + [len(r[i]) for r in table.rows]) + 1 for i, h in enumerate(table.headers)
    ]
    raw = [max(1.6, total_cm * n / sum(longest)) for n in longest]
    scale = total_cm / sum(raw)
    return [w * scale for w in raw]


def to_pdfs(exhibits: Sequence[Exhibit], work: Path, *, convert: bool = True) -> Paged:
    """Each exhibit's files as PDFs in `work` (Word in one LibreOffice batch)."""
    paged = Paged(list(exhibits))
    words: list[Path] = []
    plan: list[list[Path]] = []
    for n, exhibit in enumerate(exhibits, start=1):
        parts: list[Path] = []
        if exhibit.table is not None:
            target = table_docx(exhibit.table, work / f"{n:03d}-table.docx")
            words.append(target)
            parts.append(target.with_suffix(".pdf"))
        for m, path in enumerate(exhibit.files, start=1):
            suffix = path.suffix.lower()
            target = work / f"{n:03d}-{m:02d}{suffix}"
            if suffix == ".pdf":
                shutil.copyfile(path, target)
                parts.append(target)
            elif suffix in (".docx", ".doc", ".odt"):
                shutil.copyfile(path, target)
                words.append(target)
                parts.append(target.with_suffix(".pdf"))
            elif suffix in _IMAGES and _image_pdf(path, target.with_suffix(".pdf")):
                parts.append(target.with_suffix(".pdf"))
            else:
                paged.skipped.append(f"{exhibit.name}：此类文件不能并入PDF（原件另附）")
        plan.append(parts)
    if words and convert:
        convert_to_pdf(words)
    paged.pdfs = [[p for p in parts if p.is_file()] for parts in plan]
    return paged


def _image_pdf(source: Path, target: Path) -> bool:
    try:
        with Image.open(source) as image:
            image.convert("RGB").save(target, "PDF", resolution=150.0)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return False
    return True


def stamp_exhibits(paged: Paged, target: Path) -> list[Exhibit]:
    """Every exhibit's pages into `target`, each page stamped 第 N 页 (N from 1).

    Returns the exhibits with the page ranges they really got: a file that cannot be read adds
    no page (and a note), so the 证据目录 never points at a page that is not there.
    """
    writer = PdfWriter()
    numbered, number = [], 0
    for exhibit, parts in zip(paged.exhibits, paged.pdfs, strict=True):
        first = number + 1
        for path in parts:
            pages = _readable_pages(path)
            if pages is None:
                paged.skipped.append(
                    f"{exhibit.name}：无法读取或超过{MAX_EXHIBIT_PAGES}页（原件另附）"
                )
                continue
            for page in pages:
                added = writer.add_page(page)
                number += 1
                _stamp(writer, added, f"第 {number} 页")
        numbered.append(
            replace(exhibit, first_page=first, last_page=number) if number >= first else exhibit
        )
    try:
        writer.compress_identical_objects()
        with target.open("wb") as out:
            writer.write(out)
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise EvidenceError(
            f"证据 PDF 无法写出（{exc}）：请加 --no-pdf 立案，再逐份打印证据。"
        ) from exc
    return numbered


MAX_EXHIBIT_PAGES = 300  # a file longer than this is a book, not an exhibit: submitted apart


def _readable_pages(path: Path) -> list[PageObject] | None:
    """The pages of a PDF, each one checked to load, or None when it cannot be used."""
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        count = len(reader.pages)
        if not 0 < count <= MAX_EXHIBIT_PAGES:
            return None
        pages = [reader.pages[n] for n in range(count)]
        for page in pages:
            _ = page.mediabox.width, page.get("/Rotate", 0)
        return pages
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def _cjk_font(writer: PdfWriter) -> Any:
    """STSong-Light, one of the CJK fonts every PDF reader supplies (not embedded)."""
    descriptor = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/FontDescriptor"),
            NameObject("/FontName"): NameObject("/STSong-Light"),
            NameObject("/Flags"): NumberObject(6),
            NameObject("/FontBBox"): ArrayObject(
                [NumberObject(-25), NumberObject(-254), NumberObject(1000), NumberObject(880)]
            ),
            NameObject("/ItalicAngle"): NumberObject(0),
            NameObject("/Ascent"): NumberObject(880),
            NameObject("/Descent"): NumberObject(-120),
            NameObject("/CapHeight"): NumberObject(880),
            NameObject("/StemV"): NumberObject(93),
        }
    )
    cid = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/CIDFontType0"),
            NameObject("/BaseFont"): NameObject("/STSong-Light"),
            NameObject("/CIDSystemInfo"): DictionaryObject(
                {
                    NameObject("/Registry"): TextStringObject("Adobe"),
                    NameObject("/Ordering"): TextStringObject("GB1"),
                    NameObject("/Supplement"): NumberObject(2),
                }
            ),
            NameObject("/FontDescriptor"): writer._add_object(descriptor),
            NameObject("/DW"): NumberObject(1000),
            NameObject("/W"): ArrayObject([NumberObject(1), NumberObject(95), NumberObject(500)]),
        }
    )
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type0"),
            NameObject("/BaseFont"): NameObject("/STSong-Light"),
            NameObject("/Encoding"): NameObject("/UniGB-UCS2-H"),
            NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid)]),
        }
    )
    return writer._add_object(font)


_FONT_CACHE: dict[int, Any] = {}


def _stamp(writer: PdfWriter, page: PageObject, text: str) -> None:
    """Draw `text` at the page's bottom right, whatever its rotation."""
    key = id(writer)
    if key not in _FONT_CACHE:
        _FONT_CACHE.clear()
        _FONT_CACHE[key] = _cjk_font(writer)
    font = _FONT_CACHE[key]
    box = page.mediabox
    width, height = float(box.width), float(box.height)
    left, bottom = float(box.left), float(box.bottom)
    try:
        rotate = int(page.get("/Rotate", 0) or 0) % 360
    except (TypeError, ValueError):
        rotate = 0
    hexed = text.encode("utf-16-be").hex().upper()
    size = 10.5
    text_width = size * sum(0.5 if ord(c) < 128 else 1.0 for c in text)
    margin = 28.0
    # Coordinates in the unrotated page that land bottom-right once the viewer rotates it.
    if rotate == 90:
        matrix = (0, 1, -1, 0, left + width - margin, bottom + height - margin - text_width)
    elif rotate == 180:
        matrix = (-1, 0, 0, -1, left + margin + text_width, bottom + height - margin)
    elif rotate == 270:
        matrix = (0, -1, 1, 0, left + margin, bottom + margin + text_width)
    else:
        matrix = (1, 0, 0, 1, left + width - margin - text_width, bottom + margin)
    numbers = " ".join(f"{v:.2f}" for v in matrix)
    content = f"q BT /DnPg {size} Tf {numbers} Tm <{hexed}> Tj ET Q".encode("ascii")
    stream = ContentStream(None, None)
    stream.set_data(content)
    overlay = PageObject.create_blank_page(width=FloatObject(width), height=FloatObject(height))
    overlay[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/DnPg"): font})}
    )
    overlay.replace_contents(stream)
    page.merge_page(overlay, over=True)
