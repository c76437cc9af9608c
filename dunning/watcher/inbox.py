"""What in the inbox is a document to ingest, and what is someone else's scratch file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from dunning.archive.quarantine import ERROR_SUFFIX

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


def is_ignored(path: Path, inbox: Path) -> bool:
    """True when `path` or any folder between it and the inbox is ignored, or it is outside."""
    try:
        parts = path.relative_to(inbox).parts
    except ValueError:
        return True
    # A hidden folder (`.git/`, `.Trash-1000/`) hides everything inside it.
    return not parts or any(is_ignored_name(part) for part in parts)


def candidate_files(inbox: Path, start: Path | None = None) -> Iterator[Path]:
    """Every regular file under `start` (default: the whole inbox) that is not ignored.

    A file given as `start` yields itself; a folder is walked, so a folder dropped in whole is
    taken file by file. Symlinks are not followed: a link could lead out of the inbox.
    """
    start = inbox if start is None else start
    if is_ignored(start, inbox) and start != inbox:
        return
    if start.is_symlink():
        return
    if start.is_file():
        yield start
        return
    for folder, dirnames, filenames in os.walk(start, onerror=_skip):
        base = Path(folder)
        dirnames[:] = sorted(d for d in dirnames if not is_ignored_name(d))
        for name in sorted(filenames):
            path = base / name
            if not is_ignored_name(name) and not path.is_symlink():
                yield path


def _skip(error: OSError) -> None:
    # A folder that vanished or is unreadable mid-walk: the next rescan will see it again.
    del error
