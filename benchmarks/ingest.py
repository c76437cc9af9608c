"""`dunning ingest` of 150 three-page Chinese contracts beside a bare single-process pypdf loop.

Targets (issue 21): ratio (bare / ours) of at least 2.5 on 2 cores — ours does more (hashing,
the fsynced store copy, normalisation, garble scoring, metadata, the search index, group
commits), but reads text layers with PDFium in worker processes; and the watcher's drain of
the same files (less its stability delay) within 1.2x of `dunning ingest`.

    .venv/bin/python benchmarks/ingest.py [--contracts 150] [--dir FOLDER]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import pypdfium2 as pdfium
from pdf_factory import make_text_pdf
from watch import bench_watcher

from dunning.archive import store
from dunning.archive.db import open_archive
from dunning.desk import init_desk
from dunning.ingest.pipeline import ingest_paths

TARGET = 2.5
WATCH_TARGET = 1.2
WATCH_DELAY_S = 0.5
RUNS = 5  # best of: this 2-core VM's timings vary by a third from one run to the next
CITIES = ["杭州", "宁波", "苏州", "上海", "南京", "温州", "合肥", "无锡", "绍兴", "嘉兴"]
GOODS = ["数控机床", "工业机器人", "液压系统", "电气控制柜", "输送设备", "检测仪器"]
CLAUSES = [
    "买方应于每批货物验收合格并收到增值税专用发票后三十日内支付该批货款。",
    "合同总价的百分之五作为质保金，于质保期满且无质量争议后十五日内无息退还。",
    "买方逾期付款的，每逾期一日应按逾期金额的万分之五向卖方支付违约金。",
    "因不可抗力不能履行合同的，根据不可抗力的影响，部分或者全部免除责任。",
    "本合同履行过程中发生争议，双方应协商解决；协商不成的，提交卖方所在地人民法院诉讼解决。",
    "卖方保证所供货物为全新、未使用过的原装产品，并符合国家标准及合同约定的技术规格。",
]


def contract_pages(n: int, rnd: random.Random) -> list[str]:
    city, goods = rnd.choice(CITIES), rnd.choice(GOODS)
    head = (
        f"工业品买卖合同\n合同编号：HT-2025-{n:04d}\n买方（甲方）：{city}{n:03d}贸易有限公司\n"
        f"卖方（乙方）：示例贸易有限公司\n签订日期：2025年{rnd.randint(1, 12)}月{rnd.randint(1, 28)}日\n"
        f"合同总价：人民币{rnd.randint(10_000, 9_000_000):,}.00元\n标的：{goods}"
    )
    body = ["\n".join(rnd.sample(CLAUSES, len(CLAUSES)) * 3) for _ in range(2)]
    return [head + "\n" + "\n".join(CLAUSES), *body]


def bare_loop(files: list[Path]) -> float:
    t0 = time.perf_counter()
    for path in files:
        for page in PdfReader(path).pages:
            page.extract_text()
    return time.perf_counter() - t0


def bare_pdfium_loop(files: list[Path]) -> float:
    """The same loop with PDFium: what the extraction itself can give."""
    t0 = time.perf_counter()
    for path in files:
        doc = pdfium.PdfDocument(path)
        for index in range(len(doc)):
            doc[index].get_textpage().get_text_bounded()
        doc.close()
    return time.perf_counter() - t0


def split_loop(files: list[Path]) -> float:
    """The bare loop on two processes, half the files each: the most two cores can give."""
    return _on_two_processes(bare_loop, files)


def least_work(files: list[Path], store_dir: Path) -> float:
    """What any archiving of a text PDF must do, and no more: hash it, read its text with
    PDFium, copy it into the store durably (store.put: temp file, fsync, rename, fsync of
    the folder). No encryption or page-tree check, no normalising or scoring, no database,
    no search index."""
    t0 = time.perf_counter()
    for path in files:
        digest = store.sha256_file(path)
        doc = pdfium.PdfDocument(path)
        for index in range(len(doc)):
            doc[index].get_textpage().get_text_bounded()
        doc.close()
        store.put(store_dir, path, digest)
    return time.perf_counter() - t0


def _on_two_processes(loop: Callable[..., float], files: list[Path], *args: Any) -> float:
    ctx = multiprocessing.get_context("fork")
    t0 = time.perf_counter()
    halves = [ctx.Process(target=loop, args=(files[i::2], *args)) for i in range(2)]
    for p in halves:
        p.start()
    for p in halves:
        p.join()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=150)
    parser.add_argument("--dir", type=Path, help="where the desks go (default: temp)")
    args = parser.parse_args()
    rnd = random.Random(11)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp) / "contracts"
        folder.mkdir()
        files = [
            make_text_pdf(folder / f"HT-2025-{n:04d}.pdf", contract_pages(n, rnd))
            for n in range(args.contracts)
        ]
        # Best of RUNS for each: the machine's other work only ever adds time.
        bare = min(bare_loop(files) for _ in range(RUNS))
        fast = min(bare_pdfium_loop(files) for _ in range(RUNS))
        ceiling = min(split_loop(files) for _ in range(RUNS))
        floor = min(
            _on_two_processes(least_work, files, Path(tmp) / f"store{n}") for n in range(RUNS)
        )
        ours = float("inf")
        for n in range(RUNS):
            desk = init_desk(Path(tmp) / f"desk{n}")
            t0 = time.perf_counter()
            report = ingest_paths(desk, [folder])
            ours = min(ours, time.perf_counter() - t0)
            with open_archive(desk.db_path) as db:
                archived = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            assert archived == args.contracts and not report.of("failed"), report.of("failed")
        drain = min(_watcher_drain(Path(tmp) / f"watch{n}", files) for n in range(RUNS))
    pages = 3 * args.contracts
    print(
        f"ingest of {args.contracts} three-page Chinese contracts ({os.cpu_count()} cores,"
        f" best of {RUNS})"
    )
    print(f"  bare pypdf extract loop (1 process): {bare:6.2f} s  {pages / bare:6.1f} pages/s")
    print(f"  bare PDFium extract loop (1 process):{fast:6.2f} s  {pages / fast:6.1f} pages/s")
    print(
        f"  bare loop split over 2 processes:     {ceiling:6.2f} s  (ceiling ratio {bare / ceiling:.2f})"
    )
    print(
        f"  least work, 2 processes:              {floor:6.2f} s  (ratio {bare / floor:.2f}: hash,"
        " PDFium text, fsynced store copy; no checks, no database)"
    )
    print(f"  dunning ingest (workers, store, db):  {ours:6.2f} s  {pages / ours:6.1f} pages/s")
    print(f"  watcher drain (after its delay):      {drain:6.2f} s")
    verdict = "ok" if bare / ours >= TARGET else f"UNDER TARGET by {TARGET - bare / ours:.2f}"
    print(f"  ratio bare/ours: {bare / ours:.2f} (target >= {TARGET}): {verdict}")
    verdict = "ok" if drain / ours <= WATCH_TARGET else "OVER TARGET"
    print(f"  ratio drain/ingest: {drain / ours:.2f} (target <= {WATCH_TARGET}): {verdict}")


def _watcher_drain(root: Path, files: list[Path]) -> float:
    """The watcher archiving the same files dropped at once into its inbox (less its delay)."""
    staging = root / "staging"
    staging.mkdir(parents=True)
    for path in files:
        shutil.copyfile(path, staging / path.name)
    desk = init_desk(root / "desk")
    _latencies, drain, failed = bench_watcher(desk, staging, WATCH_DELAY_S)
    assert failed == 0, f"{failed} files not archived by the watcher"
    return drain - WATCH_DELAY_S


if __name__ == "__main__":
    main()
