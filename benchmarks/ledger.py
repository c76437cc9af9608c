"""Import 100,000-row invoice and detail ledgers (客户往来明细账), as XLSX and as legacy XLS,
through `dunning ingest`, each beside a bare openpyxl read of the same data.

Target: each whole import (read, parse, store, one transaction) at most 0.5x the time of
merely iterating the same XLSX with openpyxl `read_only=True, values_only=True`. openpyxl
cannot read .xls, so an XLS import is set beside the openpyxl read of the XLSX holding the same
rows. The XLS is written once with xlwt (at most 65,536 rows a sheet: the rows are spread over
sheets, each with the title and header, a detail ledger's customers never split) and cached
under /tmp. Best of --repeat runs of each (this VM's timings wander by a third).

    .venv/bin/python benchmarks/ledger.py [--rows N] [--repeat R] [--only xlsx|xls]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import python_calamine
import xlwt

# The same generated workbooks and bare openpyxl loop as the parser's own benchmark.
from ledger_parse import DETAIL_HEADER, HEADER, bare_openpyxl, write_detail_workbook, write_workbook

from dunning.archive.db import open_archive
from dunning.desk import init_desk
from dunning.ingest.pipeline import ingest_paths

CACHE = Path(tempfile.gettempdir()) / "dunning-bench"
XLS_SHEET_ROWS = 60_000
TARGET = 0.5


def dunning_import(path: Path, root: Path) -> tuple[float, float, int, str]:
    desk = init_desk(root)
    t0, c0 = time.perf_counter(), time.process_time()
    report = ingest_paths(desk, [path])
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if report.of("failed"):
        raise SystemExit(f"import failed: {report.of('failed')[0].reason}")
    with open_archive(desk.db_path) as db:
        count = db.execute(
            "SELECT (SELECT count(*) FROM invoices) + (SELECT count(*) FROM payments)"
        ).fetchone()[0]
    return elapsed, cpu, int(count), report.outcomes[0].label


def cached(name: str, write: Callable[[Path], None]) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / name
    if not path.exists():
        part = path.with_suffix(".part" + path.suffix)
        write(part)
        part.replace(path)
    return path


def xls_from(xlsx: Path, target: Path) -> None:
    """The XLSX's rows in a legacy .xls: sheets of at most XLS_SHEET_ROWS rows, each under the
    title lines and the header; a detail ledger is split only before an opening balance."""
    rows = python_calamine.CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python()
    at = next(i for i, r in enumerate(rows) if r[: len(HEADER)] == HEADER or r == DETAIL_HEADER)
    top, body = rows[: at + 1], rows[at + 1 :]
    detail = rows[at] == DETAIL_HEADER
    book = xlwt.Workbook(encoding="utf-8")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    start, n = 0, 1
    while start < len(body):
        end = min(start + XLS_SHEET_ROWS - len(top), len(body))
        while detail and end < len(body) and body[end][4] != "期初余额":
            end -= 1
        sheet = book.add_sheet(f"明细{n}")
        for r, row in enumerate([*top, *body[start:end]]):
            for c, value in enumerate(row):
                if value == "":
                    continue
                if isinstance(value, dt.date):
                    sheet.write(r, c, dt.datetime(value.year, value.month, value.day), date)
                else:
                    sheet.write(r, c, value)
        start, n = end, n + 1
    book.save(str(target))


def measure(title: str, xlsx: Path, data: Path, rows: int, repeat: int, tmp: Path) -> float:
    """Best-of-`repeat` import of `data` against the bare openpyxl read of `xlsx`, in wall
    time and in this process's CPU time (which the other jobs on a shared machine disturb
    far less; the import's fsync waits are in the wall time only)."""
    bare_s = ours_s = bare_cpu = ours_cpu = float("inf")
    label = ""
    for n in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        bare_openpyxl(xlsx)
        bare_s = min(bare_s, time.perf_counter() - t0)
        bare_cpu = min(bare_cpu, time.process_time() - c0)
        took, cpu, _items, label = dunning_import(data, tmp / f"desk-{title}-{data.suffix}-{n}")
        ours_s, ours_cpu = min(ours_s, took), min(ours_cpu, cpu)
    fmt = data.suffix.lstrip(".").upper()
    ratio, cpu_ratio = ours_s / bare_s, ours_cpu / bare_cpu
    print(f"{title}, {rows:,} rows ({fmt}), best of {repeat}")
    print(
        f"  bare openpyxl read_only iteration (XLSX): {bare_s:6.2f} s wall, {bare_cpu:6.2f} s CPU"
    )
    print(
        f"  dunning ingest of the {fmt} (whole import): {ours_s:6.2f} s wall, {ours_cpu:6.2f} s CPU"
    )
    print(f"  {label}")
    for what, value in (("wall", ratio), ("CPU", cpu_ratio)):
        verdict = "ok" if value <= TARGET else "OVER TARGET"
        print(f"  ratio ours/bare ({what}): {value:.2f}x (target <= {TARGET}x): {verdict}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", choices=("xlsx", "xls"))
    args = parser.parse_args()
    rows = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        for title, write in (
            ("invoice ledger", write_workbook),
            ("detail ledger", write_detail_workbook),
        ):
            stem = title.split()[0]
            xlsx = cached(f"{stem}-{rows}.xlsx", lambda p, w=write: w(p, rows))  # type: ignore[misc]
            if args.only != "xls":
                measure(title, xlsx, xlsx, rows, args.repeat, Path(tmp))
            if args.only != "xlsx":
                xls = cached(f"{stem}-{rows}.xls", lambda p, x=xlsx: xls_from(x, p))  # type: ignore[misc]
                measure(title, xlsx, xls, rows, args.repeat, Path(tmp))


if __name__ == "__main__":
    main()
