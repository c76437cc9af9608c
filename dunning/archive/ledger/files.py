"""Ledger files opened as rows of cell values: CSV (encoding and delimiter detected) and XLSX.

Each sheet is handed over as its first rows (buffered, to find the header) and an iterator
over the rest, so a 100,000-row workbook is streamed once and never held as cells.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import column_index_from_string
from openpyxl.utils.exceptions import InvalidFileException

from dunning.archive.ledger.csvtext import decode_csv, sniff_delimiter
from dunning.archive.ledger.header import HEADER_SCAN_ROWS
from dunning.errors import IngestError

Row = Sequence[object]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other Office 97 files)
# What a damaged or foreign zip makes openpyxl raise; anything else is our bug and should show.
_XLSX_ERRORS = (
    zipfile.BadZipFile,
    InvalidFileException,
    KeyError,
    ValueError,
    TypeError,
    OSError,
    EOFError,
    SyntaxError,
)


@dataclass
class Sheet:
    name: str | None  # None for CSV
    head: list[Row]  # the first rows, where the header is looked for
    rest: Iterator[Row]  # every row after `head`, in order
    encoding: str | None = None
    hidden: bool = False
    # Cells (1-based row, 0-based column) holding a formula Excel never calculated: data_only
    # reads them as empty, which for an amount would be a silent 0.
    uncomputed: frozenset[tuple[int, int]] = frozenset()


@contextmanager
def open_sheets(path: Path) -> Iterator[Iterator[Sheet]]:
    """Yield the file's sheets lazily; a CSV has one. Raises IngestError for unreadable files."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise IngestError(f"The file {path.name} cannot be read ({exc.strerror}).") from exc
    if magic.startswith(_OLE_MAGIC):
        raise IngestError(
            f"{path.name} is an old-format Excel file (.xls); open it in Excel and save it as "
            ".xlsx or CSV, then import it again."
        )
    if magic.startswith(_ZIP_MAGIC):
        # openpyxl warns about styles, extensions and data validation it cannot read; none
        # of that matters for the values, and pytest turns stray warnings into errors.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = _load_workbook(path)
            opened: list[Sheet] = []
            try:
                yield (_remember(opened, _xlsx_sheet(path, ws)) for ws in workbook.worksheets)
            finally:
                # A half-read sheet holds its zip member open, and the zip keeps the file open
                # until every member is closed: close them before the workbook.
                for sheet in opened:
                    _close(sheet.rest)
                workbook.close()
        return
    yield iter([_csv_sheet(path)])


def _remember(opened: list[Sheet], sheet: Sheet) -> Sheet:
    opened.append(sheet)
    return sheet


def _close(rows: Iterator[Row]) -> None:
    close = getattr(rows, "close", None)
    if close is not None:
        close()


def _load_workbook(path: Path) -> Any:
    try:
        # data_only: a formula cell gives the value Excel last computed, not "=SUM(...)".
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        raise _not_a_workbook(path) from exc


def _xlsx_sheet(path: Path, ws: Any) -> Sheet:
    merges, uncomputed, padded = _scan_sheet_xml(path, ws)
    # Some exporters write a wrong <dimension> (e.g. A1:A1); without it openpyxl returns each
    # row up to its last cell, and the parser pads short rows itself.
    ws.reset_dimensions()
    rows = _guarded(path, ws.iter_rows(min_row=1, min_col=1, values_only=True))
    if padded:
        rows = _zero_padded(rows, padded)
    if merges:
        rows = _fill_merged(rows, merges)
    head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    hidden = getattr(ws, "sheet_state", "visible") != "visible"
    return Sheet(ws.title, head, rows, hidden=hidden, uncomputed=uncomputed)


_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)"')
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*>\s*<f[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)


Merges = dict[int, list[tuple[int, int]]]  # row → [(column, the merge's top row)]


Padded = dict[tuple[int, int], int]  # (row, column) → digits the number format shows


