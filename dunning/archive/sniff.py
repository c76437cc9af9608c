"""What a file really is, from its bytes: clerks rename files, scanners pick odd extensions."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import Literal

Kind = Literal[
    "pdf", "png", "jpeg", "tiff", "xlsx", "docx", "zip", "csv", "text", "empty", "unknown"
]

_HEAD_BYTES = 8192
# PDF readers accept the header anywhere in the first KiB (some generators prepend junk).
_PDF_WINDOW = 1024
_DELIMITERS = (",", "\t", ";", "|")


def sniff(path: Path) -> Kind:
    """The file's kind by magic bytes, never by extension."""
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head:
        return "empty"
    if b"%PDF-" in head[:_PDF_WINDOW]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(path)
    return _sniff_text(head)


def _sniff_zip(path: Path) -> Kind:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        # A truncated zip still starts with PK: call it a zip and let the parser say why.
        return "zip"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    return "zip"


def _decode_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    for codec in ("utf-8-sig", "gb18030"):
        try:
            return head.decode(codec)
        except UnicodeDecodeError as exc:
            # The sample may end in the middle of a multi-byte character.
            if exc.start >= len(head) - 4:
                return head[: exc.start].decode(codec, errors="strict")
    return None


def _sniff_text(head: bytes) -> Kind:
    text = _decode_text(head)
    if text is None:
        return "unknown"
    if any(ch < " " and ch not in "\r\n\t\f" for ch in text):
        return "unknown"
    lines = [line for line in text.splitlines() if line.strip()]
    if len(head) == _HEAD_BYTES:
        lines = lines[:-1]  # the last line of a sample may be cut short
    return "csv" if _looks_delimited(lines[:20]) else "text"


def _looks_delimited(lines: list[str]) -> bool:
    """Every sampled line splits into the same number (>1) of fields on one delimiter."""
    if len(lines) == 1:
        return "\t" in lines[0] or lines[0].count(",") >= 2
    if not lines:
        return False
    for delim in _DELIMITERS:
        widths = {len(row) for row in csv.reader(lines, delimiter=delim)}
        if len(widths) == 1 and widths.pop() > 1:
            return True
    return False
