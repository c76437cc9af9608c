"""The weekly report, aging and `pack --dry-run` over a 5,000-customer desk, timed through the real command.

Builds a fresh desk from a generated ledger (5,000 customers, ~50,000 invoices, ~30,000
payments, letters and a collection log), then runs `dunning report weekly` and `dunning aging`
as a clerk would. Target: under 10 s each.

    .venv/bin/python benchmarks/workflow.py [--customers N] [--invoices N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from dunning.archive.db import open_archive, write_transaction
from dunning.desk import Desk, init_desk
from dunning.ingest.pipeline import ingest_paths
from dunning.workflow import add_entry

AS_OF = dt.date(2025, 12, 31)
TARGET_S = 10.0
START = dt.date(2025, 1, 1)


def write_ledgers(folder: Path, customers: int, invoices: int) -> list[Path]:
    rnd = random.Random(11)
    master = folder / "客户档案.csv"
    with master.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["客户编号", "客户名称", "地址", "联系人", "电话", "信用等级", "业务员"])
        for n in range(1, customers + 1):
            out.writerow([f"C{n:05d}", f"客户{n:05d}贸易有限公司", f"某市某路{n}号", "王会计",
                          f"0571-{n:07d}", rnd.choice("ABCD"), rnd.choice(["王五", "赵六", "孙七"])])  # fmt: skip
    ledger, paid = folder / "应收台账.csv", folder / "回款明细.csv"
    with (
        ledger.open("w", encoding="utf-8", newline="") as lf,
        paid.open("w", encoding="utf-8", newline="") as pf,
    ):
        inv, pay = csv.writer(lf), csv.writer(pf)
        inv.writerow(["客户编号", "客户名称", "合同编号", "发票号码", "开票日期", "到期日", "应收金额"])  # fmt: skip
        pay.writerow(["客户编号", "客户名称", "回款日期", "回款金额", "对应发票号", "收款单号"])
        for n in range(invoices):
            code = f"C{rnd.randrange(1, customers + 1):05d}"
            issued = START + dt.timedelta(days=rnd.randrange(0, 360))
            amount = Decimal(rnd.randrange(10_000, 20_000_000)) / 100
            inv.writerow([code, f"客户{code[1:]}贸易有限公司", f"HT-2025-{n // 10:05d}",
                          f"FP{n:08d}", issued, issued + dt.timedelta(days=30), amount])  # fmt: skip
            if rnd.random() < 0.6:
                day = min(issued + dt.timedelta(days=rnd.randrange(10, 120)), AS_OF)
                part = amount if rnd.random() < 0.7 else (amount / 2).quantize(Decimal("0.01"))
                pay.writerow([code, f"客户{code[1:]}贸易有限公司", day, part, f"FP{n:08d}",
                              f"SK{n:08d}"])  # fmt: skip
    return [master, ledger, paid]


def add_history(desk: Desk, customers: int) -> None:
    """Letters for a fifth of the customers and a few log entries each for half of them."""
    rnd = random.Random(13)
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        for n in range(1, customers + 1, 5):
            level = rnd.randrange(1, 5)
            issued = AS_OF - dt.timedelta(days=rnd.randrange(1, 60))
            conn.execute(
                "INSERT INTO letters (ref, customer_code, level, level_name, as_of, issued_on,"
                " amount_fen, overdue_fen, status) VALUES (?, ?, ?, ?, ?, ?, 100000, 100000, ?)",
                [f"CS-2025-{n:06d}", f"C{n:05d}", level, ["reminder", "demand", "final",
                 "lawyer"][level - 1], issued, issued, rnd.choice(["issued", "signed"])],
            )  # fmt: skip
        for n in range(1, customers + 1, 2):
            code = f"C{n:05d}"
            on = AS_OF - dt.timedelta(days=rnd.randrange(5, 40))
            add_entry(conn, code, kind="call", note="电话催收，财务说月底付", on=on)
            add_entry(conn, code, kind="promise", note="承诺付款", on=on,
                      promise_amount=Decimal(5000), promise_date=on + dt.timedelta(days=7))  # fmt: skip


def timed(desk: Desk, *args: str) -> float:
    command = [str(Path(sys.executable).with_name("dunning")), "--desk", str(desk.root), *args]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--invoices", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = write_ledgers(root, args.customers, args.invoices)
        desk = init_desk(root / "desk")
        t0 = time.perf_counter()
        report = ingest_paths(desk, files)
        ingest_s = time.perf_counter() - t0
        if report.of("failed"):
            raise SystemExit(f"ingest failed: {report.of('failed')[0].reason}")
        add_history(desk, args.customers)
        with open_archive(desk.db_path) as db:
            counts = [
                db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("customers", "invoices", "payments", "letters", "collection_log")
            ]
        as_of = AS_OF.isoformat()
        weekly_s = timed(desk, "report", "weekly", "--as-of", as_of)
        aging_s = timed(desk, "aging", "--as-of", as_of)
        legal_s = timed(desk, "report", "legal", "--as-of", as_of)
        dry_s = timed(desk, "pack", "--as-of", as_of, "--dry-run", "--json")
    print("workflow over a generated desk: {:,} customers, {:,} invoices, {:,} payments,"
          " {:,} letters, {:,} log entries".format(*counts))  # fmt: skip
    print(f"  ingest (3 CSV files):        {ingest_s:6.2f} s")
    for label, seconds in (
        ("report weekly", weekly_s),
        ("aging", aging_s),
        ("report legal", legal_s),
        ("pack --dry-run", dry_s),
    ):
        verdict = "ok" if seconds < TARGET_S else "OVER TARGET"
        print(f"  dunning {label:<20} {seconds:6.2f} s  (target < {TARGET_S:.0f} s): {verdict}")


if __name__ == "__main__":
    main()
