"""The `failed/` folder: files that could not be ingested, each beside NAME.error.txt."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from dunning.desk import Desk
from dunning.errors import NotFoundError
from dunning.safenames import numbered, safe_name

ERROR_SUFFIX = ".error.txt"
_SOURCE_PREFIX = "来源："
_FAILED_AT_PREFIX = "失败时间："
# The English prefixes earlier versions wrote: notes already in failed/ still read.
_OLD_PREFIXES = {"source: ": _SOURCE_PREFIX, "failed at: ": _FAILED_AT_PREFIX}
_ROW_PREFIX = "  - "  # a bad row's line (IngestError.report)


@dataclass(frozen=True)
class FailedFile:
    name: str
    path: Path
    reason: str
    source: str | None  # where it came from, relative to the desk (for retry)
    failed_at: str | None
    rows: tuple[str, ...] = ()  # a rejected ledger's bad rows, as the note lists them

    @property
    def note(self) -> Path:
        """NAME.error.txt beside the file."""
        return self.path.with_name(self.name + ERROR_SUFFIX)

    def to_json(self) -> dict[str, object]:
        """As `failed list --json` prints it."""
        return {
            "name": self.name,
            "reason": self.reason,
            "source": self.source,
            "failed_at": self.failed_at,
            "rows": list(self.rows),
        }


def quarantine(desk: Desk, path: Path, report: str) -> Path:
    """Move `path` (a file, or a link itself, never its target) into failed/ with its note.

    The note is written first, then the file is renamed (never copied: a full disk cannot stop
    a rename within the desk). If the note cannot be written, the file stays where it was and
    the OSError is raised: nothing is lost.
    """
    desk.failed.mkdir(exist_ok=True)
    target = _free_name(desk.failed, path.name)
    source = _source(desk, path)
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    error_file = target.with_name(target.name + ERROR_SUFFIX)
    try:
        error_file.write_text(
            f"{report}\n\n{_SOURCE_PREFIX}{source}\n{_FAILED_AT_PREFIX}{when}\n", encoding="utf-8"
        )
        os.replace(path, target)
    except OSError:
        error_file.unlink(missing_ok=True)
        raise
    return target


def note_failure(desk: Desk, path: Path, report: str) -> Path:
    """A note in failed/ for a file given from outside the desk, which stays where it is."""
    desk.failed.mkdir(exist_ok=True)
    target = _free_name(desk.failed, path.name)
    error_file = target.with_name(target.name + ERROR_SUFFIX)
    try:
        error_file.write_text(
            f"{report}\n\n文件留在原处：{_source(desk, path)}\n",
            encoding="utf-8",
        )
    except OSError:
        error_file.unlink(missing_ok=True)
        raise
    return error_file


def _source(desk: Desk, path: Path) -> str:
    """Where `path` is, desk-relative when inside: its folder resolved, the name not followed."""
    lexical = path.absolute().parent.resolve() / path.name
    try:
        return str(lexical.relative_to(desk.root.resolve()))
    except ValueError:
        return str(lexical)


def list_failed(desk: Desk) -> list[FailedFile]:
    if not desk.failed.is_dir():
        return []
    found = []
    for path in sorted(desk.failed.iterdir()):
        # Links, FIFOs and devices are listed too (as themselves, never followed).
        if path.name.endswith(ERROR_SUFFIX) or (path.is_dir() and not path.is_symlink()):
            continue
        found.append(_read(path))
    return found


def retry(desk: Desk, name: str | None = None) -> list[Path]:
    """Move failed files back where they came from (the inbox by default); returns new paths."""
    chosen = [f for f in list_failed(desk) if name is None or f.name == name]
    if name is not None and not chosen:
        raise NotFoundError(f"failed/ 中没有名为 {name!r} 的文件：见 `dunning failed list`。")
    moved = []
    for failed in chosen:
        target = _retry_target(desk, failed)
        target.parent.mkdir(parents=True, exist_ok=True)
        target = _free_name(target.parent, target.name)
        os.replace(failed.path, target)
        failed.path.with_name(failed.name + ERROR_SUFFIX).unlink(missing_ok=True)
        moved.append(target)
    return moved


def _retry_target(desk: Desk, failed: FailedFile) -> Path:
    """Back to its inbox subfolder when the note names one; anything else: the inbox itself.

    The note is a text file anyone can edit: `source: inbox/../../elsewhere` must not move a
    file out of the desk, so the resolved folder must be the inbox or a folder inside it.
    """
    inbox = desk.inbox.resolve()
    default = desk.inbox / safe_name(failed.name)
    if not failed.source or Path(failed.source).is_absolute() or ".." in Path(failed.source).parts:
        return default
    folder = (desk.root / failed.source).parent
    try:
        resolved = folder.resolve()
    except (OSError, RuntimeError):
        return default
    if resolved != inbox and inbox not in resolved.parents:
        return default
    return resolved / safe_name(failed.name)


def _read(path: Path) -> FailedFile:
    error_file = path.with_name(path.name + ERROR_SUFFIX)
    reason, source, when = "（没有说明文件）", None, None
    rows: list[str] = []
    if error_file.is_file():
        lines = error_file.read_text(encoding="utf-8", errors="replace").splitlines()
        reason = lines[0] if lines else reason
        for line in lines:
            for old, new in _OLD_PREFIXES.items():
                if line.startswith(old):
                    line = new + line[len(old) :]
            if line.startswith(_ROW_PREFIX):
                rows.append(line[len(_ROW_PREFIX) :])
            elif line.startswith(_SOURCE_PREFIX):
                source = line[len(_SOURCE_PREFIX) :]
            elif line.startswith(_FAILED_AT_PREFIX):
                when = line[len(_FAILED_AT_PREFIX) :]
    return FailedFile(path.name, path, reason, source, when, tuple(rows))


def _free_name(folder: Path, name: str) -> Path:
    """A name in `folder` free for the file and its note: cleaned, capped, numbered."""
    base = safe_name(name)
    target, n = folder / base, 1
    while target.is_symlink() or target.exists() or _note(target).exists():
        n += 1
        target = folder / numbered(base, n)
    return target


def _note(target: Path) -> Path:
    return target.with_name(target.name + ERROR_SUFFIX)
