"""What calamine leaves out of a legacy .xls (and WPS .et): error cells and leading zeros.

calamine reads `#REF!`, `#N/A`, `#DIV/0!` … as empty cells, which in a 已收金额 column would be a
silent 0, and a number shown as 00012345 (format `00000000`) as 12345, which is another
invoice. Both are found in the file's own records: the compound file's Workbook stream is
followed sector by sector; BOOLERR records (an error typed or pasted), FORMULA records (an
error a formula computed), and FORMAT/XF/NUMBER/RK/MULRK records (which number cells show
leading zeros) are read. A cheap byte search first: a file with neither is not parsed at all.
An OpenDocument spreadsheet's error cells are read from its content.xml the same way.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

Errors = dict[tuple[int, int], str]  # (1-based row, 0-based column) → the error Excel shows
Padded = dict[tuple[int, int], int]  # (1-based row, 0-based column) → digits the format shows


@dataclass
class Legacy:
    """Per sheet name: its error cells and its numbers shown with leading zeros."""

    errors: dict[str, Errors] = field(default_factory=dict)
    padded: dict[str, Padded] = field(default_factory=dict)


_ERROR_CODES = {
    0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
    0x24: "#NUM!", 0x2A: "#N/A",
}  # fmt: skip
_CODES = b"[" + b"".join(re.escape(bytes([c])) for c in _ERROR_CODES) + b"]"
# A BOOLERR record holding an error (its literal header lets the search skip ahead fast).
_BOOLERR_ERROR = re.compile(rb"\x05\x02\x08\x00.{6}" + _CODES + rb"\x01", re.DOTALL)
# The tail of a formula's cached result: an error is 02 00 CODE 00 00 00 FF FF.
_RESULT_TAIL = b"\x00\x00\x00\xff\xff"
# A FORMAT record whose code is only zeros (8-bit or UTF-16 characters).
_ZERO_FORMAT = re.compile(
    rb"\x1e\x04.{4}[\x02-\x40]\x00(?:\x00(?:0){2,}|\x01(?:0\x00){2,})", re.DOTALL
)
_BOUNDSHEET, _BOOLERR, _FORMULA = 0x0085, 0x0205, 0x0006
_FORMAT, _XF, _NUMBER, _RK, _MULRK = 0x041E, 0x00E0, 0x0203, 0x027E, 0x00BD


def xls_errors(path: Path) -> dict[str, Errors]:
    """Sheet name → its error cells (see `legacy_cells`)."""
    return legacy_cells(path).errors


def legacy_cells(path: Path) -> Legacy:
    """The error cells and zero-padded numbers of each sheet; empty when there are none or
    the file cannot be followed (calamine then says what is wrong with it)."""
    data = path.read_bytes()
    maybe_errors = _BOOLERR_ERROR.search(data) is not None or _formula_error(data)
    if not maybe_errors and _ZERO_FORMAT.search(data) is None:
        return Legacy()
    try:
        stream = _workbook_stream(data)
        return Legacy() if stream is None else _records(stream)
    except (struct.error, ValueError, IndexError, KeyError):
        return Legacy()


def _formula_error(data: bytes) -> bool:
    at = data.find(_RESULT_TAIL)
    while at != -1:
        if at >= 3 and data[at - 3] == 2 and data[at - 2] == 0 and data[at - 1] in _ERROR_CODES:
            return True
        at = data.find(_RESULT_TAIL, at + 1)
    return False


def _workbook_stream(data: bytes) -> bytes | None:
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    size = 1 << shift
    if size not in (512, 4096):
        return None
    first_dir, _, cutoff, first_mini, _, first_difat, n_difat = struct.unpack_from(
        "<iiIiIiI", data, 0x30
    )

    def sector(n: int) -> bytes:
        return data[(n + 1) * size : (n + 2) * size]

    fat_ids = [i for i in struct.unpack_from("<109i", data, 0x4C) if i >= 0]
    difat, guard = first_difat, 0
    while difat >= 0 and guard < n_difat:
        ids = struct.unpack(f"<{size // 4}i", sector(difat))
        fat_ids.extend(i for i in ids[:-1] if i >= 0)
        difat, guard = ids[-1], guard + 1
    fat: list[int] = []
    for n in fat_ids:
        fat.extend(struct.unpack(f"<{size // 4}i", sector(n)))

    limit = len(data) // size + 1  # a chain longer than the file has sectors is a loop

    def chain(start: int) -> list[int]:
        found: list[int] = []
        while start >= 0 and len(found) < limit:
            found.append(start)
            start = fat[start]
        return found

    directory = b"".join(sector(n) for n in chain(first_dir))
    entries: dict[str, tuple[int, int]] = {}
    for at in range(0, len(directory) - 127, 128):
        length = struct.unpack_from("<H", directory, at + 64)[0]
        name = directory[at : at + max(length - 2, 0)].decode("utf-16-le", "replace")
        start, stream_size = struct.unpack_from("<iI", directory, at + 116)
        entries.setdefault(name, (start, stream_size))
    book = entries.get("Workbook") or entries.get("Book")
    if book is None:
        return None
    start, stream_size = book
    if stream_size >= cutoff:
        return b"".join(sector(n) for n in chain(start))[:stream_size]
    # A small workbook lives in the mini stream (the root entry's), in 64-byte mini sectors.
    root_start = entries.get("Root Entry", (-1, 0))[0]
    mini_stream = b"".join(sector(n) for n in chain(root_start))
    mini_fat_bytes = b"".join(sector(n) for n in chain(first_mini))
    mini_fat = struct.unpack(f"<{len(mini_fat_bytes) // 4}i", mini_fat_bytes)
    mini, parts = 1 << mini_shift, list[bytes]()
    while start >= 0 and len(parts) < len(mini_stream) // mini + 1:
        parts.append(mini_stream[start * mini : (start + 1) * mini])
        start = mini_fat[start]
    return b"".join(parts)[:stream_size]


def _records(stream: bytes) -> Legacy:
    sheets: list[tuple[int, str]] = []  # (offset of the sheet's BOF, name)
    found: list[tuple[int, int, int, str]] = []  # (offset, row, column, error)
    zeros: dict[int, int] = {}  # format number → zeros shown
    widths: dict[int, int] = {}  # XF index → zeros shown
    xf_count = 0
    padded: list[tuple[int, int, int, int]] = []  # (offset, row, column, zeros)
    pos, end = 0, len(stream)
    while pos + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, pos)
        body = pos + 4
        if kind == _BOUNDSHEET and length >= 8:
            offset = struct.unpack_from("<I", stream, body)[0]
            sheets.append((offset, _sheet_name(stream, body + 6, wide_count=False)))
        elif kind == _BOOLERR and length >= 8 and stream[body + 7] == 1:
            row, col = struct.unpack_from("<HH", stream, body)
            found.append((pos, row, col, _ERROR_CODES.get(stream[body + 6], "#VALUE!")))
        elif kind == _FORMULA and length >= 14:
            result = stream[body + 6 : body + 14]
            if result[0] == 2 and result[6:8] == b"\xff\xff":
                row, col = struct.unpack_from("<HH", stream, body)
                found.append((pos, row, col, _ERROR_CODES.get(result[2], "#VALUE!")))
        elif kind == _FORMAT and length >= 5:
            code = _sheet_name(stream, body + 2, wide_count=True)
            if len(code) >= 2 and set(code) == {"0"}:
                zeros[struct.unpack_from("<H", stream, body)[0]] = len(code)
        elif kind == _XF and length >= 4:
            width = zeros.get(struct.unpack_from("<H", stream, body + 2)[0])
            if width:
                widths[xf_count] = width
            xf_count += 1
        elif widths and kind in (_NUMBER, _RK) and length >= 6:
            row, col, xf = struct.unpack_from("<HHH", stream, body)
            if xf in widths:
                padded.append((pos, row, col, widths[xf]))
        elif widths and kind == _MULRK and length >= 6:
            row, first = struct.unpack_from("<HH", stream, body)
            for n in range((length - 6) // 6):
                xf = struct.unpack_from("<H", stream, body + 4 + 6 * n)[0]
                if xf in widths:
                    padded.append((pos, row, first + n, widths[xf]))
        pos = body + length
    sheets.sort()
    legacy = Legacy()
    for offset, row, col, shown in found:
        if (name := _owner(sheets, offset)) is not None:
            legacy.errors.setdefault(name, {})[(row + 1, col)] = shown
    for offset, row, col, width in padded:
        if (name := _owner(sheets, offset)) is not None:
            legacy.padded.setdefault(name, {})[(row + 1, col)] = width
    return legacy


def _owner(sheets: list[tuple[int, str]], offset: int) -> str | None:
    owner = [name for start, name in sheets if start <= offset]
    return owner[-1] if owner else None


def _sheet_name(stream: bytes, at: int, *, wide_count: bool) -> str:
    """An XLUnicodeString: a length (one byte, or two for `wide_count`), a flag (1: UTF-16),
    the characters."""
    if wide_count:
        count, at = struct.unpack_from("<H", stream, at)[0], at + 1
    else:
        count = stream[at]
    flags = stream[at + 1]
    if flags & 1:
        return stream[at + 2 : at + 2 + 2 * count].decode("utf-16-le", "replace")
    return stream[at + 2 : at + 2 + count].decode("latin-1")


_ODS_ERROR = b'value-type="error"'
_ODS_SPAN = b"number-rows-spanned"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_TEXT_P = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p"
_CELLS = (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell")
_REPEAT_LIMIT = 1 << 20  # LibreOffice pads a sheet with a million empty repeated columns


Span = tuple[tuple[int, int], tuple[int, int]]  # ((top, left), (bottom, right)), 0-based


@dataclass
class OdsExtras:
    """Per sheet name: its error cells and its merged ranges (as calamine gives an XLSX's)."""

    errors: dict[str, Errors] = field(default_factory=dict)
    merges: dict[str, list[Span]] = field(default_factory=dict)


def ods_extras(path: Path) -> OdsExtras:
    """An OpenDocument spreadsheet's error cells (LibreOffice marks them
    `calcext:value-type="error"`) and merged cells, neither of which calamine gives."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as member:
            data = member.read()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return OdsExtras()
    wanted = _ODS_ERROR in data or _ODS_SPAN in data
    if not wanted or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return OdsExtras()
    try:
        return _ods_cells(data)
    except (ElementTree.ParseError, ValueError):
        return OdsExtras()


def _ods_cells(data: bytes) -> OdsExtras:
    found = OdsExtras()
    table, row, col = "", 0, 0
    for event, element in ElementTree.iterparse(io.BytesIO(data), events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == f"{_TABLE}table":
                table, row = element.get(f"{_TABLE}name", ""), 0
            elif tag == f"{_TABLE}table-row":
                col = 0
            continue
        if tag in _CELLS:
            repeat = min(int(element.get(f"{_TABLE}number-columns-repeated", "1")), _REPEAT_LIMIT)
            if element.get(f"{{{_CALCEXT}}}value-type") == "error":
                shown = "".join(p.text or "" for p in element.iter(_TEXT_P)) or "#VALUE!"
                for n in range(repeat):
                    found.errors.setdefault(table, {})[(row + 1, col + n)] = shown
            down = int(element.get(f"{_TABLE}number-rows-spanned", "1"))
            across = int(element.get(f"{_TABLE}number-columns-spanned", "1"))
            if down > 1 or across > 1:
                span = ((row, col), (row + min(down, _REPEAT_LIMIT) - 1, col + across - 1))
                found.merges.setdefault(table, []).append(span)
            col += repeat
            element.clear()
        elif tag == f"{_TABLE}table-row":
            row += min(int(element.get(f"{_TABLE}number-rows-repeated", "1")), _REPEAT_LIMIT)
            element.clear()
    return found


_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
