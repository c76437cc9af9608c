"""The zip guard's cost beside parsing the ledger it guards (same workbook, same run).

Target: checking an XLSX before parsing costs under 10% of parsing it.

    .venv/bin/python benchmarks/zipguard.py [--rows 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ledger_parse import parse, write_workbook

from dunning.ingest.zipguard import check_zip


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.xlsx"
        write_workbook(path, args.rows)
        guard = best_of(args.repeat, lambda: check_zip(path))
        parsing = best_of(args.repeat, lambda: parse(path))
    size = path.stat().st_size if path.exists() else 0
    print(f"workbook: {args.rows} rows{f', {size} bytes' if size else ''}")
    print(f"parse (baseline): {parsing * 1000:8.1f} ms")
    print(f"zip guard:        {guard * 1000:8.1f} ms  ({guard / parsing:.1%} of parsing)")
    print(f"target: under 10% of parsing: {'met' if guard < parsing / 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
