"""The `failed/` folder: files that could not be ingested, each beside NAME.error.txt."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dunning.desk import Desk
from dunning.errors import NotFoundError

ERROR_SUFFIX = ".error.txt"
_SOURCE_PREFIX = "source: "


@dataclass(frozen=True)
class FailedFile:
    name: str
    path: Path
    reason: str
    source: str | None  # where it came from, relative to the desk (for retry)
    failed_at: str | None


def quarantine(desk: Desk, path: Path, report: str) -> Path:
    """Move `path` into failed/ with an error file; never overwrites an earlier failure."""
    desk.failed.mkdir(exist_ok=True)
    target = _free_name(desk.failed, path.name)
    try:
        source = str(path.resolve().relative_to(desk.root))
    except ValueError:
        source = str(path.resolve())
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    # The file moves first: a crash in between leaves it in failed/ without its note (listed
    # as such), never a note without its file.
    try:
        os.replace(path, target)
    except OSError:
        # Another filesystem (a file given on the command line): copy, then remove.
        shutil.copy2(path, target)
        path.unlink()
    error_file = target.with_name(target.name + ERROR_SUFFIX)
    error_file.write_text(
        f"{report}\n\n{_SOURCE_PREFIX}{source}\nfailed at: {when}\n", encoding="utf-8"
    )
    return target


def list_failed(desk: Desk) -> list[FailedFile]:
    if not desk.failed.is_dir():
        return []
    found = []
    for path in sorted(desk.failed.iterdir()):
        if path.name.endswith(ERROR_SUFFIX) or not path.is_file():
            continue
        found.append(_read(path))
    return found


def retry(desk: Desk, name: str | None = None) -> list[Path]:
    """Move failed files back where they came from (the inbox by default); returns new paths."""
    chosen = [f for f in list_failed(desk) if name is None or f.name == name]
    if name is not None and not chosen:
        raise NotFoundError(f"no failed file named {name!r}; see `dunning failed list`.")
    moved = []
    for failed in chosen:
        target = desk.inbox / failed.name
        if failed.source and not Path(failed.source).is_absolute():
            candidate = desk.root / failed.source
            if desk.inbox in candidate.parents:
                target = candidate
        target.parent.mkdir(parents=True, exist_ok=True)
        target = _free_name(target.parent, target.name)
        os.replace(failed.path, target)
        failed.path.with_name(failed.name + ERROR_SUFFIX).unlink(missing_ok=True)
        moved.append(target)
    return moved


def _read(path: Path) -> FailedFile:
    error_file = path.with_name(path.name + ERROR_SUFFIX)
    reason, source, when = "(no error file)", None, None
    if error_file.is_file():
        lines = error_file.read_text(encoding="utf-8", errors="replace").splitlines()
        reason = lines[0] if lines else reason
        for line in lines:
            if line.startswith(_SOURCE_PREFIX):
                source = line[len(_SOURCE_PREFIX) :]
            elif line.startswith("failed at: "):
                when = line[len("failed at: ") :]
    return FailedFile(path.name, path, reason, source, when)


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while target.exists() or target.with_name(target.name + ERROR_SUFFIX).exists():
        n += 1
        target = folder / f"{stem} ({n}){suffix}"
    return target
