"""Ledger files opened as rows of cell values: CSV (encoding and delimiter detected) and
spreadsheets (XLSX, XLS, ODS and WPS .et) through python-calamine.

`read_sheets` is the one place a spreadsheet's cells are read; bank statements use it too.
Each sheet is handed over as its first rows (buffered, to find the header) and an iterator
over the rest. calamine gives values only: what it cannot give is read from the file itself,
and only when the file has it (numbers shown with leading zeros, error cells, formulas never
calculated, an ODS's merged cells): from an XLSX's XML here, from an XLS's records and an
ODS's content.xml in `legacy`.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import re
import zipfile
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine as calamine

from dunning.archive.ledger.csvtext import decode_csv, sniff_delimiter
from dunning.archive.ledger.header import HEADER_SCAN_ROWS
from dunning.archive.ledger.legacy import (
    Errors,
    Legacy,
    OdsExtras,
    Padded,
    Span,
    legacy_cells,
    ods_extras,
)
from dunning.errors import IngestError

Row = Sequence[object]

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and .et (Office 97 compound files)
# What a damaged, encrypted or foreign file makes calamine (or zipfile, for the XML side) raise.
_BOOK_ERRORS = (calamine.CalamineError, zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError)


@dataclass
class Sheet:
    name: str | None  # None for CSV
    head: list[Row]  # the first rows, where the header is looked for
    rest: Iterator[Row]  # every row after `head`, in order
    encoding: str | None = None
    hidden: bool = False
    # Cells (1-based row, 0-based column) holding a formula Excel never calculated: they read
    # as empty, which for an amount would be a silent 0.
    uncomputed: frozenset[tuple[int, int]] = frozenset()


@contextmanager
def open_sheets(path: Path) -> Iterator[Iterator[Sheet]]:
    """Yield the file's sheets lazily; a CSV has one. Raises IngestError for unreadable files."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise IngestError(f"无法读取文件 {path.name}（{exc.strerror}）。") from exc
    if magic.startswith((ZIP_MAGIC, OLE_MAGIC)):
        sheets = read_sheets(path)
        try:
            yield sheets
        finally:
            sheets.close()
        return
    yield iter([_csv_sheet(path)])


def read_sheets(path: Path) -> Generator[Sheet]:
    """Every sheet of an XLSX, XLS, ODS or .et workbook, in order, read on demand.

    Each `Sheet` has its `name`, `hidden`, its first rows in `head` (at most 30) and the others
    in `rest`; rows are tuples starting at column A and row 1 whatever the sheet's used range.
    Cells: None (empty), str, int (a whole number below 10^15: 12, as Excel shows it), float,
    bool, datetime.date (a date cell), datetime.datetime (with a time), datetime.time,
    timedelta. An error cell reads as its text (`#REF!`); a number formatted with leading
    zeros (`00000000`) as the text Excel shows; a vertical merge's value is on each row it
    covers. `uncomputed` names XLSX formula cells that hold no value. Raises IngestError
    (naming the file) when the file is no workbook, is damaged, encrypted or protected.
    """
    book = _open_book(path)
    with path.open("rb") as handle:
        zipped = handle.read(4) == ZIP_MAGIC
    xml = _XlsxXml.of(path) if zipped else None
    legacy = Legacy() if zipped else legacy_cells(path)
    ods = ods_extras(path) if zipped and xml is None else OdsExtras()
    legacy.errors.update(ods.errors)
    try:
        for meta in _guarded_call(path, lambda: book.sheets_metadata):
            if meta.typ != calamine.SheetTypeEnum.WorkSheet:
                continue  # a chart sheet holds no cells
            yield _sheet(
                path,
                book,
                meta,
                xml,
                legacy.errors.get(meta.name, {}),
                legacy.padded.get(meta.name, {}),
                ods.merges.get(meta.name),
            )
    finally:
        book.close()


def _open_book(path: Path) -> Any:
    try:
        return _guarded_call(path, lambda: calamine.CalamineWorkbook.from_path(str(path)))
    except IngestError as exc:
        if isinstance(exc.__cause__, calamine.PasswordError):
            raise IngestError(
                f"{path.name} 设有密码保护：请在 Excel 中打开并取消密码（或另存一份无密码的副本）"
                "后重新导入。"
            ) from exc.__cause__
        raise


def _guarded_call(path: Path, call: Any) -> Any:
    try:
        return call()
    except _BOOK_ERRORS as exc:
        raise _not_a_workbook(path) from exc
    except BaseException as exc:
        if _is_panic(exc):
            raise _not_a_workbook(path) from exc
        raise


