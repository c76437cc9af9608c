"""Import a 100,000-row XLSX ledger through `dunning ingest`, beside a bare openpyxl read.

Target: the whole import (parse, store, one transaction) within 1.5x of iterating the same file
with openpyxl `read_only=True, values_only=True`.

    .venv/bin/python benchmarks/ledger.py [--rows N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

# The same generated workbook and bare openpyxl loop as the parser's own benchmark.
from ledger_parse import bare_openpyxl, write_workbook

from dunning.archive.db import open_archive
from dunning.archive.ingest import ingest_paths
from dunning.desk import init_desk


def dunning_import(path: Path, root: Path) -> tuple[float, int]:
    desk = init_desk(root)
    t0 = time.perf_counter()
    report = ingest_paths(desk, [path])
    elapsed = time.perf_counter() - t0
    if report.of("failed"):
        raise SystemExit(f"import failed: {report.of('failed')[0].reason}")
    with open_archive(desk.db_path) as db:
        count = db.execute("SELECT count(*) FROM invoices").fetchone()[0]
    return elapsed, int(count)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Path(tmp) / "应收台账.xlsx"
        write_workbook(ledger, args.rows)
        t0 = time.perf_counter()
        bare_openpyxl(ledger)
        bare_s = time.perf_counter() - t0
        ours_s, imported = dunning_import(ledger, Path(tmp) / "desk")
    if imported != args.rows:
        raise SystemExit(f"imported {imported} rows, expected {args.rows}")
    print(f"ledger import, {args.rows:,} rows (XLSX)")
    print(
        f"  bare openpyxl read_only iteration: {bare_s:6.2f} s  {args.rows / bare_s:>9,.0f} rows/s"
    )
    print(
        f"  dunning ingest (parse+store+db):   {ours_s:6.2f} s  {args.rows / ours_s:>9,.0f} rows/s"
    )
    ratio = ours_s / bare_s
    verdict = "ok" if ratio <= 1.5 else "OVER TARGET"
    print(f"  ratio ours/bare: {ratio:.2f}x (target <= 1.5x): {verdict}")


if __name__ == "__main__":
    main()