def _scan_sheet_xml(path: Path, ws: Any) -> tuple[Merges, frozenset[tuple[int, int]], Padded]:
    """From the sheet's own XML: the cells under a vertical merge, formula cells that hold no
    value, and numbers shown with leading zeros (format 00000000)."""
    try:
        with ws.parent._archive.open(ws._worksheet_path) as member:
            data = member.read()
    except (AttributeError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise _not_a_workbook(path) from exc
    merges: Merges = {}
    if b"<mergeCell " in data:
        for hit in _MERGE.finditer(data):
            col = column_index_from_string(hit.group(1).decode()) - 1
            top, bottom = int(hit.group(2)), int(hit.group(4))
            for row in range(top + 1, bottom + 1):
                merges.setdefault(row, []).append((col, top))
    uncomputed: frozenset[tuple[int, int]] = frozenset()
    if b"<f" in data:
        uncomputed = frozenset(
            (int(hit.group(2)), column_index_from_string(hit.group(1).decode()) - 1)
            for hit in _FORMULA_CELL.finditer(data)
        )
    return merges, uncomputed, _padded_cells(ws, data)


_ZEROS = re.compile(r"0+")


def _padded_cells(ws: Any, data: bytes) -> Padded:
    """Numbers kept in cells whose format shows leading zeros (00123456 typed as 123456 with
    format 00000000): the ledger means the text Excel shows, not the number."""
    try:
        styles, formats = ws.parent._cell_styles, ws.parent._number_formats
    except AttributeError:
        return {}
    widths: dict[int, int] = {}
    for index, style in enumerate(styles):
        number = getattr(style, "numFmtId", 0)
        if number >= 164 and number - 164 < len(formats):
            shown = formats[number - 164]
            if _ZEROS.fullmatch(shown) and len(shown) > 1:
                widths[index] = len(shown)
    if not widths:
        return {}
    ids = "|".join(str(i) for i in widths).encode()
    cells = re.compile(rb'<c r="([A-Z]+)([0-9]+)" s="(' + ids + rb')"(?: t="n")?>')
    return {
        (int(hit.group(2)), column_index_from_string(hit.group(1).decode()) - 1): widths[
            int(hit.group(3))
        ]
        for hit in cells.finditer(data)
    }


def _zero_padded(rows: Iterator[Row], padded: Padded) -> Iterator[Row]:
    by_row: dict[int, list[tuple[int, int]]] = {}
    for (at, col), width in padded.items():
        by_row.setdefault(at, []).append((col, width))
    for number, row in enumerate(rows, start=1):
        fixes = by_row.get(number)
        if fixes:
            cells = list(row)
            for col, width in fixes:
                value = cells[col] if col < len(cells) else None
                if isinstance(value, int | float) and float(value).is_integer() and value >= 0:
                    cells[col] = str(int(value)).zfill(width)
            row = tuple(cells)
        yield row


def _fill_merged(rows: Iterator[Row], merges: Merges) -> Iterator[Row]:
    """Give the first cell of each row under a vertical merge the merged value (a customer's
    name merged down over its invoices is that customer's on every row)."""
    tops: dict[int, set[int]] = {}
    for covered in merges.values():
        for col, top in covered:
            tops.setdefault(top, set()).add(col)
    values: dict[tuple[int, int], object] = {}
    for number, row in enumerate(rows, start=1):
        spans = merges.get(number)
        if spans:
            cells = list(row)
            for col, top in spans:
                if col >= len(cells):
                    cells.extend([None] * (col + 1 - len(cells)))
                if cells[col] is None:
                    cells[col] = values.get((top, col))
            row = tuple(cells)
        for col in tops.get(number, ()):
            values[(number, col)] = row[col] if col < len(row) else None
        yield row


def _guarded(path: Path, rows: Iterator[Row]) -> Iterator[Row]:
    # read_only parses the sheet XML while we iterate, so damage shows up here, not on load.
    try:
        yield from rows
    except _XLSX_ERRORS as exc:
        raise _not_a_workbook(path) from exc


def _not_a_workbook(path: Path) -> IngestError:
    return IngestError(
        f"{path.name} cannot be opened as an Excel workbook (it may be damaged, encrypted or not "
        "an .xlsx file); open it in Excel, save it as .xlsx and import it again."
    )


def _csv_sheet(path: Path) -> Sheet:
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"{path.name} is empty; export the ledger again and import the new file.")
    text, encoding = decode_csv(path.name, data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = _guarded_csv(path, reader)
    head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    return Sheet(None, head, rows, encoding)


def _guarded_csv(path: Path, reader: Iterator[list[str]]) -> Iterator[Row]:
    try:
        yield from reader
    except csv.Error as exc:
        raise IngestError(
            f"{path.name} is not a well-formed CSV file ({exc}); export it again from Excel."
        ) from exc