def _is_panic(exc: BaseException) -> bool:
    """A damaged file can make calamine's Rust code panic: pyo3 raises a PanicException,
    which is a BaseException (not an Exception), so it is caught by its name."""
    return type(exc).__name__ == "PanicException"


def _guarded_rows(path: Path, rows: Iterator[Row]) -> Iterator[Row]:
    # calamine decodes some formats while the rows are walked: damage can show up here.
    try:
        yield from rows
    except _BOOK_ERRORS as exc:
        raise _not_a_workbook(path) from exc
    except BaseException as exc:
        if _is_panic(exc):
            raise _not_a_workbook(path) from exc
        raise


def _sheet(
    path: Path,
    book: Any,
    meta: Any,
    xml: _XlsxXml | None,
    errors: Errors,
    padded: Padded,
    spans: list[Span] | None,
) -> Sheet:
    cells = _guarded_call(path, lambda: book.get_sheet_by_name(meta.name))
    rows: Iterator[Row] = _guarded_rows(path, _cells(cells))
    uncomputed: frozenset[tuple[int, int]] = frozenset()
    if xml is not None:
        padded, errors, uncomputed = xml.sheet_extras(meta.name)
    if padded or errors:
        rows = _restored(rows, padded, errors)
    merges = _merges(spans or _guarded_call(path, lambda: cells.merged_cell_ranges))
    if merges:
        rows = _fill_merged(rows, merges)
    head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    hidden = meta.visible != calamine.SheetVisibleEnum.Visible
    return Sheet(meta.name, head, rows, hidden=hidden, uncomputed=uncomputed)


def _cells(sheet: Any) -> Iterator[Row]:
    """The sheet's rows from A1: empty cells as None, whole numbers as int (as Excel shows
    them: 12, not 12.0), a number Excel cut to 15 digits left a float (it names no invoice)."""
    start = sheet.start
    if start is None:
        return  # an empty sheet
    lead = [None] * start[1]
    for row in sheet.iter_rows():
        cells = [
            (int(v) if v.is_integer() and -_DIGITS < v < _DIGITS else v)
            if type(v) is float
            else (None if v == "" else v)
            for v in row
        ]
        yield tuple(lead + cells if lead else cells)


_DIGITS = 1e15


Merges = dict[int, list[tuple[int, int]]]  # row → [(column, the merge's top row)]


def _merges(ranges: object) -> Merges:
    merges: Merges = {}
    for (top, left), (bottom, _right) in ranges or ():  # type: ignore[attr-defined]
        for row in range(top + 2, bottom + 2):  # calamine counts from 0, Excel from 1
            merges.setdefault(row, []).append((left, top + 1))
    return merges


_SHEET_ENTRY = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_NUM_FMT = re.compile(rb"<(?:\w+:)?numFmt\b[^>]*>")
_CELL_XFS = re.compile(rb"<(?:\w+:)?cellXfs\b.*?</(?:\w+:)?cellXfs>", re.DOTALL)
_XF = re.compile(rb"<(?:\w+:)?xf\b[^>]*>")
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*>\s*<f[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)
_ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*\bt="e"[^>]*>\s*(?:<f[^>]*(?:/>|>[^<]*</f>)\s*)?<v>([^<]*)</v>'
)
_ZEROS = re.compile(rb"0{2,}")


class _XlsxXml:
    """What an XLSX says beyond values, read from its XML: which styles show numbers with
    leading zeros, and where each sheet's XML is (for those styles and uncomputed formulas)."""

    def __init__(self, path: Path, parts: dict[str, str], widths: dict[int, int]) -> None:
        self.path, self.parts, self.widths = path, parts, widths

    @classmethod
    def of(cls, path: Path) -> _XlsxXml | None:
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "xl/workbook.xml" not in names:
                    return None  # an ODS
                book = archive.read("xl/workbook.xml")
                rels = archive.read("xl/_rels/workbook.xml.rels")
                styles = archive.read("xl/styles.xml") if "xl/styles.xml" in names else b""
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise _not_a_workbook(path) from exc
        return cls(path, _sheet_parts(book, rels), _zero_widths(styles))

    def sheet_extras(self, name: str) -> tuple[Padded, Errors, frozenset[tuple[int, int]]]:
        """Numbers shown with leading zeros, error values (#REF!, which calamine reads as
        empty) and formulas never calculated, by (1-based row, 0-based column)."""
        part = self.parts.get(name)
        if part is None:
            return {}, {}, frozenset()
        try:
            with zipfile.ZipFile(self.path) as archive:
                data = archive.read(part)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise _not_a_workbook(self.path) from exc
        uncomputed: frozenset[tuple[int, int]] = frozenset()
        if b"<f" in data:
            uncomputed = frozenset(
                (int(hit.group(2)), _column(hit.group(1))) for hit in _FORMULA_CELL.finditer(data)
            )
        errors: Errors = {}
        if b't="e"' in data:
            errors = {
                (int(hit.group(2)), _column(hit.group(1))): html.unescape(hit.group(3).decode())
                for hit in _ERROR_CELL.finditer(data)
            }
        return _padded_cells(data, self.widths), errors, uncomputed


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    return {key.rpartition(b":")[2]: value for key, value in _ATTR.findall(tag)}


