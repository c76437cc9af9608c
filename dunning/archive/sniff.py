"""What a file really is, from its bytes: clerks rename files, scanners pick odd extensions."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

from dunning.archive.ledger.csvtext import text_kind

Kind = Literal[
    "pdf",
    "png",
    "jpeg",
    "tiff",
    "xlsx",
    "docx",
    "zip",
    "csv",
    "text",
    "empty",
    "unknown",
    "xml",
    "ofd",
]

_HEAD_BYTES = 8192
# PDF readers accept the header anywhere in the first KiB (some generators prepend junk).
_PDF_WINDOW = 1024


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
    return _sniff_text(head, complete=len(head) < _HEAD_BYTES)


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
    if "OFD.xml" in names or "/OFD.xml" in names:
        return "ofd"  # an OFD e-invoice (GB/T 33190), SPEC §12
    return "zip"


def _sniff_text(head: bytes, *, complete: bool) -> Kind:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its BOM
        start = head.decode("utf-16", "ignore").lstrip().encode("utf-8", "ignore")
    if start.startswith((b"<?xml", b"<!DOCTYPE")) or (start.startswith(b"<") and b"nvoice" in head):
        return "xml"  # an e-invoice's XML (read, or refused, by dunning.archive.einvoice)
    # The ledger reader's own decoder decides, so what is sniffed as a CSV is read as one.
    return text_kind(head, complete=complete)
