"""An archived document's stored original (its record is `workflow.records.document_record`)."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from dunning.errors import NotFoundError


def stored_original(db: sqlite_utils.Database, root: Path, document_id: int) -> Path:
    """The stored original of a document, under the desk folder `root`."""
    row = db.execute("SELECT stored_path FROM documents WHERE id = ?", [document_id]).fetchone()
    if row is None:
        raise NotFoundError(f"没有文档 {document_id}：`dunning search` 可查到文档编号。")
    path: Path = root / str(row[0])
    if not path.is_file():
        raise NotFoundError(f"文档 {document_id} 的原件不在存档目录中：请运行 `dunning verify`。")
    return path
