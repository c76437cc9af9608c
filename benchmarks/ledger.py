"""Import a 100,000-row XLSX invoice ledger and a 100,000-row detail ledger (客户往来明细账)
through `dunning ingest`, each beside a bare openpyxl read of the same file.

Target: each whole import (parse, store, one transaction) within 1.5x of iterating the same
file with openpyxl `read_only=True, values_only=True`. Best of --repeat runs of each (this VM's
timings wander by a third from run to run).

    .venv/bin/python benchmarks/ledger.py [--rows N] [--repeat R]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# The same generated workbooks and bare openpyxl loop as the parser's own benchmark.
from ledger_parse import bare_openpyxl, write_detail_workbook, write_workbook

from dunning.archive.db import open_archive
from dunning.desk import init_desk
from dunning.ingest.pipeline import ingest_paths


def dunning_import(path: Path, root: Path) -> tuple[float, int, str]:
    desk = init_desk(root)
    t0 = time.perf_counter()
    report = ingest_paths(desk, [path])
    elapsed = time.perf_counter() - t0
    if report.of("failed"):
        raise SystemExit(f"import failed: {report.of('failed')[0].reason}")
    with open_archive(desk.db_path) as db:
        count = db.execute(
            "SELECT (SELECT count(*) FROM invoices) + (SELECT count(*) FROM payments)"
        ).fetchone()[0]
    return elapsed, int(count), report.outcomes[0].label


def measure(
    title: str, write: Callable[[Path, int], None], rows: int, repeat: int, tmp: Path
) -> None:
    ledger = tmp / f"{title}.xlsx"
    write(ledger, rows)
    bare_s = ours_s = float("inf")
    label = ""
    for n in range(repeat):
        t0 = time.perf_counter()
        bare_openpyxl(ledger)
        bare_s = min(bare_s, time.perf_counter() - t0)
        took, _items, label = dunning_import(ledger, tmp / f"desk-{title}-{n}")
        ours_s = min(ours_s, took)
    print(f"{title}, {rows:,} rows (XLSX), best of {repeat}")
    print(f"  bare openpyxl read_only iteration: {bare_s:6.2f} s  {rows / bare_s:>9,.0f} rows/s")
    print(f"  dunning ingest (parse+store+db):   {ours_s:6.2f} s  {rows / ours_s:>9,.0f} rows/s")
    print(f"  {label}")
    ratio = ours_s / bare_s
    verdict = "ok" if ratio <= 1.5 else "OVER TARGET"
    print(f"  ratio ours/bare: {ratio:.2f}x (target <= 1.5x): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure("invoice ledger", write_workbook, args.rows, args.repeat, Path(tmp))
        measure("detail ledger", write_detail_workbook, args.rows, args.repeat, Path(tmp))


if __name__ == "__main__":
    main()
