"""Import a 100,000-row XLSX ledger through `dunning ingest`, beside a bare openpyxl read.

Target: the whole import (parse, store, one transaction) within 1.5x of iterating the same file
with openpyxl `read_only=True, values_only=True`.

    .venv/bin/python benchmarks/ledger.py [--rows N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

import openpyxl

from dunning.archive.db import open_archive
from dunning.archive.ingest import ingest_paths
from dunning.desk import init_desk

HEADERS = [
    "客户编号",
    "客户名称",
    "合同编号",
    "发票号码",
    "开票日期",
    "到期日",
    "应收金额",
    "已收金额",
]


def make_ledger(path: Path, rows: int) -> None:
    rnd = random.Random(7)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("应收账款台账")
    ws.append(["应收账款台账（2025年度）"])
    ws.append([])
    ws.append(HEADERS)
    start = dt.date(2025, 1, 1)
    for n in range(rows):
        code = f"C{rnd.randrange(1, 2001):04d}"
        issued = start + dt.timedelta(days=rnd.randrange(0, 330))
        amount = round(rnd.uniform(100, 200000), 2)
        ws.append(
            [
                code,
                f"客户{code}有限公司",
                f"HT-2025-{n // 20:05d}",
                f"FP{n:08d}",
                dt.datetime.combine(issued, dt.time()),
                dt.datetime.combine(issued + dt.timedelta(days=30), dt.time()),
                amount,
                round(amount * rnd.choice([0, 0, 0.5, 1]), 2),
            ]
        )
    wb.save(path)


def bare_read(path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return time.perf_counter() - t0, count


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
        make_ledger(ledger, args.rows)
        bare_s, _ = bare_read(ledger)
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
