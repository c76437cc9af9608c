"""Matching 50,000 bank receipts against 100,000 open invoices, beside reading the statement.

Targets (issue 18): matching (the archive's knowledge indexed, then every receipt matched)
under 10 s, and at most 2x the time of reading the statement file alone (`read_statement`
of the same 50,000 receipts as a GBK CSV). Best of N runs; the machine is shared, so figures
are noisy.

    .venv/bin/python benchmarks/bank.py [--receipts 50000] [--invoices 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from dunning.archive.bank.matching import (
    Knowledge,
    OpenInvoice,
    Receipt,
    core_name,
    fold,
    match,
    name_key,
)
from dunning.archive.bank.reader import read_statement

ACCOUNT = "1202020109900012345"


def world(n_invoices: int, rnd: random.Random) -> tuple[list[OpenInvoice], dict[str, str]]:
    customers = {f"C{i:05d}": f"客户{i:05d}贸易有限公司" for i in range(n_invoices // 5)}
    codes = list(customers)
    invoices = [
        OpenInvoice(
            f"{10000000 + i}",
            rnd.choice(codes),
            dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randint(0, 300)),
            rnd.randint(50_000, 50_000_000),
        )
        for i in range(n_invoices)
    ]
    return invoices, customers


def receipts(n: int, invoices: list[OpenInvoice], names: dict[str, str], rnd: random.Random):
    out = []
    for i in range(n):
        inv = rnd.choice(invoices)
        kind = rnd.random()
        memo, payer = "货款", names[inv.customer]
        if kind < 0.4:
            memo = f"支付发票号{inv.invoice_no}货款 谢谢"
        elif kind < 0.7:
            pass  # the customer's own name, exact amount
        elif kind < 0.9:
            payer = f"某某个人{i}"  # unknown payer: amount only
        else:
            payer, memo = f"陌生公司{i}有限公司", "往来款"
        out.append(
            Receipt(dt.date(2026, 5, 1), Decimal(inv.open_fen) / 100, payer, f"62{i:017d}", memo)
        )
    return out


def statement_csv(rows: list[Receipt], path: Path) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerows([["账号:", ACCOUNT], ["户名:", "示例贸易有限公司"]])
    w.writerow(
        ["日期", "交易类型", "对方户名", "对方账号", "摘要", "借方发生额", "贷方发生额", "余额"]
    )
    balance = Decimal("0.00")
    for k, r in enumerate(rows):
        balance += r.amount
        w.writerow(
            [
                f"2026-05-01 {k // 3600 % 24:02d}:{k // 60 % 60:02d}:{k % 60:02d}",
                "转账",
                r.payer_name,
                r.payer_account,
                r.memo,
                "",
                f"{r.amount:.2f}",
                f"{balance:.2f}",
            ]
        )
    path.write_bytes(buf.getvalue().encode("gbk"))
    return path


def knowledge(invoices: list[OpenInvoice], names: dict[str, str]) -> Knowledge:
    cores: dict[str, set[str]] = {}
    for code, name in names.items():
        cores.setdefault(core_name(name), set()).add(code)
    return Knowledge(
        letters={},
        invoices={
            fold(i.invoice_no): OpenInvoice(i.invoice_no, i.customer, i.due, i.open_fen)
            for i in invoices
        },
        contracts={},
        accounts={},
        names={name_key(n): c for c, n in names.items()},
        aliases=frozenset(),
        cores={k: frozenset(v) for k, v in cores.items()},
        fee_tolerance=Decimal("50.00"),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--receipts", type=int, default=50_000)
    ap.add_argument("--invoices", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rnd = random.Random(18)
    invoices, names = world(args.invoices, rnd)
    rows = receipts(args.receipts, invoices, names, rnd)
    with tempfile.TemporaryDirectory() as tmp:
        path = statement_csv(rows, Path(tmp) / "statement.csv")
        read_times, match_times = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            read = read_statement(path)
            read_times.append(time.perf_counter() - t0)
            assert len(read.receipts) == len(rows)
            t0 = time.perf_counter()
            know = knowledge(invoices, names)
            found = [match(r, know) for r in rows]
            match_times.append(time.perf_counter() - t0)
    read_s, match_s = min(read_times), min(match_times)
    statuses: dict[str, int] = {}
    for m in found:
        statuses[m.status] = statuses.get(m.status, 0) + 1
    print(f"{args.receipts:,} receipts, {args.invoices:,} open invoices, best of {args.runs}")
    print(f"read statement:  {read_s:6.2f} s")
    print(
        f"match:           {match_s:6.2f} s   (target < 10 s)  ratio {match_s / read_s:.2f}x (target <= 2x)"
    )
    print(f"statuses: {statuses}")
    ok = match_s < 10 and match_s <= 2 * read_s
    print("OK" if ok else "OVER TARGET")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
