"""Which files to take, and what each one is: the inbox's rules, shared by `ingest` and `watch`.

A file's kind comes from the inbox subfolder it was dropped into (contracts/, ledgers/,
receipts/), else from its content (magic bytes), never from its extension alone.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from dunning.archive.bank.reader import looks_like_statement
from dunning.desk import INBOX_ROUTES
from dunning.errors import IngestError
from dunning.ingest.quarantine import ERROR_SUFFIX
from dunning.vocabulary import FILE_TYPES, title

ROUTE_KIND = {
    "contracts": "contract",
    "ledgers": "ledger",
    "receipts": "receipt",
    "bank": "bank",
    "invoices": "einvoice",
}
DOCUMENT_TYPES = {"pdf", "png", "jpeg", "tiff"}
LEDGER_TYPES = {"csv", "xlsx", "xls", "ods"}  # xls: .xls and WPS .et
BANK_TYPES = {"csv", "xlsx", "xls"}  # bank statements (SPEC §11), recognised by their headers
# E-invoices (SPEC §12): the XML, the OFD (a broken one sniffs as a zip), the PDF, and the
# 全量发票查询 export (XLSX or CSV).
EINVOICE_TYPES = {"xml", "ofd", "zip", "pdf", "xlsx", "csv"}
# Matched on lower-cased names in our own code: watchdog 7 patterns use full_match, where
# "*.tmp" silently matches nothing inside subfolders.
_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini"})
_IGNORED_PREFIXES = ("~$", ".~lock", ".")  # Office owner files, LibreOffice locks, dotfiles
_IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ERROR_SUFFIX)


def is_ignored_name(name: str) -> bool:
    """True for lock, temp and partial-download files, dotfiles and our own error notes."""
    lowered = name.lower()
    return (
        lowered in _IGNORED_NAMES
        or lowered.startswith(_IGNORED_PREFIXES)
        or lowered.endswith(_IGNORED_SUFFIXES)
    )


def candidate_files(root: Path, start: Path | None = None) -> Iterator[Path]:
    """Every regular file under `start` (default: `root`) that is not ignored.

    A file given as `start` yields itself; a folder is walked, so a folder dropped in whole is
    taken file by file. Symlinks are never followed (a link could lead out of the inbox): each
    is yielded as a file of its own, for the pipeline to refuse.
    """
    start = root if start is None else start
    if start != root and is_ignored_below(start, root):
        return
    if start.is_symlink() or (start.exists() and not start.is_dir()):
        # A link, a FIFO or a device is yielded as itself: the pipeline quarantines it
        # without following or reading it.
        yield start
        return
    for folder, dirnames, filenames in os.walk(start, onerror=_skip):
        base = Path(folder)
        links = [d for d in dirnames if (base / d).is_symlink()]
        dirnames[:] = sorted(d for d in dirnames if not is_ignored_name(d) and d not in links)
        for name in sorted(filenames + links):
            if not is_ignored_name(name):
                yield base / name


def is_ignored_below(path: Path, root: Path) -> bool:
    """True when `path` or any folder between it and `root` is ignored, or it is outside."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return True
    # A hidden folder (`.git/`, `.Trash-1000/`) hides everything inside it.
    return not parts or any(is_ignored_name(part) for part in parts)


def _skip(error: OSError) -> None:
    # A folder that vanished or is unreadable mid-walk: the next rescan will see it again.
    del error


def collect_files(paths: Iterable[Path], *, skip: Iterable[Path] = ()) -> list[Path]:
    """Files under the given paths (folders walked), with editor and temp files left out.

    `skip` names files and folders never to take even when a walk passes them: the desk's own
    database, settings, store, failed/, out/ and templates/ (`dunning ingest .` on the desk).
    """
    skipped = {p.resolve() for p in skip}

    def wanted(path: Path) -> bool:
        resolved = path.absolute().parent.resolve() / path.name  # a link itself, not its target
        return resolved not in skipped and not any(p in skipped for p in resolved.parents)

    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            found.extend(p for p in candidate_files(path) if wanted(p))
        elif not is_ignored_name(path.name) and wanted(path):
            found.append(path)
    return found


def check_regular_file(path: Path) -> None:
    """Refuse anything but a regular file, without following a link or opening a FIFO."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise IngestError(f"{path.name} 不是文件（可能已被移走）。") from None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        raise IngestError(
            f"{path.name} 是符号链接（指向 {target}）：从不跟随链接，未读取任何内容；"
            "请把文件本身复制到收件箱。"
        )
    what = (
        "文件夹"
        if stat.S_ISDIR(mode)
        else "命名管道（FIFO）"
        if stat.S_ISFIFO(mode)
        else "设备"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "套接字"
        if stat.S_ISSOCK(mode)
        else "特殊文件"
    )
    raise IngestError(f"{path.name} 是{what}，不是普通文件：未读取任何内容；请放入文件本身。")


def route(path: Path, inbox: Path) -> str | None:
    """The kind an inbox subfolder names (inbox/contracts/x.pdf → contract), if any."""
    parts = path.relative_to(inbox).parts
    if len(parts) > 1 and parts[0] in INBOX_ROUTES:
        return ROUTE_KIND[parts[0]]
    return None


def kind_from_content(sniffed: str, path: Path) -> str:
    if sniffed in BANK_TYPES and looks_like_statement(path):
        return "bank"
    if sniffed in LEDGER_TYPES:
        return "ledger"
    if sniffed in DOCUMENT_TYPES:
        return "contract"
    if sniffed in ("xml", "ofd"):
        return "einvoice"
    check_type("", sniffed, path)
    return "unknown"  # pragma: no cover - check_type raised


def check_type(kind: str, sniffed: str, path: Path) -> None:
    found = title(FILE_TYPES, sniffed)
    if sniffed == "empty":
        raise IngestError(f"{path.name} 是空文件（0 字节）：请重新放入完整的文件。")
    if kind == "ledger" and sniffed not in LEDGER_TYPES:
        raise IngestError(
            f"{path.name} 不是台账导出（识别为 {found}）：台账须为 CSV、XLSX、XLS、ET 或 ODS；"
            "合同和扫描件请放入 inbox/contracts/。"
        )
    if kind in ("contract", "receipt", "evidence") and sniffed not in DOCUMENT_TYPES:
        raise IngestError(
            f"{path.name} 不是 PDF 或扫描图片（识别为 {found}）：请另存为 PDF 后重新放入。"
        )
    if kind == "einvoice" and sniffed not in EINVOICE_TYPES:
        raise IngestError(
            f"{path.name} 不是电子发票（识别为 {found}）：请放入发票的 XML、OFD 或 PDF，"
            "或全量发票查询导出（XLSX）。"
        )
    if kind == "bank" and sniffed not in BANK_TYPES:
        raise IngestError(
            f"{path.name} 不是银行流水导出（识别为 {found}）：流水须为网银导出的 CSV、XLS 或 XLSX。"
        )
    # "evidence" (a delivery proof) is only ever given by `dunning letter delivered --evidence`.
    if kind == "" or kind not in ("ledger", "contract", "receipt", "evidence", "bank", "einvoice"):
        raise IngestError(
            f"{path.name} 既不是台账（CSV/XLSX/XLS/ET/ODS），也不是 PDF 或扫描图片"
            f"（识别为 {found}）：没有可归档的内容。"
        )
