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


def check_zip(path: Path, limits: ZipLimits = ZipLimits(), *, what: str = "Excel 文件") -> None:
    """Raise IngestError naming the file when it is a zip bomb, carries a DTD, or is broken.

    `what` names the file in the message: an "Excel 文件", an "OFD 电子发票"."""
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
        raise _damaged(path)
    (entries,) = struct.unpack("<H", tail[at + 10 : at + 12])
    if entries == 0xFFFF or entries > limits.max_members:
        raise IngestError(
            f"{path.name} 含有 {'超过 65,534' if entries == 0xFFFF else entries} 个部件，"
            f"超过表格文件应有的 {limits.max_members} 个：未打开（可能是压缩炸弹）；"
            "请用 Excel 或 WPS 重新保存后再放入。"
        )


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.max_member_bytes:
            raise _bomb(path, f"其中的 {info.filename} 解压后有 {info.file_size // _MB} MB")
        if total > limits.max_total_bytes:
            raise _bomb(path, f"解压后超过 {limits.max_total_bytes // _MB} MB")


def _scan_xml(path: Path, name: str, member: IO[bytes]) -> None:
    """One pass over an XML part, 64 KB at a time: no DTD, no overlong run of text."""
    run = 0  # bytes since the last "<"
    tail = b""  # the end of the previous chunk, so a mark split across chunks is seen
    while chunk := member.read(_CHUNK):
        window = tail + chunk
        if any(mark in window for mark in _DTD_MARKS):
            raise IngestError(
                f"{path.name} 的 {name} 声明了 DTD 或实体（XML 外部实体或实体膨胀攻击）：未打开；"
                "请用 Excel 或 WPS 重新保存。"
            )
        first = chunk.find(b"<")
        # A chunk is shorter than MAX_TEXT_RUN: only a run across chunks can be too long.
        longest = run + (first if first >= 0 else len(chunk))
        run = len(chunk) - chunk.rfind(b"<") - 1 if first >= 0 else longest
        if longest > MAX_TEXT_RUN:
            raise IngestError(
                f"{path.name} 的 {name} 中有超过 32,767 个字符的文字，超过 Excel 单元格的容量："
                "未读取（文件已损坏或有恶意）；请重新导出台账。"
            )
        tail = chunk[-32:]


def _bomb(path: Path, detail: str) -> IngestError:
    return IngestError(
        f"{path.name} 未打开：{detail}，远超台账导出的大小（压缩炸弹或文件已损坏）："
        "请重新导出或拆分。"
    )


def _damaged(path: Path, exc: BaseException | None = None, what: str = "Excel 文件") -> IngestError:
    if path.suffix.lower() == ".ofd":  # named for the message only: the content decides
        what = "OFD 电子发票"
    why = _why_damaged(exc)
    if what != "Excel 文件":
        return IngestError(f"{path.name} 是损坏或不完整的 {what}{why}：请重新下载后再放入。")
    return IngestError(
        f"{path.name} 是损坏或不完整的 Excel 文件{why}：请用 Excel 或 WPS 重新保存后再放入。"
    )


def _why_damaged(exc: BaseException | None) -> str:
    """What zipfile's own (English) error says, in a word: encrypted, an unknown compression."""
    if isinstance(exc, RuntimeError) and "encrypt" in str(exc).lower():
        return "（部件已加密）"
    if isinstance(exc, NotImplementedError):
        return "（压缩方式不受支持）"
    if isinstance(exc, EOFError):
        return "（文件不完整）"
    return ""
