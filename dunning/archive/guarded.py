"""The one guarded way to open a spreadsheet the desk did not write (a ledger, a courier's
batch sheet, any upload): a size cap, the zip guard (no bomb, no DTD/XXE, no giant cell)
before a parser sees an XLSX, then the ledger reader's `open_sheets` with the one CSV decoder.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dunning.archive.ledger.files import Sheet, open_sheets
from dunning.archive.zipguard import check_member_count, check_zip
from dunning.errors import IngestError

_ZIP_MAGIC = b"PK\x03\x04"
DEFAULT_MAX_BYTES = 100 * 1024 * 1024


@contextmanager
def guarded_sheets(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Iterator[Sheet]]:
    """`open_sheets` after the checks every hostile file must pass; IngestError names the file."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise IngestError(f"无法读取文件 {path.name}（{exc.strerror}）。") from exc
    if size > max_bytes:
        raise IngestError(
            f"{path.name} 有 {size / 1048576:.0f} MB，超过表格文件 {max_bytes // 1048576} MB 的上限："
            "请拆分。"
        )
    if magic == _ZIP_MAGIC:
        check_member_count(path)
        check_zip(path)
    with open_sheets(path) as sheets:
        yield sheets
