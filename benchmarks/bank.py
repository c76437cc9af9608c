"""Matching 50,000 bank receipts against 100,000 open invoices, beside reading the statement.

Targets (issue 18): matching (the archive's knowledge indexed, then every receipt matched)
under 10 s, and at most 2x the time of reading the statement file alone (`read_statement`
of the same 50,000 receipts as a GBK CSV). Best of N runs; the machine is shared, so figures
are noisy.

    .venv/bin/python benchmarks/bank.py [--receipts 50000] [--invoices 100000] [--runs 3] [--desk]

`--desk` also times the whole import into a real archive (SQLite): the open items computed
by SPEC §3 allocation, every receipt stored with its dedupe key, matched, certain ones
written as payments, in one transaction.
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


def desk_import(path: Path, invoices: list[OpenInvoice], names: dict[str, str], tmp: Path) -> float:
    """Seconds to import the statement into a desk holding the invoices (setup not timed)."""
    from dunning.archive.bank.receipts import import_statement
    from dunning.archive.db import open_archive, write_transaction
    from dunning.desk import init_desk

    desk = init_desk(tmp / "desk")
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        now = "2026-05-01T00:00:00+08:00"
        conn.executemany(
            "INSERT INTO customers (code, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [(c, n, now, now) for c, n in names.items()],
        )
        conn.execute(
            "INSERT INTO documents (sha256, kind, original_name, stored_path, size, ingested_at)"
            " VALUES ('x', 'ledger', 'x.csv', 'store/x', 1, ?)",
            [now],
        )
        conn.execute(
            "INSERT INTO ledger_imports (id, document_id, kind, rows, inserted, updated,"
            " imported_at) VALUES (1, 1, 'invoices', 0, 0, 0, ?)",
            [now],
        )
        conn.executemany(
            "INSERT INTO invoices (invoice_no, customer_code, invoice_date, due_date, amount_fen,"
            " import_id) VALUES (?, ?, ?, ?, ?, 1)",
            [(i.invoice_no, i.customer, i.due.isoformat(), i.due.isoformat(), i.open_fen)
             for i in invoices],
        )  # fmt: skip
    with open_archive(desk.db_path) as db:
        t0 = time.perf_counter()
        statement = read_statement(path, own_accounts=[ACCOUNT])
        with write_transaction(db) as conn:
            conn.execute(
                "INSERT INTO documents (sha256, kind, original_name, stored_path, size,"
                " ingested_at) VALUES ('y', 'bank', 's.csv', 'store/y', 1, '2026-05-02')"
            )
            result = import_statement(
                conn, statement, 2, letters={}, fee_tolerance=Decimal("50.00")
            )
        seconds = time.perf_counter() - t0
    print(f"desk import:     {seconds:6.2f} s   (read + store + match + apply) {result.by_status}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--receipts", type=int, default=50_000)
    ap.add_argument("--invoices", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--desk", action="store_true", help="also time the import into an archive")
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
        if args.desk:
            desk_import(path, invoices, names, Path(tmp))
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
