"""The one ingest pipeline, shared by `dunning ingest` and the watcher.

INTERFACE STUB — being written. classify → hash → duplicate check → parse → store → one
transaction → remove from the inbox; failures go to failed/ with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dunning.desk import Desk

Status = Literal["archived", "duplicate", "failed"]


@dataclass(frozen=True)
class Outcome:
    file: Path  # the path as it was given / found
    status: Status
    document: int | None = None  # the new document, or the existing one for a duplicate
    kind: str | None = None  # ledger | contract | receipt | other
    reason: str | None = None  # why it failed / which document it duplicates
    label: str = ""  # for log lines: "contract HT-2025-0001", "ledger invoices (120 rows)"


@dataclass
class IngestReport:
    outcomes: list[Outcome] = field(default_factory=list)


def ingest_file(desk: Desk, path: Path, *, kind: str | None = None) -> Outcome:
    """Ingest one file; `kind` forces the kind, else it comes from the inbox subfolder or content."""
    raise NotImplementedError


def ingest_paths(
    desk: Desk, paths: list[Path], *, progress: Callable[[Outcome], None] | None = None
) -> IngestReport:
    """Ingest files and folders (recursively), in parallel where parsing is heavy."""
    raise NotImplementedError
