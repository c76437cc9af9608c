"""The content-addressed store: originals named by SHA-256, written atomically, never modified."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def stored_name(sha256: str, suffix: str) -> str:
    """Relative path inside the store: `ab/abcdef….pdf`."""
    suffix = suffix.lower() if suffix and len(suffix) <= 8 and suffix[1:].isalnum() else ""
    return f"{sha256[:2]}/{sha256}{suffix}"


class ChangedWhileCopying(OSError):
    """The source's content changed between hashing and copying: the file's fault, not the disk's."""


def put(store: Path, source: Path, sha256: str) -> Path:
    """Copy `source` into the store under its hash; a no-op when already there.

    Temp file in the target folder, fsync, rename, fsync the folder: after a crash the store
    holds either nothing or the whole file under its final name.
    """
    target = store / stored_name(sha256, source.suffix)
    if target.exists() and sha256_file(target) == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ChangedWhileCopying(f"{source.name} 在复制过程中被改动：请重新放入。")
        tmp.chmod(0o444)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def iter_stored(store: Path) -> list[Path]:
    """Every finished file in the store (temp files of interrupted copies are skipped)."""
    return sorted(p for p in store.glob("??/*") if p.is_file() and not p.name.startswith(".tmp-"))


def remove_stale_temps(store: Path, *, older_than_s: float = 3600.0) -> int:
    """Remove temp files of copies a crash interrupted (an hour old: no copy takes that long)."""
    removed = 0
    cutoff = time.time() - older_than_s
    for tmp in store.glob("??/.tmp-*"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
        except OSError:
            continue  # another process finished or removed it
    return removed


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
