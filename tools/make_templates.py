"""Build the default letter templates in dunning/templates/ with python-docx.

Run `python tools/make_templates.py` after changing the wording or layout; the .docx files are
committed. They are ordinary Word files: a clerk edits them in Word or LibreOffice and the desk
keeps its own copies. Every Jinja tag is written inside one run so Word's run splitting cannot
break it; the variables are documented in dunning/letters/context.py (CONTEXT_DOC).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import segno
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from court_wording import COMPLAINT, EVIDENCE_INDEX, EXHIBIT_COLUMNS, PAYMENT_ORDER
from docx.shared import Cm, Pt, RGBColor
from template_wording import (
    AMOUNT_COLUMNS,
    DATE_BLANK,
    DEMAND,
    EVIDENCE,
    EVIDENCE_COLUMNS,
    FINAL,
    FORMS,
    LAWYER,
    RECEIPT,
    REMINDER,
    STATEMENT,
    STATEMENT_COLUMNS,
    TALL_ROWS,
    VISIT,
)

OUT = Path(__file__).resolve().parent.parent / "dunning" / "templates"
LATIN = "Times New Roman"
# A serif Chinese face beside the Latin serif (fonts-noto-cjk on Debian); headings in the sans.
SERIF_CJK = "Noto Serif CJK SC"
SONG, FANG, HEI, KAI = SERIF_CJK, SERIF_CJK, "Noto Sans CJK SC", SERIF_CJK
# Numbers never break across lines: a word joiner (U+2060) between every character of a
# reference and an account number. LibreOffice breaks a CJK paragraph inside a run of digits
# (CS-202|6-000008) even at non-breaking hyphens; it never breaks at a word joiner.
WORD_JOINER = "\\u2060"  # written as an escape: visible to whoever edits the template
NOBREAK = {
    "{{ ref }}": f'{{{{ ref|join("{WORD_JOINER}") }}}}',
    "{{ bank.account_no }}": f'{{{{ bank.account_no|join("{WORD_JOINER}") }}}}',
}
REMIT_LINE = "汇款时请在附言中注明：{{ ref }}"
RED = RGBColor(0xA8, 0x10, 0x10)
GREY = RGBColor(0x59, 0x59, 0x59)
BODY_WIDTH_CM = 15.6  # A4 21 cm less 2.8 + 2.6 cm margins
# The statement's items table needs room for 20-digit invoice numbers: narrower margins.
STATEMENT_MARGINS_CM = (2.2, 2.2)
STATEMENT_BODY_CM = 21 - sum(STATEMENT_MARGINS_CM)
TABLE_CELL_MARGIN_TWIPS = 57  # 0.1 cm left and right inside the items table's cells
KEEP_STYLES = {
    "Normal", "Header", "Header Char", "Footer", "Footer Char", "Default Paragraph Font",
    "Normal Table", "No List", "Table Grid",
}  # fmt: skip
STYLE_IDS = {
    "函件标题": "LetterTitle", "函件正文": "LetterBody", "函件顶格": "LetterFlush",
    "落款": "LetterSignature", "表格文字": "TableText", "表格说明": "Note",
    "信头": "Letterhead", "信头地址": "LetterheadAddress", "小节标题": "SectionTitle",
    "表格数字": "TableFigures",
}  # fmt: skip
Document = Any  # python-docx ships no type information


# --- document, styles, header and footer ---------------------------------------------------


def new_document(
    title: str, sender: str = "{{ company.name }}", margins: tuple[float, float] = (2.8, 2.6)
) -> Document:
    doc = docx.Document()
    _slim_package(doc)
    section = doc.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.0)
    section.left_margin, section.right_margin = Cm(margins[0]), Cm(margins[1])
    section.header_distance, section.footer_distance = Cm(1.0), Cm(1.0)
    _styles(doc)
    _header(doc, sender, 21 - sum(margins))
    _footer(doc)
    props = doc.core_properties
    props.title, props.author, props.comments = title, "", ""
    props.subject = "默认模板（可在 Word 中编辑；双花括号内为变量）"
    return doc


def _slim_package(doc: Document) -> None:
    """Drop the parts python-docx's default file carries that a letter does not need.

    stylesWithEffects.xml and 150 unused table styles are ~870 kB that every generated letter
    would otherwise deflate and carry; the thumbnail shows an empty page.
    """
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects") or rel.reltype == RT.CUSTOM_XML:
            doc.part.drop_rel(rid)
    package_rels = doc.part.package.rels
    for rid, rel in list(package_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package_rels[rid]
    styles = doc.styles.element
    for style in list(styles.findall(qn("w:style"))):
        name = style.find(qn("w:name"))
        if name is None or name.get(qn("w:val")) not in _keep_style_ids():
            styles.remove(style)


def _keep_style_ids() -> set[str]:
    # styles.xml names are lower-case for built-ins ("heading 1", "header"), as Word writes them
    return {n.lower() for n in KEEP_STYLES} | KEEP_STYLES


def set_fonts(rpr_owner: Any, east_asia: str, size: float | None = None) -> None:
    """Latin text in Times New Roman, Chinese in `east_asia`; set on a style or a run."""
    font = rpr_owner.font
    font.name = LATIN
    if size is not None:
        font.size = Pt(size)
    rpr = rpr_owner.element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")


def _styles(doc: Document) -> None:
    styles = doc.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
        rpr.insert(0, rfonts)
    for attr, value in (("ascii", LATIN), ("hAnsi", LATIN), ("eastAsia", SONG), ("cs", LATIN)):
        rfonts.set(qn(f"w:{attr}"), value)
    for theme_attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{theme_attr}"), None)
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")
    normal = styles["Normal"]
    set_fonts(normal, SONG, 12)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    for name in ("Header", "Footer"):
        set_fonts(styles[name], SONG, 9)
    _paragraph_style(doc, "函件标题", HEI, 22, align=WD_ALIGN_PARAGRAPH.CENTER, before=6, after=12)
    _paragraph_style(doc, "函件正文", FANG, 12.5, indent=True, line=22)
    _paragraph_style(doc, "函件顶格", FANG, 12.5, line=22)
    _paragraph_style(doc, "落款", FANG, 12.5, align=WD_ALIGN_PARAGRAPH.RIGHT, line=22)
    _paragraph_style(doc, "表格文字", SONG, 9, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph_style(doc, "表格数字", SONG, 8, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph_style(doc, "表格说明", SONG, 10.5, line=18)
    _paragraph_style(doc, "信头", HEI, 20, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED)
    _paragraph_style(doc, "信头地址", SONG, 9, align=WD_ALIGN_PARAGRAPH.CENTER, color=GREY)
    _paragraph_style(doc, "小节标题", HEI, 12, before=10, after=4)


def _paragraph_style(
    doc: Document,
    name: str,
    font: str,
    size: float,
    *,
    align: Any = None,
    indent: bool = False,
    line: float | None = None,
    before: float = 0,
    after: float = 0,
    color: RGBColor | None = None,
) -> None:
    style = doc.styles.add_style(name, 1)  # 1 = paragraph style
    # python-docx would use the Chinese name as the id; Word itself writes ASCII ids
    style.element.set(qn("w:styleId"), STYLE_IDS[name])
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    set_fonts(style, font, size)
    if color is not None:
        style.font.color.rgb = color
    fmt = style.paragraph_format
    if align is not None:
        fmt.alignment = align
    if indent:
        fmt.first_line_indent = Pt(size * 2)  # 首行缩进两字
    if line is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)


def _header(doc: Document, sender: str, body_cm: float = BODY_WIDTH_CM) -> None:
    """Reference number left, QR code right, a rule below: on every page."""
    header = doc.sections[0].header
    header.is_linked_to_previous = False
    table = header.add_table(1, 2, Cm(body_cm))
    set_widths(table, [body_cm - 2.2, 2.2])
    left, right = table.rows[0].cells
    first = left.paragraphs[0]
    first.style = doc.styles["Header"]
    first.add_run(sender)
    ref = left.add_paragraph(style="Header")
    ref.add_run("函件编号：")
    ref.add_run(nobreak("{{ ref }}")).bold = True
    note = left.add_paragraph("回复、付款或寄回回执时请注明此编号", style="Header")
    note.runs[0].font.color.rgb = GREY
    for p in left.paragraphs:
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    left.vertical_alignment = 1  # centre
    qr_par = right.paragraphs[0]
    qr_par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    add_qr_placeholder(qr_par)
    rule = header.paragraphs[0]
    rule.style = doc.styles["Header"]
    header._element.remove(rule._element)
    header._element.append(rule._element)  # the rule paragraph goes below the table
    bottom_border(rule, size=6)


def add_qr_placeholder(paragraph: Any) -> None:
    """A sample QR picture with alt text `qr`: each letter gets its own code in its place."""
    out = io.BytesIO()
    segno.make("CS-0000-000000", error="m").save(out, kind="png", scale=8, border=4)
    out.seek(0)
    shape = paragraph.add_run().add_picture(out, width=Cm(1.9), height=Cm(1.9))
    inline = shape._inline
    inline.docPr.set("descr", "qr")
    inline.docPr.set("name", "qr")
    c_nv_pr = inline.xpath(".//pic:cNvPr")[0]
    c_nv_pr.set("descr", "qr")
    c_nv_pr.set("name", "qr.png")


def _footer(doc: Document) -> None:
    footer = doc.sections[0].footer
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    p.style = doc.styles["Footer"]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("第 ")
    _field(p, "PAGE", "1")
    p.add_run(" 页 / 共 ")
    _field(p, "NUMPAGES", "1")
    p.add_run(" 页")


def _field(paragraph: Any, instruction: str, shown: str) -> None:
    w = nsdecls("w")
    for xml in (
        f'<w:r {w}><w:fldChar w:fldCharType="begin"/></w:r>',
        f'<w:r {w}><w:instrText xml:space="preserve"> {instruction} </w:instrText></w:r>',
        f'<w:r {w}><w:fldChar w:fldCharType="separate"/></w:r>',
        f"<w:r {w}><w:t>{shown}</w:t></w:r>",
        f'<w:r {w}><w:fldChar w:fldCharType="end"/></w:r>',
    ):
        paragraph._p.append(parse_xml(xml))


# --- paragraphs and tables -----------------------------------------------------------------

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def nobreak(text: str) -> str:
    """`text` with its reference and account number printed without line breaks inside."""
    for tag, kept in NOBREAK.items():
        text = text.replace(tag, kept)
    return text


def para(doc: Any, text: str, style: str = "函件正文") -> Any:
    """A paragraph; `**…**` marks bold spans. Each Jinja tag stays inside a single run."""
    text = nobreak(text)
    p = doc.add_paragraph(style=style)
    pos = 0
    for match in _BOLD.finditer(text):
        if match.start() > pos:
            p.add_run(text[pos : match.start()])
        p.add_run(match.group(1)).bold = True
        pos = match.end()
    if pos < len(text):
        p.add_run(text[pos:])
    return p


def bottom_border(
    paragraph: Any, *, size: int = 12, color: str = "000000", double: bool = False
) -> None:
    kind = "double" if double else "single"
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(
        parse_xml(
            f'<w:pBdr {nsdecls("w")}><w:bottom w:val="{kind}" w:sz="{size}" w:space="1" '
            f'w:color="{color}"/></w:pBdr>'
        )
    )


def set_widths(table: Any, widths_cm: list[float]) -> None:
    """Column widths for Word (cell widths) and LibreOffice (the grid)."""
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def shade(cell: Any, fill: str = "E7E6E6") -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    tc_pr.append(parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{fill}"/>'))


def cell_text(cell: Any, text: str, *, style: str = "表格文字", bold: bool = False,
              align: Any = None) -> None:  # fmt: skip
    p = cell.paragraphs[0]
    p.style = style
    if align is not None:
        p.alignment = align
    run = p.add_run(nobreak(text))
    run.bold = bold


def grid_table(
    doc: Any, widths: list[float], rows: list[list[str]], style: str = "表格文字"
) -> Any:
    table = doc.add_table(rows=len(rows), cols=len(widths))
    table.style = doc.styles["Table Grid"]
    set_widths(table, widths)
    for row, texts in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell_text(cell, text, style=style)
        row.height = Cm(0.6)
        for cell in row.cells:
            cell.vertical_alignment = 1  # centre
    for cell in table.rows[0].cells:
        cell.paragraphs[0].runs[0].bold = True
        shade(cell)
    return table


def letterhead(doc: Any, name: str, address_line: str) -> None:
    para(doc, name, "信头")
    rule = para(doc, address_line, "信头地址")
    bottom_border(rule, size=18, color="A81010")
    rule.paragraph_format.space_after = Pt(8)


def company_letterhead(doc: Any) -> None:
    letterhead(
        doc,
        "{{ company.name }}",
        "地址：{{ company.address }}　电话：{{ company.phone }}",
    )


def bank_block(doc: Any, holder: str = "我司") -> None:
    para(doc, f"{holder}收款账户如下：")
    para(doc, "户　名：{{ bank.account_name }}")
    para(doc, "开户行：{{ bank.name }}")
    para(doc, "账　号：**{{ bank.account_no }}**")
    remit_line(doc)


def remit_line(doc: Any) -> None:
    """The reference the payment must quote, large and boxed: it is how money finds its letter."""
    p = para(doc, REMIT_LINE, "函件顶格")
    p.paragraph_format.space_before = Pt(12)
    p.paragraph_format.space_after = Pt(6)
    for run in p.runs:
        run.bold = True
        run.font.size = Pt(14)
    p_pr = p._p.get_or_add_pPr()
    sides = "".join(
        f'<w:{side} w:val="single" w:sz="8" w:space="4" w:color="000000"/>'
        for side in ("top", "left", "bottom", "right")
    )
    p_pr.append(parse_xml(f"<w:pBdr {nsdecls('w')}>{sides}</w:pBdr>"))


def signature(doc: Any, lines: list[str]) -> None:
    """Sender and date on the right, kept on one page with the paragraph before them."""
    previous = doc.paragraphs[-1] if doc.paragraphs else None
    if previous is not None:
        previous.paragraph_format.keep_with_next = True
    gap = para(doc, "", "落款")
    gap.paragraph_format.keep_with_next = True
    for line in lines:
        para(doc, line, "落款").paragraph_format.keep_with_next = line != lines[-1]


def spacer(doc: Any, points: float = 6) -> None:
    p = doc.add_paragraph(style="Normal")
    p.paragraph_format.space_after = Pt(points)


Builder = Callable[[], Any]


# --- the letters: wording in tools/template_wording.py -----------------------------------


def write_letter(doc: Any, text: str) -> None:
    """Lay out a letter written in the markup above."""
    slip = False  # after `@cut`: every paragraph keeps with the next, down to the reply table
    for line in text.splitlines():
        before = len(doc.paragraphs)
        _write_line(doc, line)
        if slip and line != "@reply":
            for p in doc.paragraphs[before:]:
                p.paragraph_format.keep_with_next = True
        slip = slip or line == "@cut"


def _write_line(doc: Any, line: str) -> None:
    mark, _, rest = line.partition(" ")
    if mark == "#":
        para(doc, rest, "函件标题")
    elif mark == ">":
        para(doc, rest, "函件顶格")
    elif mark == "~":
        para(doc, rest, "表格说明")
    elif mark == "~>":
        para(doc, rest, "表格说明").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif mark == "^":
        para(doc, rest, "函件顶格").alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif mark == "@bank":
        bank_block(doc, rest)
    elif mark == "@attach":
        para(doc, f"附件：{rest}", "函件顶格").paragraph_format.space_before = Pt(6)
    elif mark == "@sign":
        signature(doc, rest.split(" | "))
    elif mark in BLOCKS:
        BLOCKS[mark](doc, rest)
    else:
        para(doc, line)


def company_letter(title: str, text: str, margins: tuple[float, float] = (2.8, 2.6)) -> Builder:
    def build() -> Any:
        doc = new_document(title, margins=margins)
        company_letterhead(doc)
        write_letter(doc, text)
        return doc

    return build


def lawyer() -> Any:
    doc = new_document("律师函", "{{ lawyer.firm }}")
    letterhead(doc, "{{ lawyer.firm }}", "地址：{{ lawyer.address }}　电话：{{ lawyer.phone }}")
    write_letter(doc, LAWYER)
    return doc


def info_table(doc: Any) -> None:
    info = doc.add_table(rows=2, cols=2)
    set_widths(info, [9.0, 6.6])
    texts = ["客户名称：**{{ customer.name }}**", "客户编号：{{ customer.code }}",
             "对账截止日：{{ as_of }}", "函件编号：{{ ref }}"]  # fmt: skip
    for cell, text in zip([c for row in info.rows for c in row.cells], texts, strict=True):
        cell._tc.remove(cell.paragraphs[0]._p)
        para(cell, text, "表格说明")


def narrow_cell_margins(table: Any, twips: int = TABLE_CELL_MARGIN_TWIPS) -> None:
    """Less padding left and right inside the cells: long numbers keep to one line."""
    margins = parse_xml(
        f'<w:tblCellMar {nsdecls("w")}><w:left w:w="{twips}" w:type="dxa"/>'
        f'<w:right w:w="{twips}" w:type="dxa"/></w:tblCellMar>'
    )
    table._tbl.tblPr.append(margins)


def items_table(doc: Any) -> None:
    rows = [
        [c[0] for c in STATEMENT_COLUMNS],
        ["{%tr for i in items %}"] + [""] * 7,
        [c[2] for c in STATEMENT_COLUMNS],
        ["{%tr endfor %}"] + [""] * 7,
        ["合计", "", "", "", "{{ total_amount }}", "{{ total_received }}", "{{ total_open }}", ""],
    ]
    widths = [c[1] for c in STATEMENT_COLUMNS]
    assert abs(sum(widths) - STATEMENT_BODY_CM) < 0.01, (sum(widths), STATEMENT_BODY_CM)
    table = grid_table(doc, widths, rows, style="表格数字")
    narrow_cell_margins(table)
    for row in (table.rows[2], table.rows[4]):
        for index in AMOUNT_COLUMNS:
            row.cells[index].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    total = table.rows[4]
    merged = total.cells[0].merge(total.cells[3])
    for extra in merged.paragraphs[1:]:  # merge keeps the empty cells' paragraphs
        merged._tc.remove(extra._p)
    for cell in total.cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True


def evidence_table(doc: Any) -> None:
    """The 证据清单 rows: contract, invoices, signed statements, letters with their proof."""
    columns = EVIDENCE_COLUMNS
    rows = [
        [c[0] for c in columns],
        ["{%tr for e in evidence %}"] + [""] * (len(columns) - 1),
        [c[2] for c in columns],
        ["{%tr endfor %}"] + [""] * (len(columns) - 1),
    ]
    widths = [c[1] for c in columns]
    assert abs(sum(widths) - BODY_WIDTH_CM) < 0.01, (sum(widths), BODY_WIDTH_CM)
    table = grid_table(doc, widths, rows, style="表格数字")
    narrow_cell_margins(table)
    for index in (1, 2, 3):  # what a document is and proves reads left-aligned
        table.rows[2].cells[index].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.LEFT


def aging_table(doc: Any) -> None:
    para(doc, "账龄分析（按逾期天数）", "小节标题").paragraph_format.keep_with_next = True
    rows = [
        ["账龄区间", "金额"],
        ["{%tr for b in aging %}", ""],
        ["{{ b.label }}", "{{ b.amount }}"],
        ["{%tr endfor %}", ""],
        ["合计", "{{ aging_total }}"],
    ]
    table = grid_table(doc, [4.0, 4.0], rows)
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for row in (table.rows[2], table.rows[4]):
        row.cells[1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for cell in table.rows[4].cells:
        cell.paragraphs[0].runs[0].bold = True
    for row in table.rows[:-1]:  # keep the small table on one page
        for cell in row.cells:
            cell.paragraphs[0].paragraph_format.keep_with_next = True


def reply_table(doc: Any) -> None:
    table = doc.add_table(rows=3, cols=2)
    table.style = doc.styles["Table Grid"]
    set_widths(table, [2.6, 13.0])
    labels = ["核对意见", "", "客户确认"]
    for row, label in zip(table.rows, labels, strict=True):
        cell_text(row.cells[0], label, bold=True)
        row.cells[0].vertical_alignment = 1
    table.cell(0, 0).merge(table.cell(1, 0))
    left = WD_ALIGN_PARAGRAPH.LEFT
    cell_text(table.cell(0, 1), "□ 相符：上述余额与我司记录一致。", style="表格说明", align=left)
    cell_text(table.cell(1, 1), "□ 不符：我司记录余额为人民币______________元，差异说明如下"
              "（可另附明细）：", style="表格说明", align=left)  # fmt: skip
    for _ in range(3):
        table.cell(1, 1).add_paragraph(style="表格说明")
    sign = table.cell(2, 1)
    cell_text(
        sign,
        "客户名称（盖章）：{{ customer.name }}",
        style="表格说明",
        align=WD_ALIGN_PARAGRAPH.RIGHT,
    )
    for line in ("经办人（签字）：______________　联系电话：______________",
                 "日期：________年_____月_____日"):  # fmt: skip
        p = sign.add_paragraph(line, style="表格说明")
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for p in sign.paragraphs:
        p.paragraph_format.space_before = Pt(6)
    # The slip stays whole, on the page of its cut line.
    for row in table.rows:
        row._tr.get_or_add_trPr().append(parse_xml(f"<w:cantSplit {nsdecls('w')}/>"))
    for row in table.rows[:-1]:
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.keep_with_next = True


def form_table(doc: Any, rows: list[tuple[str, str]]) -> None:
    """Label | value rows: the receipt and visit forms."""
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = doc.styles["Table Grid"]
    set_widths(table, [3.6, 12.0])
    for row, (label, value) in zip(table.rows, rows, strict=True):
        cell_text(row.cells[0], label, bold=True)
        shade(row.cells[0], "F2F2F2")
        cell_text(row.cells[1], value, style="表格说明")
        row.height = Cm(TALL_ROWS.get(label, 1.0))
        for cell in row.cells:
            cell.vertical_alignment = 1
    if label == "被访单位确认":
        for line in ("单位盖章：", f"日期：{DATE_BLANK}"):
            p = row.cells[1].add_paragraph(line, style="表格说明")
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.paragraph_format.space_before = Pt(14)


def cut_line(doc: Any) -> None:
    """The cut line starts the slip: both move to the next page together when they do not fit
    (every paragraph up to the reply table keeps with the next, the table's rows do not split)."""
    dots = "·" * 26
    cut = para(doc, f"✂ {dots} 请沿此线剪下，签字盖章后寄回 {dots}", "信头地址")
    cut.paragraph_format.space_before = Pt(12)
    cut.paragraph_format.keep_with_next = True
    title = para(doc, "对账单回执", "小节标题")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.keep_with_next = True


BLOCKS: dict[str, Callable[[Any, str], None]] = {
    "@info": lambda doc, _: info_table(doc),
    "@items": lambda doc, _: items_table(doc),
    "@evidence": lambda doc, _: evidence_table(doc),
    "@aging": lambda doc, _: aging_table(doc),
    "@cut": lambda doc, _: cut_line(doc),
    "@remit": lambda doc, _: remit_line(doc),
    "@reply": lambda doc, _: reply_table(doc),
    "@form": lambda doc, name: form_table(doc, FORMS[name]),
    "@spacer": lambda doc, points: spacer(doc, float(points)),
}

TEMPLATES: dict[str, Builder] = {
    "statement": company_letter("应收账款对账单", STATEMENT, STATEMENT_MARGINS_CM),
    "reminder": company_letter("付款提醒函", REMINDER),
    "demand": company_letter("催款函", DEMAND),
    "final": company_letter("最后催告函", FINAL),
    "lawyer": lawyer,
    "receipt": company_letter("签收回执", RECEIPT),
    "visit": company_letter("到访回执单", VISIT),
    "evidence": company_letter("证据清单", EVIDENCE),
}


# --- the court papers: no letter header, no reference, no software's name -----------------


def exhibits_table(doc: Any) -> None:
    """The 证据目录 rows: name, source, what it proves, pages in the evidence PDF."""
    columns = EXHIBIT_COLUMNS
    empty = [""] * (len(columns) - 1)
    rows = [[c[0] for c in columns], ["{%tr for e in evidence %}", *empty],
            [c[2] for c in columns], ["{%tr endfor %}", *empty]]  # fmt: skip
    widths = [c[1] for c in columns]
    assert abs(sum(widths) - BODY_WIDTH_CM) < 0.01, (sum(widths), BODY_WIDTH_CM)
    table = grid_table(doc, widths, rows, style="表格数字")
    narrow_cell_margins(table)
    for index in (1, 2, 3):
        table.rows[2].cells[index].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.LEFT


def court_document(title: str, text: str) -> Builder:
    def build() -> Any:
        doc = new_document(title)
        doc.sections[0].header.is_linked_to_previous = True  # no reference, no QR code
        props = doc.core_properties
        props.author, props.subject, props.comments, props.last_modified_by = "", "", "", ""
        write_letter(doc, text)
        return doc

    return build


BLOCKS["@exhibits"] = lambda doc, _: exhibits_table(doc)
BLOCKS["@heading"] = lambda doc, text: para(doc, text, "小节标题")
COURT_TEMPLATES: dict[str, Builder] = {
    "complaint": court_document("民事起诉状", COMPLAINT),
    "payment_order": court_document("支付令申请书", PAYMENT_ORDER),
    "evidence_index": court_document("证据目录", EVIDENCE_INDEX),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the .docx files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in TEMPLATES.items():
        path = args.out / f"{name}.docx"
        build().save(str(path))
        sys.stdout.write(f"wrote {path}\n")
    (args.out / "court").mkdir(exist_ok=True)
    for name, build in COURT_TEMPLATES.items():
        path = args.out / "court" / f"{name}.docx"
        build().save(str(path))
        sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
