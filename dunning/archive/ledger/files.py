"""Ledger files opened as rows of cell values: CSV (encoding and delimiter detected) and XLSX.

Each sheet is handed over as its first rows (buffered, to find the header) and an iterator
over the rest, so a 100,000-row workbook is streamed once and never held as cells.
"""

from __future__ import annotations

import csv
import io
import itertools
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
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
    # Some exporters write a wrong <dimension> (e.g. A1:A1); without it openpyxl returns each
    # row up to its last cell, and the parser pads short rows itself.
    ws.reset_dimensions()
    rows = _guarded(path, ws.iter_rows(min_row=1, min_col=1, values_only=True))
    head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    return Sheet(ws.title, head, rows)


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
