"""Printable Excel sheets: a title row, bordered tables with bold headers, money as numbers.

Cell formats follow the Python type of the value: Decimal is money ('#,##0.00'), a date is
'yyyy-mm-dd', an int is a plain count, anything else is text. openpyxl writes Decimal as a
number, so amounts reach Excel without passing through float here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
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
LINK_FONT = Font(color="0563C1", underline="single")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)
# A row grown for a wrapped note reads from its top: the date beside it belongs there too.
TOP = Alignment(vertical="top")
LABEL_ALIGN = Alignment(horizontal="left", vertical="top", wrap_text=True)
MIN_WIDTH, MAX_WIDTH = 6, 40
# Column-width units that print at full size across A4 with 0.4-inch side margins: Excel's
# unit is 7 px (a Calibri 11 digit with its padding) of the 717 px (portrait) or 1045 px
# printable, less some slack. A LibreOffice without Calibri or Carlito measures the unit in
# its fallback font (DejaVu Sans: 7 pt, not 5.25) and prints the same sheet at about 3/4 size.
PORTRAIT_WIDTH, LANDSCAPE_WIDTH = 100, 145
MIN_WRAP_WIDTH = 16  # a column of long text is never squeezed narrower than this
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
            style.alignment = WRAP if kind == "wrap" else TOP
            wb.add_named_style(style)
    header = NamedStyle(name="dunning header", font=BOLD, fill=HEADER_FILL, border=BORDER)
    header.alignment = HEADER_ALIGN
    wb.add_named_style(header)
    label = NamedStyle(name="dunning label", font=BOLD, fill=HEADER_FILL, border=BORDER)
    label.alignment = LABEL_ALIGN
    wb.add_named_style(label)


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


def write_pairs(
    ws: Worksheet, row: int, pairs: Iterable[tuple[str, Cell]], *, span: int = 1
) -> int:
    """Label/value rows (a form, not a table): the label in column A, the value merged across
    the `span` columns after it; returns the first row after them."""
    for label, value in pairs:
        _text(ws, row, 1, label).style = "dunning label"
        _put(ws, row, 2, value)
        if span > 1:
            # openpyxl copies the first cell's border onto the merged range's edges.
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=1 + span)
        row += 1
    return row


def link_to_sheet(ws: Worksheet, row: int, column: int, target: str) -> None:
    """The cell becomes a link to the top of sheet `target` in the same workbook."""
    cell = ws.cell(row=row, column=column)
    quoted = target.replace("'", "''")
    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{quoted}'!A1")
    cell.font = LINK_FONT


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


def _content_widths(ws: Worksheet, *, tables_only: bool = False) -> dict[int, int]:
    """Each column's widest value from row 2 on, in width units; merged cells span several
    columns and so size none of them. `tables_only` leaves out cells outside a table (section
    headings), which run over the empty cells beside them."""
    spanned = {(r.min_row, r.min_col) for r in ws.merged_cells.ranges if r.min_col < r.max_col}
    widths: dict[int, int] = {}
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if spanned and (cell.row, cell.column) in spanned:
                continue
            if tables_only and cell.style == "Normal":
                continue
            width = _display_width(cell.value)
            if width > widths.get(cell.column, 0):
                widths[cell.column] = width
    return widths


def finish_sheet(
    ws: Worksheet,
    *,
    header_row: int | None,
    freeze: str | None = None,
    fit_page: bool = False,
    stretch: int | None = None,
    repeat_rows: str | None = None,
) -> None:
    """Merge the title across the table, size the columns, freeze and repeat the header.

    With `fit_page` the columns are sized for the printed page instead (fit_columns): the
    sheet turns portrait or landscape, column `stretch` takes the page's spare width and the
    title wraps rather than widening column A. `repeat_rows` ("1:4") overrides the rows
    printed on top of every page (the header row by default).
    """
    if fit_page:
        sized = fit_columns(ws, stretch=stretch)
    else:
        widths = _content_widths(ws)
        sized = {c: min(max(w + 2, MIN_WIDTH), MAX_WIDTH + 2) for c, w in widths.items()}
        # The title is set larger than the body: widen the first column until it fits its merge.
        title_width = int(_display_width(ws.cell(row=1, column=1).value) * TITLE_SCALE) + 2
        sized[1] = max(sized.get(1, MIN_WIDTH), title_width - sum(sized.values()) + sized.get(1, 0))
    for column, width in sized.items():
        ws.column_dimensions[get_column_letter(column)].width = width
    last = max(sized, default=1)
    if last > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    if fit_page:
        _wrap_title(ws, sum(sized.values()))
    if freeze is not None:
        ws.freeze_panes = freeze
    if repeat_rows is not None:
        ws.print_title_rows = repeat_rows
    elif header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"


def fit_columns(ws: Worksheet, *, stretch: int | None = None) -> dict[int, int]:
    """Column widths from each column's own content, chosen for the printed A4 page.

    Portrait when the columns (long text capped at MAX_WIDTH) fit its width at full size,
    landscape otherwise. Columns holding text longer than the cap share what the page has
    left (never under MIN_WRAP_WIDTH), and column `stretch` takes any width still spare;
    text wider than its column then wraps (fit_row_heights gives the row its height).
    """
    widths = _content_widths(ws, tables_only=True)
    natural = {c: max(w + 2, MIN_WIDTH) for c, w in widths.items()}
    capped = {c: min(w, MAX_WIDTH + 2) for c, w in natural.items()}
    landscape = sum(capped.values()) > PORTRAIT_WIDTH
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    page = LANDSCAPE_WIDTH if landscape else PORTRAIT_WIDTH
    long = [c for c, w in natural.items() if w > MAX_WIDTH + 2]
    sized = {c: w for c, w in natural.items() if c not in long}
    share = (page - sum(sized.values())) // max(len(long), 1)
    for column in long:
        sized[column] = min(natural[column], max(share, MIN_WRAP_WIDTH))
    if stretch is not None:
        sized[stretch] = max(
            sized.get(stretch, MIN_WIDTH), page - sum(sized.values()) + sized.get(stretch, 0)
        )
    _wrap_overflow(ws, sized)
    return sized


def _span_widths(ws: Worksheet, widths: dict[int, int]) -> dict[str, int]:
    """The width of every merged range within one row, keyed by its first cell."""
    return {
        r.start_cell.coordinate: sum(
            widths.get(c, MIN_WIDTH) for c in range(r.min_col, r.max_col + 1)
        )
        for r in ws.merged_cells.ranges
        if r.min_row == r.max_row
    }


def _wrap_overflow(ws: Worksheet, widths: dict[int, int]) -> None:
    """Text wider than its cell (or its merged range) wraps instead of running over, and text
    of several lines shows them (unwrapped, Excel runs the lines together)."""
    spans = _span_widths(ws, widths)
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if not isinstance(cell.value, str) or cell.style not in _UNWRAPPED:
                continue
            room = spans.get(cell.coordinate, widths.get(cell.column, MIN_WIDTH)) - 1
            if "\n" in cell.value or _display_width(cell.value) > room:
                cell.style = _UNWRAPPED[cell.style]


_UNWRAPPED = {
    _style_name("text", total=total): _style_name("wrap", total=total) for total in (False, True)
}


def _wrap_title(ws: Worksheet, width: int) -> None:
    """The title wraps within the page's columns, its row as tall as its lines."""
    title = ws.cell(row=1, column=1)
    title.alignment = Alignment(vertical="center", wrap_text=True)
    room = max(width - 2, 1)
    lines = sum(
        max(-(-int(display_width(part) * TITLE_SCALE) // room), 1)
        for part in str(title.value or "").split("\n")
    )
    ws.row_dimensions[1].height = 24 + (lines - 1) * 19


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
    spans = _span_widths(
        ws,
        {c: int(widths.get(get_column_letter(c), MIN_WIDTH)) for c in range(1, ws.max_column + 1)},
    )
    for cells in ws.iter_rows(min_row=first_row):
        lines = 1
        for cell in cells:
            # Only wrapped text grows a row: a section heading runs over the empty cells beside it.
            if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                continue
            if cell.coordinate in ws.merged_cells and cell.coordinate not in spans:
                continue
            room = max(spans.get(cell.coordinate, widths.get(cell.column_letter, MIN_WIDTH)) - 1, 1)
            need = sum(math.ceil(_set_width(part) / int(room)) for part in cell.value.split("\n"))
            lines = max(lines, need)
        if lines > 1:
            ws.row_dimensions[cells[0].row].height = min(lines * LINE_HEIGHT, MAX_ROW_HEIGHT)


def _set_width(line: str) -> float:
    """Columns a line takes as Excel or WPS set it: a CJK character in the 11-pt East Asian
    font (等线, 宋体: 14.7 px) is 2.1 units of 7 px, not 2, so a long Chinese note needs the
    line the plain count misses."""
    width = display_width(line)
    return max(width + 0.1 * (width - len(line)), 1)


def print_across_pages(ws: Worksheet, *, header_row: int, keep_columns: str) -> None:
    """A wide list printed at full size across as many A4 landscape pages as it takes, the
    header row and `keep_columns` (like "A:B": code and name) repeated on every page."""
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = 100
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_title_cols = keep_columns
    ws.page_setup.pageOrder = "overThenDown"
