"""XLSX (and any zip) checked before a parser opens it: no bomb, no DTD, no giant cell.

An XLSX is a zip of XML files. openpyxl trusts it: a 206 KB file holding one 200 MB shared
string took 70 s and 17.9 GB. Here, before anything parses it, with bounded memory:

- the member count is read from the zip's end record, before `zipfile` builds its index;
- every member's declared uncompressed size, and their sum, are capped (`zipfile` never
  inflates past the declared size, so the declared sizes bound what a parser can get);
- every XML member is streamed once through zlib in small chunks: a DTD (`<!DOCTYPE`,
  `<!ENTITY`: external entities, billion laughs) or a run of text longer than any Excel cell
  can hold (32,767 characters) rejects the file before the parser sees it.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dunning.errors import IngestError

_MB = 1024 * 1024
_EOCD = b"PK\x05\x06"
_CHUNK = 64 * 1024
# Excel holds at most 32,767 characters in a cell; 4 bytes each in UTF-8 at the very most.
MAX_TEXT_RUN = 32_767 * 4
_DTD_MARKS = tuple(
    mark.encode(codec)
    for mark in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("ascii", "utf-16-le", "utf-16-be")
)
_XML_SUFFIXES = (".xml", ".rels", ".vml")


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 2_000
    max_member_bytes: int = 64 * _MB  # a 100,000-row sheet is about 40 MB of XML
    max_total_bytes: int = 256 * _MB


def check_zip(path: Path, limits: ZipLimits = ZipLimits(), *, what: str = "Excel file") -> None:
    """Raise IngestError naming the file when it is a zip bomb, carries a DTD, or is broken.

    `what` names the file in the message: an "Excel file", an "OFD e-invoice"."""
    check_member_count(path, limits)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_sizes(path, infos, limits)
            for info in infos:
                if info.filename.lower().endswith(_XML_SUFFIXES):
                    with archive.open(info) as member:
                        _scan_xml(path, info.filename, member)
    except zipfile.BadZipFile as exc:
        raise _damaged(path, exc, what) from exc
    except (NotImplementedError, RuntimeError, EOFError, ValueError) as exc:
        # Encrypted members, unknown compression, truncated streams.
        raise _damaged(path, exc, what) from exc


def check_xml(path: Path) -> None:
    """A plain XML file (an e-invoice's), streamed once: no DTD, no overlong run of text."""
    with path.open("rb") as member:
        _scan_xml(path, path.name, member)


def check_member_count(path: Path, limits: ZipLimits = ZipLimits()) -> None:
    """For a file starting like a zip: refuse more members than a spreadsheet has, reading
    only the end record (before `zipfile` builds an index of them all in memory)."""
    with path.open("rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            return
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - (65_535 + 22)))
        tail = fh.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) < at + 22:
        raise _damaged(path, ValueError("no end-of-archive record"))
    (entries,) = struct.unpack("<H", tail[at + 10 : at + 12])
    if entries == 0xFFFF or entries > limits.max_members:
        raise IngestError(
            f"{path.name} holds {'more than 65,534' if entries == 0xFFFF else entries} parts,"
            f" more than the {limits.max_members} a spreadsheet has: it was not opened"
            " (it may be a zip bomb); save it again from Excel or WPS and drop it again."
        )


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.max_member_bytes:
            raise _bomb(path, f"its part {info.filename} unpacks to {info.file_size // _MB} MB")
        if total > limits.max_total_bytes:
            raise _bomb(path, f"it unpacks to more than {limits.max_total_bytes // _MB} MB")


def _scan_xml(path: Path, name: str, member: IO[bytes]) -> None:
    """One pass over an XML part, 64 KB at a time: no DTD, no overlong run of text."""
    run = 0  # bytes since the last "<"
    tail = b""  # the end of the previous chunk, so a mark split across chunks is seen
    while chunk := member.read(_CHUNK):
        window = tail + chunk
        if any(mark in window for mark in _DTD_MARKS):
            raise IngestError(
                f"{path.name} declares a DTD or entities in {name} (an XML external entity or"
                " 'billion laughs' attack): it was not opened; save it again from Excel or WPS."
            )
        first = chunk.find(b"<")
        # A chunk is shorter than MAX_TEXT_RUN: only a run across chunks can be too long.
        longest = run + (first if first >= 0 else len(chunk))
        run = len(chunk) - chunk.rfind(b"<") - 1 if first >= 0 else longest
        if longest > MAX_TEXT_RUN:
            raise IngestError(
                f"{path.name} holds a text of more than 32,767 characters in {name}, more than"
                " an Excel cell can hold: it was not read (a damaged or malicious file); export"
                " the ledger again."
            )
        tail = chunk[-32:]


def _bomb(path: Path, detail: str) -> IngestError:
    return IngestError(
        f"{path.name} was not opened: {detail}, far more than a ledger export (a zip bomb or a"
        " damaged file); export it again, or split it."
    )


def _damaged(path: Path, exc: BaseException, what: str = "Excel file") -> IngestError:
    if path.suffix.lower() == ".ofd":  # named for the message only: the content decides
        what = "OFD e-invoice"
    if what != "Excel file":
        return IngestError(
            f"{path.name} is a damaged or incomplete {what} ({exc}): download it again and"
            " drop it again."
        )
    return IngestError(
        f"{path.name} is a damaged or incomplete Excel file ({exc}): save it again from Excel"
        " or WPS and drop it again."
    )
