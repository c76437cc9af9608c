"""The title lines above a ledger export's header, read cheaply (a few rows, never the sheet).

An open-items export says so in its title (应收账款未清项明细表). The ledger reader has read the
whole file already; reading it again to find the title would double the import, so this reads
only the first rows: an XLSX's sheet XML streamed until the header row (and its shared strings
until the last one those rows use), a CSV's first lines, an old .xls through python-calamine
when installed.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO
from xml.etree.ElementTree import Element, iterparse

from dunning.archive.ledger.csvtext import decode_csv, sniff_delimiter
from dunning.errors import IngestError

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CSV_HEAD = 64 * 1024  # the first lines of a CSV: a title is never further down
_MAX_ROWS = 60

Lines = list[tuple[int, list[str]]]  # (1-based row number, its text cells)


def title_lines(path: Path, rows: int, sheet: str | None = None) -> Lines:
    """The text cells of the first `rows` rows (at most 60) of `sheet` (else the first sheet),
    rows without text left out; [] when the file cannot be read this way."""
    rows = max(0, min(rows, _MAX_ROWS))
    if rows == 0:
        return []
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
        if magic.startswith(_ZIP):
            return _xlsx_lines(path, rows, sheet)
        if magic.startswith(_OLE):
            return _calamine_lines(path, rows, sheet)
        return _csv_lines(path, rows)
    except (OSError, KeyError, ValueError, SyntaxError, zipfile.BadZipFile, IngestError):
        return []


def _csv_lines(path: Path, rows: int) -> Lines:
    with path.open("rb") as handle:
        data = handle.read(_CSV_HEAD)
    if len(data) == _CSV_HEAD and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]  # never cut a character in two
    text, _ = decode_csv(path.name, data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        lines = list(itertools.islice(reader, rows))
    except csv.Error:
        return []
    return _numbered([[c for c in line if c.strip()] for line in lines])


def _numbered(lines: list[list[str]]) -> Lines:
    return [(n, line) for n, line in enumerate(lines, start=1) if line]


def _calamine_lines(path: Path, rows: int, sheet: str | None) -> Lines:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return []
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
        chosen = book.get_sheet_by_name(sheet if sheet in names else names[0])
        values = chosen.to_python(nrows=rows)
    except Exception:  # a damaged old workbook: no title; the reader says what is wrong
        return []
    return _numbered([[v for v in line if isinstance(v, str) and v.strip()] for line in values])


def _xlsx_lines(path: Path, rows: int, sheet: str | None) -> Lines:
    with zipfile.ZipFile(path) as book:
        target = _sheet_path(book, sheet)
        cells: list[tuple[int, str | int]] = []  # (row, text or shared-string index)
        with book.open(target) as member:
            for row in _rows(member, rows):
                number = int(row.get("r") or 0)
                for cell in row.iter(f"{_NS}c"):
                    value = _cell(cell)
                    if value is not None:
                        cells.append((number, value))
        shared = _shared(book, {v for _, v in cells if isinstance(v, int)})
    lines: dict[int, list[str]] = {}
    for number, value in cells:
        text = shared.get(value, "") if isinstance(value, int) else value
        if text.strip():
            lines.setdefault(number, []).append(text)
    return [(n, lines[n]) for n in sorted(lines)]


def _rows(member: IO[bytes], rows: int) -> Iterator[Element]:
    """The sheet's <row> elements up to row `rows`, streamed: the rest is never read."""
    for _, element in iterparse(member, events=("end",)):
        if element.tag != f"{_NS}row":
            continue
        if int(element.get("r") or 0) > rows:
            return
        yield element
        element.clear()


def _cell(cell: Element) -> str | int | None:
    kind = cell.get("t")
    if kind == "s":
        v = cell.find(f"{_NS}v")
        return int(v.text) if v is not None and v.text and v.text.isdigit() else None
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
    if kind == "str":
        v = cell.find(f"{_NS}v")
        return v.text if v is not None else None
    return None  # numbers, dates, booleans: never a title


def _shared(book: zipfile.ZipFile, wanted: set[int]) -> dict[int, str]:
    """The shared strings numbered in `wanted`, read up to the last of them."""
    if not wanted or "xl/sharedStrings.xml" not in book.namelist():
        return {}
    last, found, index = max(wanted), {}, 0
    with book.open("xl/sharedStrings.xml") as member:
        for _, element in iterparse(member, events=("end",)):
            if element.tag != f"{_NS}si":
                continue
            if index in wanted:
                found[index] = "".join(
                    t.text or ""
                    for child in element
                    if child.tag in (f"{_NS}t", f"{_NS}r")
                    for t in ([child] if child.tag == f"{_NS}t" else child.iter(f"{_NS}t"))
                )
            element.clear()
            index += 1
            if index > last:
                break
    return found


def _sheet_path(book: zipfile.ZipFile, sheet: str | None) -> str:
    """The zip member of `sheet` (else the workbook's first sheet)."""
    with book.open("xl/workbook.xml") as member:
        sheets = [
            (e.get("name"), e.get(_REL))
            for _, e in iterparse(member, events=("end",))
            if e.tag == f"{_NS}sheet"
        ]
    if not sheets:
        raise KeyError("no sheets")
    rel = next((r for n, r in sheets if n == sheet), sheets[0][1])
    rels_ns = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
    with book.open("xl/_rels/workbook.xml.rels") as member:
        targets = {
            e.get("Id"): e.get("Target") or ""
            for _, e in iterparse(member, events=("end",))
            if e.tag == rels_ns
        }
    target = targets.get(rel)
    if target is not None:
        if target.startswith("/"):
            return target.lstrip("/")
        return str(PurePosixPath("xl") / target)
    raise KeyError("sheet not found")
