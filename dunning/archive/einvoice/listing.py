"""The 电子税务局's 全量发票查询 export (XLSX, or CSV): every invoice issued, with 发票状态.

Columns are recognised by their headers wherever they stand, under any title lines; columns
we do not know are left alone. Every data row is accounted for: imported, skipped (blank,
total, or a further line of an invoice already read in the 明细 export) or bad. A file with a
bad row is refused whole, every bad row listed, like a ledger.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from dunning.archive.einvoice.model import (
    EInvoice,
    EInvoiceFile,
    Status,
    clean_name,
    clean_tax_id,
    code_of,
    invoice_key,
    number_of,
    original_from_note,
)
from dunning.archive.ledger.files import open_sheets
from dunning.archive.ledger.header import normalise_header
from dunning.archive.ledger.rows import (
    RowCounts,
    amount_value,
    checked_text,
    date_value,
    skip_kind,
)
from dunning.errors import IngestError, RowProblem

# field -> headers (normalised: width-folded, lower-case, no spaces or punctuation).
ALIASES: dict[str, tuple[str, ...]] = {
    "digital_no": ("数电票号码", "数电发票号码", "全电发票号码", "全电票号码"),
    "number": ("发票号码",),
    "code": ("发票代码",),
    "seller_tax_id": ("销方识别号", "销售方识别号", "销售方纳税人识别号", "销方纳税人识别号"),
    "seller_name": ("销方名称", "销售方名称"),
    "buyer_tax_id": (
        "购方识别号", "购买方识别号", "购买方纳税人识别号", "购方纳税人识别号",
        "购买方统一社会信用代码",
    ),
    "buyer_name": ("购买方名称", "购方名称"),
    "date": ("开票日期",),
    "net": ("金额", "不含税金额", "合计金额"),
    "tax": ("税额", "合计税额"),
    "total": ("价税合计",),
    "kind": ("发票票种", "票种"),
    "status": ("发票状态",),
    "positive": ("是否正数发票",),
    "remark": ("备注",),
    "original_no": (
        "红冲对应数电票号码", "红冲对应发票号码", "对应蓝字发票号码", "被红冲蓝字数电发票号码",
        "原发票号码", "蓝字发票号码",
    ),
    "original_code": ("红冲对应发票代码", "原发票代码", "蓝字发票代码"),
    "item": ("货物或应税劳务名称", "项目名称", "货物或应税劳务服务名称"),
}  # fmt: skip
_LOOKUP = {alias: field for field, aliases in ALIASES.items() for alias in aliases}
# A header row is the export's when it has these (besides a number column).
_NEEDED = ("date", "total", "buyer_name")
_MARKS = ("发票状态", "销方识别号", "销方名称", "销售方名称", "数电票号码", "数电发票号码")


@dataclass(frozen=True)
class Header:
    row: int  # 1-based
    columns: dict[str, int]  # field -> 0-based index
    written: dict[str, str]  # field -> the header as written


def find_header(rows: Sequence[Sequence[object]]) -> Header | None:
    for at, row in enumerate(rows, start=1):
        columns: dict[str, int] = {}
        written: dict[str, str] = {}
        for index, cell in enumerate(row):
            if not isinstance(cell, str) or not cell.strip():
                continue
            field = _LOOKUP.get(normalise_header(cell)) or _LOOKUP.get(
                "".join(unicodedata.normalize("NFKC", cell).split())
            )
            if field and field not in columns:
                columns[field], written[field] = index, cell.strip()
        has_number = "digital_no" in columns or "number" in columns
        if has_number and all(f in columns for f in _NEEDED):
            return Header(at, columns, written)
    return None


# Columns only a receivables ledger has: a file with one is a ledger, whatever else it holds.
_LEDGER_ONLY = frozenset(
    {"客户编号", "客户代码", "客户编码", "到期日", "到期日期", "应收日期", "约定付款日", "应收金额",
     "已收金额", "已回款", "账期"}
)  # fmt: skip


def is_invoice_list(rows: Sequence[Sequence[object]]) -> bool:
    """True when the header of these first rows is the export's: a seller column or 发票状态
    (which no receivables ledger has), and no column only a ledger has (到期日, 客户编号…)."""
    header = find_header(rows)
    if header is None or not any(
        f in header.columns for f in ("status", "seller_tax_id", "seller_name")
    ):
        return False
    cells = rows[header.row - 1]
    return not any(isinstance(c, str) and normalise_header(c) in _LEDGER_ONLY for c in cells)


def marks_in(sample: str) -> bool:
    """A cheap first look at raw text (a CSV's head, an XLSX's shared strings)."""
    return "开票日期" in sample and "价税合计" in sample and any(m in sample for m in _MARKS)


def read_invoice_list(path: Path) -> EInvoiceFile:
    """Read the export; IngestError naming every bad row when any row cannot be read."""
    with open_sheets(path) as sheets:
        for sheet in sheets:
            header = find_header(sheet.head)
            if header is None:
                continue
            rows = [*sheet.head[header.row :], *sheet.rest]
            return _read_rows(path, header, rows, first_row=header.row + 1)
    raise IngestError(
        f"{path.name} 的前几行中没有全量发票查询的表头（发票号码或数电票号码、开票日期、价税合计、"
        "购买方名称）：请从电子税务局重新导出发票清单。"
    )


def _read_rows(
    path: Path, header: Header, rows: Sequence[Sequence[object]], *, first_row: int
) -> EInvoiceFile:
    counts = RowCounts()
    problems: list[RowProblem] = []
    invoices: dict[str, EInvoice] = {}
    has_items = "item" in header.columns
    for number, row in enumerate(rows, start=first_row):
        counts.read += 1
        skipped = skip_kind(row)
        if skipped is not None:
            counts.skip(skipped)
            continue
        found: list[RowProblem] = []
        invoice = _invoice(row, number, header, found)
        if invoice is None or found:
            counts.bad += 1
            problems.extend(found)
            continue
        if invoice.key in invoices:
            if has_items:
                # The 明细 export lists each line of an invoice on a row of its own.
                counts.skip("invoice line")
                continue
            counts.bad += 1
            problems.append(
                RowProblem(
                    number,
                    header.written.get("digital_no") or header.written.get("number", "发票号码"),
                    invoice.key,
                    f"该发票重复列出（第一次在第 {invoices[invoice.key].row} 行）：请重新导出清单",
                )
            )
            continue
        invoices[invoice.key] = invoice
        counts.imported += 1
    if problems:
        raise IngestError(
            f"{path.name}：发票清单有 {counts.bad} 行无法读取，整个文件未导入"
            f"（{counts.summary(rejected=True)}）：请更正下列各行（或重新导出清单）。",
            problems,
        )
    lines = [_search_line(i) for i in invoices.values()]
    return EInvoiceFile(
        "list",
        tuple(invoices.values()),
        "\n".join(lines),
        counts=counts,
        columns=dict(header.written),
    )


def _cell(row: Sequence[object], header: Header, field: str) -> object:
    index = header.columns.get(field)
    if index is None or index >= len(row):
        return None
    return row[index]


def _invoice(
    row: Sequence[object], at: int, header: Header, problems: list[RowProblem]
) -> EInvoice | None:
    def text(field: str, *, ident: bool = False) -> str | None:
        return checked_text(
            _cell(row, header, field),
            at,
            header.written.get(field, ALIASES[field][0]),
            problems,
            ident=ident,
        )

    before = len(problems)
    digital = text("digital_no", ident=True)
    plain = text("number", ident=True)
    code = code_of(text("code", ident=True))
    raw = digital or plain
    number = number_of(raw)
    if len(problems) > before:
        return None  # the number's cell is bad already (cut by Excel, an error value)
    if number is None:
        column = header.written.get("digital_no" if digital else "number", "发票号码")
        why = "不是发票号码（应为 20 位，或 8 位并有发票代码）"
        problems.append(RowProblem(at, column, raw or "", why))
        return None
    issued = date_value(
        _cell(row, header, "date"), at, header.written["date"], problems, required=True
    )
    total = amount_value(
        _cell(row, header, "total"), at, header.written["total"], problems, required=True
    )
    net = _optional_amount(row, at, header, "net", problems)
    tax = _optional_amount(row, at, header, "tax", problems)
    if issued is None or total is None:
        return None
    remark = text("remark")
    status_text = text("status")
    positive = text("positive")
    red = total < 0 or (positive is not None and positive.strip() in ("否", "N", "n", "0"))
    original = _original(text("original_no", ident=True), text("original_code", ident=True))
    original = original or original_from_note(remark)
    if red and total > 0:
        total, net, tax = -total, _neg(net), _neg(tax)
    return EInvoice(
        number=number,
        code=code if len(number) == 8 else None,
        issued_on=issued,
        total=total,
        net=net,
        tax=tax,
        seller_name=clean_name(text("seller_name")),
        seller_tax_id=clean_tax_id(text("seller_tax_id", ident=True)),
        buyer_name=clean_name(text("buyer_name")),
        buyer_tax_id=clean_tax_id(text("buyer_tax_id", ident=True)),
        kind_title=text("kind"),
        red=red,
        original=original,
        status=status_of(status_text),
        status_text=status_text,
        source="list",
        row=at,
    )


def _optional_amount(
    row: Sequence[object], at: int, header: Header, field: str, problems: list[RowProblem]
) -> Decimal | None:
    if field not in header.columns:
        return None
    return amount_value(
        _cell(row, header, field), at, header.written[field], problems, required=False
    )


def _neg(amount: Decimal | None) -> Decimal | None:
    return -amount if amount is not None and amount > 0 else amount


def _original(number: str | None, code: str | None) -> str | None:
    digits = number_of(number)
    if digits is None:
        return None
    return invoice_key(digits, code_of(code) if len(digits) == 8 else None)


def status_of(raw: str | None) -> Status:
    """发票状态 as the export writes it: 正常, 作废/已作废, 红冲/已红冲/全额红冲, 部分红冲."""
    if not raw:
        return "normal"
    text = "".join(raw.split())
    if "作废" in text:
        return "void"
    if "部分红冲" in text:
        return "partly_red"
    if "红冲" in text:
        return "red_flushed"
    return "normal"


def _search_line(invoice: EInvoice) -> str:
    parts = [invoice.key, invoice.buyer_name, invoice.buyer_tax_id, invoice.status_text]
    return " ".join(p for p in parts if p)