def _sheet_parts(book: bytes, rels: bytes) -> dict[str, str]:
    targets = {}
    for tag in _REL.findall(rels):
        attrs = _attrs(tag)
        target = attrs.get(b"Target", b"").decode()
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[attrs.get(b"Id", b"")] = target
    parts = {}
    for tag in _SHEET_ENTRY.findall(book):
        attrs = _attrs(tag)
        name = html.unescape(attrs.get(b"name", b"").decode())
        if attrs.get(b"id") in targets:
            parts[name] = targets[attrs[b"id"]]
    return parts


def _zero_widths(styles: bytes) -> dict[int, int]:
    """Style index → digits shown, for styles whose number format is all zeros (00000000)."""
    zeros = {}
    for tag in _NUM_FMT.findall(styles):
        attrs = _attrs(tag)
        code = html.unescape(attrs.get(b"formatCode", b"").decode()).encode()
        if _ZEROS.fullmatch(code):
            zeros[attrs.get(b"numFmtId", b"")] = len(code)
    if not zeros:
        return {}
    block = _CELL_XFS.search(styles)
    if block is None:
        return {}
    return {
        index: zeros[number]
        for index, tag in enumerate(_XF.findall(block.group()))
        if (number := _attrs(tag).get(b"numFmtId", b"0")) in zeros
    }


def _column(letters: bytes) -> int:
    index = 0
    for char in letters:
        index = index * 26 + char - 64
    return index - 1


def _padded_cells(data: bytes, widths: dict[int, int]) -> Padded:
    """Numbers kept in cells whose format shows leading zeros (00123456 typed as 123456 with
    format 00000000): the ledger means the text Excel shows, not the number."""
    if not widths:
        return {}
    ids = "|".join(str(i) for i in widths).encode()
    cells = re.compile(rb'<c r="([A-Z]+)([0-9]+)" s="(' + ids + rb')"(?: t="n")?>')
    return {
        (int(hit.group(2)), _column(hit.group(1))): widths[int(hit.group(3))]
        for hit in cells.finditer(data)
    }


def _restored(rows: Iterator[Row], padded: Padded, errors: Errors) -> Iterator[Row]:
    """Put back what the values lost: 00123456 for 123456 under format 00000000, and the
    error value (#REF!) of an error cell."""
    by_row: dict[int, list[tuple[int, int]]] = {}
    for (at, col), width in padded.items():
        by_row.setdefault(at, []).append((col, width))
    wrong: dict[int, list[tuple[int, str]]] = {}
    for (at, col), shown in errors.items():
        wrong.setdefault(at, []).append((col, shown))
    for number, row in enumerate(rows, start=1):
        fixes, bad = by_row.get(number), wrong.get(number)
        if fixes or bad:
            cells = list(row)
            for col, width in fixes or ():
                value = cells[col] if col < len(cells) else None
                if isinstance(value, int | float) and float(value).is_integer() and value >= 0:
                    cells[col] = str(int(value)).zfill(width)
            for col, shown in bad or ():
                if col >= len(cells):
                    cells.extend([None] * (col + 1 - len(cells)))
                cells[col] = shown
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


def _not_a_workbook(path: Path) -> IngestError:
    return IngestError(
        f"{path.name} 无法作为 Excel 工作簿打开（可能已损坏、已加密，或不是 .xlsx、.xls、.et、"
        ".ods 文件）：请用 Excel 或 WPS 打开，另存为 .xlsx 后重新导入。"
    )


def _csv_sheet(path: Path) -> Sheet:
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"{path.name} 是空文件：请重新导出台账后导入新文件。")
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
        raise IngestError(f"{path.name} 不是格式正确的 CSV 文件：请从 Excel 重新导出。") from exc
