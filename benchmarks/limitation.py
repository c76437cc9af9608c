"""`dunning limitation` against `dunning aging` over the same generated desk, best of N.

Both read every invoice and payment and allocate them; the limitation report also reads the
letters with their delivery state and the collection log and works out each invoice's period.
The figure is the ratio limitation / aging, measured in the same run (target: under 2x).

    .venv/bin/python benchmarks/limitation.py [--customers N] [--invoices N] [--runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
from pathlib import Path

from workflow import AS_OF, add_history, timed, write_ledgers

from dunning.archive.db import open_archive, write_transaction
from dunning.desk import Desk, init_desk
from dunning.ingest.pipeline import ingest_paths

TARGET_RATIO = 2.0


def add_deliveries(desk: Desk) -> int:
    """Half the letters sent, a third of those delivered with a date."""
    rnd = random.Random(17)
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        letters = conn.execute("SELECT id, issued_on FROM letters").fetchall()
        for letter_id, issued in letters[::2]:
            sent = dt.date.fromisoformat(issued) + dt.timedelta(days=1)
            delivered = sent + dt.timedelta(days=2) if rnd.random() < 0.33 else None
            conn.execute(
                "INSERT INTO letter_delivery (letter_id, status, channel, tracking_no, sent_on,"
                " delivered_on, updated_at) VALUES (?, ?, 'ems', ?, ?, ?, ?)",
                [
                    letter_id,
                    "delivered" if delivered else "sent",
                    f"11{letter_id:011d}",
                    sent.isoformat(),
                    delivered.isoformat() if delivered else None,
                    dt.datetime.now().isoformat(),
                ],
            )
        return len(letters[::2])


def best_of(runs: int, desk: Desk, *args: str) -> float:
    return min(timed(desk, *args) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        desk = init_desk(root / "desk")
        report = ingest_paths(desk, write_ledgers(root, args.customers, args.invoices))
        if report.of("failed"):
            raise SystemExit(f"ingest failed: {report.of('failed')[0].reason}")
        add_history(desk, args.customers)
        sent = add_deliveries(desk)
        # Three years on, most invoices are close to lapsing: the report lists nearly all.
        as_of = (AS_OF + dt.timedelta(days=3 * 365 - 90)).isoformat()
        aging_s = best_of(args.runs, desk, "aging", "--as-of", as_of, "--json")
        limitation_s = best_of(
            args.runs, desk, "limitation", "--as-of", as_of, "--within", "100000", "--json"
        )
    ratio = limitation_s / aging_s
    verdict = "ok" if ratio < TARGET_RATIO else "OVER TARGET"
    print(
        f"limitation over {args.customers:,} customers, {args.invoices:,} invoices,"
        f" {sent:,} letters sent (best of {args.runs})"
    )
    print(f"  baseline dunning aging --json:       {aging_s:6.2f} s")
    print(f"  dunning limitation --json (all):     {limitation_s:6.2f} s")
    print(
        f"  ratio limitation / aging:            {ratio:6.2f}x  (target < {TARGET_RATIO}x): {verdict}"
    )


if __name__ == "__main__":
    main()
