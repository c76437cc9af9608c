"""Ledger parse benchmark: read_ledger on a 100,000-row XLSX against a bare openpyxl loop.

Run: .venv/bin/python benchmarks/ledger_parse.py [--rows N] [--repeat R] [--keep PATH]
The target: read_ledger within 1.5x of `load_workbook(read_only=True)` + `iter_rows(values_only)`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import openpyxl

from dunning.archive.ledger import read_ledger

HEADER = [
    "客户编号", "客户名称", "合同编号", "发票号码", "开票日期", "到期日", "应收金额", "已收金额",
]  # fmt: skip
NAMES = ("杭州明远贸易", "宁波海辰机械", "温州鑫达电子", "苏州恒通纺织", "无锡金鼎化工")


def write_workbook(path: Path, rows: int, seed: int = 7) -> None:
    """A realistic export: a title row, a blank row, the header, data rows, a total row."""
    rng = random.Random(seed)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("应收账款明细")
    sheet.append(["应收账款明细表"])
    sheet.append([])
    sheet.append(HEADER)
    start = dt.datetime(2024, 1, 1)
    for n in range(rows):
        customer = rng.randrange(500)
        issued = start + dt.timedelta(days=rng.randrange(600))
        amount = round(rng.uniform(100, 500_000), 2)
        received = round(amount * rng.choice((0, 0, 0.3, 0.5, 1)), 2)
        sheet.append(
            [
                f"C{customer:04d}",
                f"{NAMES[customer % len(NAMES)]}有限公司{customer}",
                f"HT-2024-{customer:04d}",
                f"FP{n:08d}",
                issued,
                issued + dt.timedelta(days=30),
                amount,
                received,
            ]
        )
    sheet.append(["合计", None, None, None, None, None, None, None])
    workbook.save(path)


DETAIL_HEADER = ["日期", "凭证字号", "客户编码", "客户名称", "摘要", "借方", "贷方", "方向", "余额"]


def write_detail_workbook(path: Path, rows: int, seed: int = 7, customers: int = 500) -> None:
    """A Kingdee-style 客户往来明细账: per customer an opening balance, dated debits and credits
    with a running 余额 and 方向, and a 本期合计 row; `rows` data rows in all."""
    rng = random.Random(seed)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("客户往来明细账")
    sheet.append(["客户往来明细账"])
    sheet.append(["会计期间：2024年1期至2025年8期"])
    sheet.append(DETAIL_HEADER)
    per = max(rows // customers, 3)
    written = 0
    for c in range(customers):
        code, name = f"C{c:04d}", f"{NAMES[c % len(NAMES)]}有限公司{c}"
        balance = round(rng.uniform(0, 50_000), 2)
        sheet.append([None, None, code, name, "期初余额", None, None, "借", balance])
        debits = credits = 0.0
        day = dt.datetime(2024, 1, 2)
        count = min(per, rows - written - 1) if c < customers - 1 else rows - written - 1
        for n in range(max(count - 1, 0)):
            day += dt.timedelta(days=rng.randrange(3))
            debit = round(rng.uniform(100, 50_000), 2) if rng.random() < 0.6 else None
            credit = None if debit else round(min(balance, rng.uniform(100, 40_000)), 2)
            balance = round(balance + (debit or 0) - (credit or 0), 2)
            debits, credits = debits + (debit or 0), credits + (credit or 0)
            sheet.append(
                [
                    day,
                    f"记-{n + 1}",
                    code,
                    name,
                    "销售" if debit else "收款",
                    debit,
                    credit,
                    "借" if balance else "平",
                    balance,
                ]
            )
        sheet.append(
            [None, None, code, name, "本期合计", round(debits, 2), round(credits, 2), "借", balance]
        )
        written += count + 1
        if written >= rows:
            break
    workbook.save(path)


def bare_openpyxl(path: Path) -> int:
    """The floor: open read-only and walk every row's values, doing nothing with them."""
    count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(path, read_only=True)
        for _row in workbook.worksheets[0].iter_rows(values_only=True):
            count += 1
        workbook.close()
    return count


def parse(path: Path) -> int:
    return read_ledger(path).row_count


def best_of(repeat: int, run: Callable[[Path], int], path: Path) -> tuple[float, int]:
    timings, count = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = run(path)
        timings.append(time.perf_counter() - started)
    return min(timings), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the workbook here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "ledger.xlsx"
        started = time.perf_counter()
        write_workbook(path, args.rows)
        print(f"wrote {args.rows:,} rows in {time.perf_counter() - started:.1f}s: {path}")
        bare, bare_rows = best_of(args.repeat, bare_openpyxl, path)
        ours, our_rows = best_of(args.repeat, parse, path)
    print(f"bare openpyxl loop: {bare:.2f}s  {bare_rows / bare:,.0f} rows/s ({bare_rows:,} rows)")
    print(f"read_ledger:        {ours:.2f}s  {our_rows / ours:,.0f} rows/s ({our_rows:,} invoices)")
    print(f"ratio read_ledger / bare: {ours / bare:.2f}x (target <= 1.5x)")
    print(f"(best of {args.repeat} runs each)")


if __name__ == "__main__":
    main()
