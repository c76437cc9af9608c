"""File and folder names made from data: never a path, never too long, never a clash.

A customer's code and name, a contract number or an uploaded file's name become one path
component here: no separators, no `..`, no control or bidi characters, no Windows-reserved
names (CON, NUL, COM1 …, `a:b`), at most `MAX_NAME_BYTES` of UTF-8 (Linux allows 255 bytes per
component; Chinese takes 3 bytes a character), and `make_unique_dir` never reuses a folder.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

MAX_NAME_BYTES = 120  # room left for " (12)" and ".error.txt" under the 255-byte limit
_FORBIDDEN = re.compile(r'[\\/:*?"<>|]')
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{n}" for n in range(10)}
    | {f"lpt{n}" for n in range(10)}
    | {"com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³"}
)


def _printable(char: str) -> bool:
    # Cc: control; Cf: format (bidi overrides turn "fdp.exe" into "exe.pdf" on screen);
    # Zl/Zp: line and paragraph separators; Cs/Cn: surrogates and unassigned.
    return unicodedata.category(char) not in {"Cc", "Cf", "Zl", "Zp", "Cs", "Cn"}


def _cap(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def safe_name(text: str, *, fallback: str = "unnamed", max_bytes: int = MAX_NAME_BYTES) -> str:
    """One safe path component from `text`; its extension survives the length cap."""
    # str.isprintable() is False for every category _printable refuses (and for some it
    # keeps): when it says True there is nothing to replace, and it asks in C.
    cleaned = text if text.isprintable() else "".join(c if _printable(c) else "_" for c in text)
    cleaned = _FORBIDDEN.sub("_", cleaned)
    cleaned = " ".join(cleaned.split())  # tabs, newlines and runs of spaces: one space
    # Windows drops trailing dots and spaces; leading dots hide a file (and `..` climbs).
    cleaned = cleaned.strip(" .")
    if not cleaned:
        cleaned = fallback
    stem, dot, ext = cleaned.rpartition(".")
    if not dot or len(ext) > 10 or not stem:
        stem, ext = cleaned, ""
    if stem.split(".")[0].strip().casefold() in _RESERVED:
        stem = "_" + stem
    suffix = f".{ext}" if ext else ""
    stem = _cap(stem, max_bytes - len(suffix.encode("utf-8"))).rstrip(" .") or fallback
    return stem + suffix


def numbered(name: str, n: int) -> str:
    """`name` with " (n)" before its extension, still within the length cap."""
    if n <= 1:
        return name
    path = Path(name)
    suffix = path.suffix if len(path.suffix) <= 11 else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    tag = f" ({n})"
    room = MAX_NAME_BYTES - len(tag.encode()) - len(suffix.encode())
    return _cap(stem, room).rstrip(" .") + tag + suffix


def make_unique_dir(parent: Path, wanted: str, *, limit: int = 10_000) -> Path:
    """Create and return a new folder in `parent` named from `wanted` (suffixed on a clash)."""
    base = safe_name(wanted)
    for n in range(1, limit):
        folder = parent / numbered(base, n)
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"{parent}: more than {limit} folders named {base}")


def inside(path: Path, root: Path) -> bool:
    """Whether `path` (resolved) lies inside `root` (resolved): a last check before writing."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
