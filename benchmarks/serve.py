"""Web desk benchmark: `dunning serve` on the 20,000-contract search desk, under load.

20 concurrent clients (keep-alive connections, 127.0.0.1 only) for 30 s, round-robin over the
search page, a customer page and /api/aging, while a ledger file is dropped into the inbox every
two seconds for the in-process watcher. Printed beside the same work done through the library
directly in this process (the baseline: what the web layer adds). Target: p95 < 100 ms, no
errors, every dropped file archived.

Run: .venv/bin/python benchmarks/serve.py [--docs N] [--clients C] [--seconds S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import build  # type: ignore[import-not-found]

from dunning.archive.accounts import aging_json, aging_report
from dunning.archive.db import open_archive
from dunning.archive.search.query import search
from dunning.desk import Desk, init_desk
from dunning.ingest.pipeline import ingest_file
from dunning.workflow.records import customer_record

QUERY = "违约金"
CUSTOMER = "C0007"
TARGET_P95_MS = 100.0
MAX_REQUESTS_PER_CLIENT = 200_000  # a bound besides the clock


def ledger_csv(path: Path, customers: int, per_customer: int, seed: int = 11) -> None:
    """Open invoices for the benchmark's customers, so aging has real work to do."""
    rng = random.Random(seed)
    lines = ["客户编号,发票号码,开票日期,到期日,应收金额,已收金额"]
    start = dt.date(2025, 1, 1)
    for c in range(customers):
        for n in range(per_customer):
            day = start + dt.timedelta(days=rng.randint(0, 300))
            due = day + dt.timedelta(days=30)
            amount = rng.randint(1_000, 200_000)
            paid = rng.choice([0, 0, amount // 2, amount])
            lines.append(f"C{c:04d},FP{c:04d}{n:03d},{day},{due},{amount}.00,{paid}.00")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_desk(root: Path, docs: int) -> Desk:
    desk = init_desk(root)
    started = time.perf_counter()
    build(desk.db_path, docs)
    ledger = root.parent / "应收台账.csv"
    ledger_csv(ledger, customers=400, per_customer=5)
    outcome = ingest_file(desk, ledger, kind="ledger")
    assert outcome.status == "archived", outcome.reason
    print(
        f"desk: {docs} contracts, 400 customers, 2000 invoices in {time.perf_counter() - started:.0f} s"
    )
    return desk


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(desk: Desk, port: int, log: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "dunning"
    out = log.open("wb")
    proc = subprocess.Popen(
        [str(exe), "--desk", str(desk.root), "serve", "--port", str(port)],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"dunning serve exited: {log.read_text()}") from None
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("dunning serve did not start")


PATHS = {
    "search page": f"/search?q={quote(QUERY)}",
    "customer page": f"/customers/{CUSTOMER}",
    "/api/aging": "/api/aging",
}


def client(port: int, deadline: float, results: list[tuple[str, float, int]]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    names = list(PATHS)
    cookie: dict[str, str] = {}  # like a browser: the session cookie goes back
    for i in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= deadline:
            break
        name = names[i % len(names)]
        started = time.perf_counter()
        try:
            conn.request("GET", PATHS[name], headers=cookie)
            response = conn.getresponse()
            response.read()
            status = response.status
            if response.getheader("set-cookie"):
                cookie = {"Cookie": response.getheader("set-cookie", "").split(";")[0]}
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        results.append((name, (time.perf_counter() - started) * 1000, status))
    conn.close()


def dropper(desk: Desk, deadline: float, dropped: list[str]) -> None:
    n = 0
    while time.monotonic() < deadline:
        name = f"drop-{n:03d}.csv"
        part = desk.inbox / f".{name}.part"
        part.write_text(
            "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
            f"D{n:03d},投递测试{n}公司,FPD{n:05d},2025-03-01,2025-04-01,{100 + n}.00\n",
            encoding="utf-8",
        )
        part.rename(desk.inbox / name)
        dropped.append(name)
        n += 1
        time.sleep(2.0)


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return p50, p95


def library_baseline(desk: Desk, repeat: int) -> dict[str, tuple[float, float]]:
    """The same three reads through the library, one at a time, in this process."""
    db = open_archive(desk.db_path)
    edges = desk.config.bucket_edges
    today = dt.date.today()
    work: dict[str, Callable[[], object]] = {
        "search page": lambda: search(db, QUERY, limit=20),  # a page of results
        "customer page": lambda: customer_record(db, CUSTOMER, as_of=today, edges=edges),
        "/api/aging": lambda: [aging_json(a) for a in aging_report(db, as_of=today, edges=edges)],
    }
    out = {}
    for name, fn in work.items():
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        out[name] = percentiles(times)
    db.conn.close()
    return out


def archived(desk: Desk, names: list[str]) -> int:
    with open_archive(desk.db_path) as db:
        rows = db.execute(
            f"SELECT count(*) FROM documents WHERE original_name IN ({','.join('?' * len(names))})",
            names,
        ).fetchone()
    return int(rows[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        desk = make_desk(Path(tmp) / "desk", args.docs)
        baseline = library_baseline(desk, args.repeat)
        port = free_port()
        proc = start_server(desk, port, Path(tmp) / "serve.log")
        try:
            return run(desk, port, args, baseline)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def run(
    desk: Desk, port: int, args: argparse.Namespace, baseline: dict[str, tuple[float, float]]
) -> int:
    results: list[tuple[str, float, int]] = []
    dropped: list[str] = []
    deadline = time.monotonic() + args.seconds
    threads = [
        threading.Thread(target=client, args=(port, deadline, results)) for _ in range(args.clients)
    ]
    threads.append(threading.Thread(target=dropper, args=(desk, deadline, dropped)))
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    by_name: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for name, ms, status in results:
        by_name[name].append((ms, status))
    print(f"{args.clients} clients for {elapsed:.1f} s against 127.0.0.1:{port}")
    print(f"{'':<15}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}"
          f"{'lib p50':>9}{'lib p95':>9}")  # fmt: skip
    worst = 0.0
    errors = 0
    for name in PATHS:
        rows = by_name[name]
        p50, p95 = percentiles([ms for ms, _ in rows])
        bad = sum(1 for _, status in rows if status != 200)
        errors += bad
        worst = max(worst, p95)
        lib50, lib95 = baseline[name]
        print(f"{name:<15}{len(rows):>9}{len(rows) / elapsed:>8.0f}{p50:>9.1f}{p95:>9.1f}{bad:>8}"
              f"{lib50:>9.1f}{lib95:>9.1f}")  # fmt: skip
    total = len(results)
    print(f"{'all':<15}{total:>9}{total / elapsed:>8.0f}")
    wait_until = time.monotonic() + 60
    while archived(desk, dropped) < len(dropped) and time.monotonic() < wait_until:
        time.sleep(0.5)
    done = archived(desk, dropped)
    print(f"watcher: {done} of {len(dropped)} files dropped during the run archived")
    print("lib = the same read through the library in this process, one at a time (baseline)")
    ok = worst < TARGET_P95_MS and errors == 0 and done == len(dropped)
    print(
        f"target p95 < {TARGET_P95_MS:.0f} ms, no errors, every file archived: {'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
