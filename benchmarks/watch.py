"""Watcher benchmark: N small files dropped at once into a watched inbox, beside `dunning ingest`.

Reports time-to-archived per file (p50, p95, after the stability delay) and the drain time,
against `dunning ingest` of the same files into a fresh desk. Target: drain (less the delay)
within 1.2x of `dunning ingest`; nothing lost.

Run: .venv/bin/python benchmarks/watch.py [--files N] [--delay S] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from dunning.archive.db import open_archive
from dunning.desk import Desk, init_desk
from dunning.ingest.pipeline import Outcome, ingest_paths
from dunning.watcher import Watcher, WatchSettings

ROOT = Path(__file__).resolve().parent.parent
HEADER = "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
TARGET_RATIO = 1.2


def make_files(folder: Path, n: int) -> str:
    """Small PDFs when the test factory exists, else small CSV ledgers; returns which."""
    folder.mkdir(parents=True)
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from pdf_factory import make_text_pdf  # type: ignore[import-not-found]
    except ImportError:
        make_text_pdf = None
    for i in range(n):
        if make_text_pdf is not None:
            path = folder / f"HT-2025-{i:04d}.pdf"
            make_text_pdf(path, [f"购销合同 合同编号：HT-2025-{i:04d} 买方：杭州{i}号贸易有限公司"])
        else:
            path = folder / f"ledger-{i:04d}.csv"
            customer = f"C{i % 50:03d},杭州{i % 50}号贸易有限公司"
            rows = "".join(
                f"{customer},B{i:04d}-{r},2025-01-05,2025-02-04,{i}.{r}0\n" for r in range(3)
            )
            path.write_text(HEADER + rows, encoding="utf-8")
    return "pdf" if make_text_pdf is not None else "csv"


def documents(desk: Desk) -> int:
    db = open_archive(desk.db_path)
    try:
        return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    finally:
        db.conn.close()


def bench_command(desk: Desk, folder: Path) -> float:
    """`dunning ingest FOLDER` as a clerk runs it: the real command, startup included."""
    start = time.perf_counter()
    entry = [sys.executable, "-c", "from dunning.cli import main; main()"]
    subprocess.run(
        [*entry, "--desk", str(desk.root), "ingest", "--quiet", str(folder)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def bench_library(desk: Desk, folder: Path) -> float:
    start = time.perf_counter()
    ingest_paths(desk, [folder])
    return time.perf_counter() - start


def bench_watcher(desk: Desk, staging: Path, delay: float) -> tuple[list[float], float, int]:
    """Drop every staged file into the running watcher's inbox; per-file latency and drain."""
    arrived: dict[str, float] = {}
    outcomes: list[Outcome] = []

    def record(outcome: Outcome) -> None:
        arrived[outcome.file.name] = time.perf_counter()
        outcomes.append(outcome)

    settings = WatchSettings(stability_delay_s=delay, rescan_interval_s=60.0)
    watcher = Watcher(desk, settings, on_outcome=record, on_notice=lambda _: None)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,))
    thread.start()
    while not watcher.observer_alive():
        time.sleep(0.01)
    route = desk.inbox / ("ledgers" if any(staging.glob("*.csv")) else "contracts")
    dropped: dict[str, float] = {}
    for path in sorted(staging.iterdir()):
        path.rename(route / path.name)  # a rename: the file lands whole, like a finished copy
        dropped[path.name] = time.perf_counter()
    deadline = time.perf_counter() + 600
    while len(outcomes) < len(dropped) and time.perf_counter() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join()
    latencies = [arrived[name] - dropped[name] - delay for name in arrived]
    drain = max(arrived.values()) - min(dropped.values())
    failed = sum(1 for o in outcomes if o.status != "archived")
    return latencies, drain, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=2.0, help="stability delay (s)")
    parser.add_argument("--keep", type=Path, help="work here and keep it, instead of a temp dir")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="dunning-bench-watch-"))
    try:
        kind = make_files(work / "files", args.files)
        command_s = bench_command(init_desk(work / "desk-ingest"), work / "files")
        library_s = bench_library(init_desk(work / "desk-library"), work / "files")
        staging = work / "staging"
        shutil.copytree(work / "files", staging)
        desk = init_desk(work / "desk-watch")
        latencies, drain, failed = bench_watcher(desk, staging, args.delay)
        report(args.files, kind, args.delay, latencies, drain, failed, command_s, library_s)
        assert documents(desk) == args.files, f"lost files: {args.files - documents(desk)}"
        assert failed == 0 and len(latencies) == args.files
        ratio = (drain - args.delay) / command_s
        assert ratio <= TARGET_RATIO, f"drain is {ratio:.2f}x `dunning ingest`"
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def report(
    n: int,
    kind: str,
    delay: float,
    latencies: list[float],
    drain: float,
    failed: int,
    command_s: float,
    library_s: float,
) -> None:
    q = statistics.quantiles(latencies, n=100)
    work = drain - delay
    print(f"{n} small {kind} files dropped at once; stability delay {delay:g} s")
    print(f"  time-to-archived after the delay: p50 {q[49]:.2f} s   p95 {q[94]:.2f} s")
    print(f"  watcher drain: {drain:.2f} s ({work:.2f} s after the delay; {n / work:.0f} files/s)")
    print(f"  dunning ingest (command, startup included): {command_s:.2f} s")
    print(f"  ingest_paths (library, in process):          {library_s:.2f} s")
    print(f"  ratio drain-after-delay / dunning ingest: {work / command_s:.2f}x (target <= 1.2x)")
    print(f"  ratio drain-after-delay / ingest_paths:   {work / library_s:.2f}x")
    print(f"  lost: {n - len(latencies)}, not archived: {failed}")


if __name__ == "__main__":
    main()
