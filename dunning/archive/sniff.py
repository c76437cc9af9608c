"""What a file really is, from its bytes: clerks rename files, scanners pick odd extensions."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import BinaryIO, Literal

from dunning.archive.ledger.csvtext import text_kind

Kind = Literal[
    "pdf",
    "png",
    "jpeg",
    "tiff",
    "xlsx",
    "xls",
    "ods",
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
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(path, head)
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
    if "mimetype" in names and "content.xml" in names:
        try:
            with zipfile.ZipFile(path) as archive, archive.open("mimetype") as member:
                mimetype = member.read(100)
        except (zipfile.BadZipFile, OSError, ValueError, KeyError):
            return "zip"
        if mimetype.strip() == b"application/vnd.oasis.opendocument.spreadsheet":
            return "ods"
    return "zip"


# Office 97 compound file: .xls (Excel, Kingdee K/3, Yonyou U8 exports), WPS .et, .doc, .msg.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The streams that make a compound file a workbook (BIFF8 / BIFF5), or an encrypted .xlsx
# (Office keeps a password-protected .xlsx inside a compound file).
_WORKBOOK_STREAMS = ("Workbook", "Book", "EncryptedPackage")
_DIRECTORY_ENTRY = 128
_MAX_DIRECTORY_SECTORS = 64


def _sniff_ole(path: Path, head: bytes) -> Kind:
    """`xls` when the compound file holds a workbook stream, else `unknown` (a .doc, a .msg).

    The directory is followed through the FAT's first sector only: the workbook stream's
    entry sits in the directory's first sector in every writer seen."""
    try:
        shift = struct.unpack_from("<H", head, 0x1E)[0]
        first_dir = struct.unpack_from("<i", head, 0x30)[0]
        size = 1 << shift
        if size not in (512, 4096) or first_dir < 0:
            return "unknown"
        with path.open("rb") as fh:
            for name in _directory_names(fh, size, first_dir, head):
                if name in _WORKBOOK_STREAMS:
                    return "xls"
    except (struct.error, OSError, UnicodeDecodeError):
        return "unknown"
    return "unknown"


def _directory_names(fh: BinaryIO, size: int, sector: int, head: bytes) -> list[str]:
    names: list[str] = []
    # The FAT's first sector (listed in the header's DIFAT at 0x4C) maps sector → next sector.
    fat_sector = struct.unpack_from("<i", head, 0x4C)[0]
    fh.seek((fat_sector + 1) * size)
    fat_bytes = fh.read(size)
    fat = struct.unpack(f"<{len(fat_bytes) // 4}i", fat_bytes[: len(fat_bytes) // 4 * 4])
    for _ in range(_MAX_DIRECTORY_SECTORS):
        fh.seek((sector + 1) * size)
        block = fh.read(size)
        for at in range(0, len(block) - _DIRECTORY_ENTRY + 1, _DIRECTORY_ENTRY):
            length = struct.unpack_from("<H", block, at + 64)[0]
            if 2 <= length <= 64:
                names.append(block[at : at + length - 2].decode("utf-16-le"))
        if not 0 <= sector < len(fat) or not 0 <= fat[sector] < len(fat):
            break
        sector = fat[sector]
    return names


def _sniff_text(head: bytes, *, complete: bool) -> Kind:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its BOM
        start = head.decode("utf-16", "ignore").lstrip().encode("utf-8", "ignore")
    if start.startswith((b"<?xml", b"<!DOCTYPE")) or (start.startswith(b"<") and b"nvoice" in head):
        return "xml"  # an e-invoice's XML (read, or refused, by dunning.archive.einvoice)
    # The ledger reader's own decoder decides, so what is sniffed as a CSV is read as one.
    return text_kind(head, complete=complete)
