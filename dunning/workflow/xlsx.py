"""Printable Excel sheets: a title row, bordered tables with bold headers, money as numbers.

Cell formats follow the Python type of the value: Decimal is money ('#,##0.00'), a date is
'yyyy-mm-dd', an int is a plain count, anything else is text. openpyxl writes Decimal as a
number, so amounts reach Excel without passing through float here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dunning.errors import DunningError
from dunning.text import display_width
from dunning.textsafe import put_text, xml_text

Cell = str | int | Decimal | dt.date | None

MONEY = "#,##0.00"
DATE = "yyyy-mm-dd"
COUNT = "0"
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)
MIN_WIDTH, MAX_WIDTH = 6, 40
TITLE_SCALE = 14 / 11  # title font size over body font size
# Sheet names: at most 31 characters, none of these, unique regardless of case.
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


class ReportError(DunningError):
    """A report could not be written."""


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    _register_styles(wb)
    return wb


def sheet_name(wanted: str, taken: Iterable[str]) -> str:
    """A legal, unique sheet name close to `wanted`."""
    base = (xml_text(wanted).translate(_SHEET_FORBIDDEN).strip("'") or "Sheet")[:31]
    used = {name.casefold() for name in taken}
    name, n = base, 2
    while name.casefold() in used:
        suffix = f"-{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


def add_sheet(wb: Workbook, name: str, title: str) -> Worksheet:
    """A landscape sheet, fitted to the page width, with `title` in bold on row 1."""
    ws = wb.create_sheet(sheet_name(name, wb.sheetnames))
    _text(ws, 1, 1, title).font = TITLE_FONT
    ws.row_dimensions[1].height = 24
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    return ws


def _kind(value: Cell) -> str:
    if isinstance(value, Decimal):
        return "money"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, int):
        return "count"
    if isinstance(value, str) and display_width(value) > MAX_WIDTH:
        return "wrap"
    return "text"


def _style_name(kind: str, *, total: bool) -> str:
    return f"dunning {kind}{' total' if total else ''}"


def _register_styles(wb: Workbook) -> None:
    # Named styles are built once and assigned by name: setting font, border and format on
    # each of 100,000 cells one attribute at a time is what makes openpyxl slow.
    formats = {"money": MONEY, "date": DATE, "count": COUNT, "text": "General", "wrap": "General"}
    for kind, number_format in formats.items():
        for total in (False, True):
            style = NamedStyle(
                name=_style_name(kind, total=total),
                number_format=number_format,
                border=BORDER,
                font=BOLD if total else Font(),
            )
            if total:
                style.fill = TOTAL_FILL
            if kind == "wrap":
                style.alignment = WRAP
            wb.add_named_style(style)
    header = NamedStyle(name="dunning header", font=BOLD, fill=HEADER_FILL, border=BORDER)
    header.alignment = HEADER_ALIGN
    wb.add_named_style(header)


def _text(ws: Worksheet, row: int, column: int, value: str) -> Any:
    """A cell holding `value` as text: data never becomes a formula (dunning.textsafe)."""
    cell = ws.cell(row=row, column=column)
    put_text(cell, value)
    return cell


def _put(ws: Worksheet, row: int, column: int, value: Cell, *, total: bool = False) -> None:
    if isinstance(value, str):
        cell = _text(ws, row, column, value)
    else:
        cell = ws.cell(row=row, column=column, value=value)
    cell.style = _style_name(_kind(value), total=total)


def write_table(
    ws: Worksheet,
    row: int,
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    totals: Sequence[Cell] | None = None,
) -> int:
    """A bordered table with its header on `row`; returns the first row after it."""
    for column, header in enumerate(headers, start=1):
        _text(ws, row, column, header).style = "dunning header"
    row += 1
    for values in rows:
        for column, value in enumerate(values, start=1):
            _put(ws, row, column, value)
        row += 1
    if totals is not None:
        for column, value in enumerate(totals, start=1):
            _put(ws, row, column, value, total=True)
        row += 1
    return row


def write_section(ws: Worksheet, row: int, heading: str) -> int:
    """A bold section heading (for sheets holding several tables); returns the next row."""
    _text(ws, row, 1, heading).font = SECTION_FONT
    return row + 1


def _display_width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    if isinstance(value, dt.date):
        return 10
    return max((display_width(line) for line in str(value).splitlines()), default=0)


def finish_sheet(ws: Worksheet, *, header_row: int | None, freeze: str | None = None) -> None:
    """Merge the title across the table, size the columns, freeze and repeat the header."""
    widths: dict[int, int] = {}
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            width = _display_width(cell.value)
            if width > widths.get(cell.column, 0):
                widths[cell.column] = width
    sized = {c: min(max(w + 2, MIN_WIDTH), MAX_WIDTH + 2) for c, w in widths.items()}
    last = max(sized, default=1)
    # The title is set larger than the body: widen the first column until it fits its merge.
    title_width = int(_display_width(ws.cell(row=1, column=1).value) * TITLE_SCALE) + 2
    sized[1] = max(sized.get(1, MIN_WIDTH), title_width - sum(sized.values()) + sized.get(1, 0))
    for column, width in sized.items():
        ws.column_dimensions[get_column_letter(column)].width = width
    if last > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    if freeze is not None:
        ws.freeze_panes = freeze
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"


def save_workbook(wb: Workbook, path: Path) -> Path:
    """Write `wb` to `path` through a temporary file, so a failed save leaves no half file."""
    if path.suffix.lower() != ".xlsx":
        raise ReportError(f"{path}：报表是 Excel 文件，文件名要以 .xlsx 结尾。")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(
            f"无法写入 {path}（{exc.strerror or exc}）：如果它正在 Excel 中打开，请先关闭，"
            "或用 --out 另选文件。"
        ) from exc
    return path


LINE_HEIGHT = 15.0  # points per printed line at the body font size
MAX_ROW_HEIGHT = 409.0  # Excel's limit


def fit_row_heights(ws: Worksheet, first_row: int) -> None:
    """Each row from `first_row` tall enough for its wrapped text: Excel and LibreOffice do not
    grow a row for wrapped text written by openpyxl, so a long note overflowed its cell."""
    widths = {letter: (dim.width or MIN_WIDTH) for letter, dim in ws.column_dimensions.items()}
    for cells in ws.iter_rows(min_row=first_row):
        lines = 1
        for cell in cells:
            if not isinstance(cell.value, str) or cell.coordinate in ws.merged_cells:
                continue
            room = max(widths.get(cell.column_letter, MIN_WIDTH) - 1, 1)
            need = sum(
                -(-max(display_width(part), 1) // int(room)) for part in cell.value.split("\n")
            )
            lines = max(lines, need)
        if lines > 1:
            ws.row_dimensions[cells[0].row].height = min(lines * LINE_HEIGHT, MAX_ROW_HEIGHT)


def print_across_pages(ws: Worksheet, *, header_row: int, keep_columns: str) -> None:
    """A wide list printed at full size across as many A4 landscape pages as it takes, the
    header row and `keep_columns` (like "A:B": code and name) repeated on every page."""
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = 100
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_title_cols = keep_columns
    ws.page_setup.pageOrder = "overThenDown"
