"""`read_ledger`: a CSV or XLSX export read into a Ledger, every row accounted for.

The header is found (title lines, blank lines and two-row headers allowed), the kind decided
from the recognised columns, and every row converted; one bad row rejects the whole file with
every bad row listed. A detail ledger is read from every sheet that has one (a sheet per
customer); the list kinds from the first sheet that fits.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import cast

from dunning.archive.ledger.detail import DetailReader, context_of
from dunning.archive.ledger.files import Row, Sheet, open_sheets
from dunning.archive.ledger.header import (
    Column,
    Header,
    decide_kind,
    find_header,
    missing_columns,
    no_header_error,
)
from dunning.archive.ledger.rows import Ledger, LedgerKind, is_blank
from dunning.archive.ledger.tabular import read_customers, read_invoices, read_payments
from dunning.errors import IngestError, RowProblem

_KIND_LABEL = {
    "invoices": "invoice ledger",
    "payments": "payment list",
    "customers": "customer list",
    "detail": "detail ledger",
}
_LIST_READERS = {
    "invoices": read_invoices,
    "payments": read_payments,
    "customers": read_customers,
}


def read_ledger(path: Path) -> Ledger:
    """Read a CSV or XLSX ledger export; raises IngestError listing every bad row.

    Row numbers are those Excel shows (for CSV: the record number, which is the line number
    unless a cell holds a line break).
    """
    first: list[Row] | None = None
    ledger: Ledger | None = None
    problems: list[RowProblem] = []
    with open_sheets(path) as sheets:
        for sheet in sheets:
            if first is None and not all(is_blank(list(row)) for row in sheet.head):
                first = sheet.head
            header = find_header(sheet.head)
            decided = decide_kind(header.columns) if header else None
            if header is None or decided is None:
                continue
            kind = cast(LedgerKind, decided[0])
            if ledger is not None and (kind != "detail" or ledger.kind != "detail"):
                continue  # a list ledger is one sheet; detail ledgers may be a sheet each
            ledger = ledger or Ledger(
                kind, sheet.name, header.index + 1, {}, encoding=sheet.encoding
            )
            _read_sheet(path, sheet, header, decided[1], ledger, problems)
            if kind != "detail":
                break
    if ledger is None:
        if first is None:
            raise IngestError(f"{path.name} has no data; export the ledger again and import it.")
        raise no_header_error(first)
    return _finish(path, ledger, problems)


def _where(path: Path, sheet: Sheet) -> str:
    return f"{path.name}" + (f", sheet {sheet.name!r}" if sheet.name else "")


def _read_sheet(
    path: Path,
    sheet: Sheet,
    header: Header,
    columns: dict[str, Column],
    ledger: Ledger,
    problems: list[RowProblem],
) -> None:
    missing = missing_columns(ledger.kind, columns)
    if missing:
        raise IngestError(
            f"The {_KIND_LABEL[ledger.kind]} in {_where(path, sheet)} has no "
            f"{' or '.join(missing)} column in its header (row {header.index + 1}); add the "
            "column and import the file again."
        )
    offset = header.index
    rows = enumerate(itertools.chain(sheet.head[offset + 1 :], sheet.rest), start=offset + 2)
    sheet_problems: list[RowProblem] = []
    if ledger.kind == "detail":
        ctx = context_of(sheet.head[: offset + 1 - header.rows], sheet.name)
        ctx.year = header.year or ctx.year
        reader = DetailReader(columns, ledger, sheet_problems, ctx, sheet.head[offset])
        reader.read(rows)
        used: tuple[str, ...] = tuple(columns)
    else:
        used = _LIST_READERS[ledger.kind](rows, columns, ledger, sheet_problems)
    if sheet.name is not None:
        ledger.sheets.append(sheet.name)
    if sheet.name is not None and ledger.kind == "detail":  # a sheet per customer: say which
        sheet_problems = [
            RowProblem(p.row, f"{p.column} (sheet {sheet.name})", p.value, p.why)
            for p in sheet_problems
        ]
    problems.extend(sheet_problems)
    for field in used:
        if field in columns:
            ledger.columns.setdefault(field, columns[field].header)
    used_at = {columns[field].index for field in used if field in columns}
    for i, cell in enumerate(sheet.head[offset]):
        name = cell.strip() if isinstance(cell, str) else ""
        if name and i not in used_at and name not in ledger.ignored_columns:
            ledger.ignored_columns.append(name)


def _finish(path: Path, ledger: Ledger, problems: list[RowProblem]) -> Ledger:
    counts = ledger.counts
    if problems:
        counts.bad = len({(p.row, p.column.partition(" (sheet ")[2]) for p in problems})
        counts.imported = counts.read - sum(counts.skipped.values()) - counts.bad
        raise IngestError(
            f"{path.name}: {counts.bad} row(s) have bad values, so nothing was imported "
            f"({counts.summary()}); correct the rows listed below and import the file again.",
            sorted(problems, key=lambda p: (p.column.partition(" (sheet ")[2], p.row)),
        )
    if ledger.row_count == 0:
        raise IngestError(
            f"{path.name} has a header but no ledger rows ({counts.summary()}); "
            "export it again with rows."
        )
    assert counts.adds_up, counts
    return ledger
