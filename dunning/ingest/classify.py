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
        raise IngestError(f"{path.name}: not a file (it may have been moved away).") from None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        raise IngestError(
            f"{path.name} is a symbolic link (to {target}): links are never followed, so"
            " nothing was read from it; copy the file itself into the inbox."
        )
    what = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise IngestError(
        f"{path.name} is {what}, not a regular file: nothing was read from it; drop the"
        " document itself."
    )


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
    if sniffed == "empty":
        raise IngestError(f"{path.name} is empty (0 bytes): drop the complete file again.")
    if kind == "ledger" and sniffed not in LEDGER_TYPES:
        raise IngestError(
            f"{path.name} is not a ledger export (found {sniffed}): ledgers must be CSV, XLSX,"
            " XLS, ET or ODS;"
            " contracts and scans go to inbox/contracts/."
        )
    if kind in ("contract", "receipt", "evidence") and sniffed not in DOCUMENT_TYPES:
        raise IngestError(
            f"{path.name} is not a PDF or a scanned image (found {sniffed}): save it as PDF"
            " and drop it again."
        )
    if kind == "einvoice" and sniffed not in EINVOICE_TYPES:
        raise IngestError(
            f"{path.name} is not an e-invoice (found {sniffed}): drop the invoice's XML, OFD or"
            " PDF, or the 全量发票查询 export (XLSX)."
        )
    if kind == "bank" and sniffed not in BANK_TYPES:
        raise IngestError(
            f"{path.name} is not a bank statement export (found {sniffed}): statements must be"
            " CSV, XLS or XLSX as the bank's online banking exports them."
        )
    # "evidence" (a delivery proof) is only ever given by `dunning letter delivered --evidence`.
    if kind == "" or kind not in ("ledger", "contract", "receipt", "evidence", "bank", "einvoice"):
        raise IngestError(
            f"{path.name} is neither a ledger (CSV/XLSX/XLS/ET/ODS) nor a PDF or scanned image"
            f" (found {sniffed}): nothing to archive."
        )
