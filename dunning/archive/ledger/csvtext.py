"""The one CSV decoder: it decides both whether a file is a CSV and how its text is read.

Encodings, strictly and in this order: UTF-16 with a BOM (Excel's "Unicode text"), UTF-8 with
or without a BOM, then GB18030 (a superset of GBK). A file is a CSV when its lines, below
whatever title lines stand above the header, are delimited records of one width.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from typing import Literal

from dunning.archive.ledger.header import HEADER_SCAN_ROWS, find_header
from dunning.errors import IngestError

DELIMITERS = (",", "\t", ";", "|")
# Below this share of records at the common width, the lines are prose, not a table.
_RECORD_SHARE = 0.8
# Text with more control characters than this is a binary file that happens to decode.
_CONTROL_SHARE = 0.01


def _candidates(data: bytes) -> tuple[str, ...]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ("utf-16",)
    # UTF-8 first: valid GBK Chinese is almost never valid UTF-8, the reverse is common.
    return ("utf-8-sig", "gb18030")


def decode(data: bytes, *, complete: bool = True) -> tuple[str, str] | None:
    """(text, encoding), or None when the bytes are no text in any accepted encoding.

    With `complete=False` the bytes are a sample: a character cut at its end is dropped.
    """
    for encoding in _candidates(data):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            text = decoder.decode(data, final=complete)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            return None  # decodes, but NUL characters mean a binary file, not a CSV
        return text, encoding
    return None


def decode_csv(name: str, data: bytes) -> tuple[str, str]:
    """Decode a whole CSV file; raises IngestError naming the file when it is not text."""
    decoded = decode(data)
    if decoded is None:
        raise IngestError(
            f"{name} 不是 UTF-8、UTF-16 或 GBK/GB18030 编码的文本（也可能根本不是文本文件）："
            "请从 Excel 另存为「CSV UTF-8」或 .xlsx 后重新导入。"
        )
    return decoded


def text_kind(sample: bytes, *, complete: bool) -> Literal["csv", "text", "unknown"]:
    """What a text-looking file is: a CSV, other text, or unknown (binary)."""
    decoded = decode(sample, complete=complete)
    if decoded is None:
        return "unknown"
    text = decoded[0]
    controls = sum(1 for ch in text if ch < " " and ch not in "\r\n\t\f")
    if controls > len(text) * _CONTROL_SHARE:
        return "unknown"
    lines = [line for line in text.splitlines() if line.strip()]
    if not complete:
        lines = lines[:-1]  # the last line of a sample may be cut short
    return "csv" if looks_delimited(lines[: HEADER_SCAN_ROWS * 2]) else "text"


def looks_delimited(lines: list[str]) -> bool:
    """Below any title lines, the lines are records of one width (>1) under some delimiter."""
    if len(lines) == 1:
        return "\t" in lines[0] or lines[0].count(",") >= 2
    for delim in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delim)]
        except csv.Error:
            continue
        common = Counter(w for w in widths if w > 1).most_common(1)
        if not common:
            continue
        width, count = common[0]
        tail = widths[widths.index(width) :]
        if count >= 2 and count >= len(tail) * _RECORD_SHARE:
            return True
    return False


def sniff_delimiter(text: str) -> str:
    """The delimiter under which a ledger header is recognised best."""
    sample = text.splitlines()[: HEADER_SCAN_ROWS * 2]
    best, best_score = "", 0
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(sample, delimiter=delimiter))
        except csv.Error:
            continue
        found = find_header(rows)
        score = len(found.columns) if found else 0
        if score > best_score:
            best, best_score = delimiter, score
    if best:
        return best
    # No header under any: keep the most frequent one so the error lists sensible headers.
    return max(DELIMITERS, key=lambda d: sum(line.count(d) for line in sample))
