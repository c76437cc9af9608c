"""The generated corpus: matching precision and recall over eight bank layouts, with overlaps,
reviews that teach, and the ERP booking the same money later (SPEC §11, issue 18)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from bank_corpus import OUR_ACCOUNT, World, make_world, write_statement

from dunning.archive.accounts import aging_report
from dunning.archive.bank import review
from dunning.archive.db import open_archive, write_transaction
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths
from dunning.letters.registry import Letter, register

AS_OF = dt.date(2026, 12, 31)
# (layout, file suffix, encoding): CSV in GBK, UTF-8 and UTF-16, and XLSX.
FILES = [
    ("icbc02", ".csv", "gbk"),
    ("icbc01", ".csv", "utf-8-sig"),
    ("ccb01", ".xlsx", ""),
    ("abc01", ".csv", "utf-16"),
    ("bocom01", ".csv", "gbk"),
    ("boc01", ".xlsx", ""),
    ("cbhb02", ".xlsx", ""),
    ("cmbc01", ".csv", "gb18030"),
]


def bank_desk(desk: Desk, world: World, tmp_path: Path) -> Desk:
    toml = desk.root / "dunning.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("accounts = []", f'accounts = ["{OUR_ACCOUNT}"]'),
        encoding="utf-8",
    )
    ledger = tmp_path / "应收台账.csv"
    ledger.write_text(world.invoice_csv(), encoding="utf-8")
    desk = Desk(desk.root)
    assert ingest_paths(desk, [ledger]).outcomes[0].status == "archived"
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        for ref, code in world.letters.items():
            register(
                conn,
                Letter(0, ref, code, 1, "reminder", False, AS_OF, dt.date(2026, 3, 1), 100, 100,
                       None, (), "issued", None, None),
            )  # fmt: skip
    return desk


def statements(world: World, tmp_path: Path, overlap: int = 6) -> list[Path]:
    """The transactions cut into one statement per layout, each overlapping the one before."""
    n = len(FILES)
    size = len(world.txns) // n
    paths = []
    for k, (layout, suffix, encoding) in enumerate(FILES):
        lo = max(0, k * size - overlap)
        hi = len(world.txns) if k == n - 1 else (k + 1) * size
        path = tmp_path / f"{k:02d}_{layout}{suffix}"
        paths.append(write_statement(layout, world.txns[lo:hi], path, encoding=encoding or "gbk"))
    return paths


def confusion(desk: Desk, world: World, seen: set[int]) -> Counter[tuple[str, str]]:
    """(truth, outcome) counts for receipts not yet counted: truth is customer / not customer,
    the outcome a status plus right or wrong customer."""
    truth = {t.serial: t for t in world.txns if t.incoming}
    table: Counter[tuple[str, str]] = Counter()
    with open_archive(desk.db_path) as db:
        for r in review.receipts(db):
            if r.id in seen:
                continue
            seen.add(r.id)
            t = truth[_serial(r, world)]
            kind = "customer" if t.truth else "other"
            right = r.customer == t.truth
            outcome = (
                r.status if r.status == "unmatched" else f"{r.status}-{'ok' if right else 'wrong'}"
            )
            table[(kind, outcome)] += 1
    return table


def _serial(r: review.BankReceipt, world: World) -> str:
    if r.serial:
        return r.serial
    # Layouts without a serial: find the transaction by time and amount.
    for t in world.txns:
        if (
            t.incoming
            and t.amount == r.amount
            and t.on.strftime("%Y-%m-%d %H:%M:%S") == r.received_at
        ):
            return t.serial
    raise AssertionError(f"receipt {r.id} matches no transaction")


def review_by_truth(desk: Desk, world: World) -> Counter[str]:
    """A clerk works through the queue, knowing the truth."""
    truth = {t.serial: t for t in world.txns if t.incoming}
    done: Counter[str] = Counter()
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        for r in review.receipts(conn, status=review.WAITING):
            t = truth[_serial(r, world)]
            if t.truth is None:
                review.not_customer(conn, r.id, actor="clerk")
                done["not_customer"] += 1
            elif r.customer == t.truth:
                review.accept(conn, r.id, actor="clerk")
                done["accept"] += 1
            else:
                review.reassign(conn, r.id, t.truth, actor="clerk")
                done["reassign"] += 1
    return done


def print_table(table: Counter[tuple[str, str]]) -> None:
    outcomes = ["certain-ok", "certain-wrong", "probable-ok", "probable-wrong", "unmatched"]
    print("\ntruth \\ outcome   " + "  ".join(f"{o:>14}" for o in outcomes))
    for kind in ("customer", "other"):
        print(f"{kind:<17} " + "  ".join(f"{table[(kind, o)]:>14}" for o in outcomes))


def expected_balances(world: World) -> dict[str, Decimal]:
    """Every invoice less every receipt that is the customer's money (all applied by now)."""
    owed: dict[str, Decimal] = {c.code: Decimal("0.00") for c in world.customers}
    for c in world.customers:
        for inv in c.invoices:
            owed[c.code] += inv.amount
    for t in world.txns:
        if t.incoming and t.truth:
            owed[t.truth] -= t.amount
    return owed


@pytest.mark.parametrize("seed", [18, 1801])
def test_corpus_precision_recall_and_no_double_count(
    desk: Desk, tmp_path: Path, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(seed)
    desk = bank_desk(desk, world, tmp_path)
    paths = statements(world, tmp_path)
    seen: set[int] = set()
    table: Counter[tuple[str, str]] = Counter()
    half = len(paths) // 2
    report = ingest_paths(desk, paths[:half])
    assert [o.status for o in report.outcomes] == ["archived"] * half, report.to_json()
    table += confusion(desk, world, seen)
    review_by_truth(desk, world)
    report = ingest_paths(desk, paths[half:])
    assert [o.status for o in report.outcomes] == ["archived"] * (len(paths) - half), (
        report.to_json()
    )
    table += confusion(desk, world, seen)
    with capsys.disabled():
        print_table(table)
    incoming = [t for t in world.txns if t.incoming]
    assert sum(table.values()) == len(incoming)  # every receipt once: none lost, none twice
    certain = table[("customer", "certain-ok")] + table[("other", "certain-ok")]
    certain_all = certain + table[("customer", "certain-wrong")] + table[("other", "certain-wrong")]
    probable_ok = table[("customer", "probable-ok")]
    probable_all = (
        probable_ok
        + table[("customer", "probable-wrong")]
        + table[("other", "probable-wrong")]
        + table[("other", "probable-ok")]
    )
    assert certain == certain_all, "a certain match went to the wrong customer"
    assert probable_ok >= 0.95 * probable_all
    customers = sum(n for (kind, _), n in table.items() if kind == "customer")
    found = sum(n for (kind, o), n in table.items() if kind == "customer" and o != "unmatched")
    assert found >= 0.9 * customers
    review_by_truth(desk, world)
    with open_archive(desk.db_path) as db:
        got = {
            a.customer: a.balance
            for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90), idle=True)
        }
    want = expected_balances(world)
    assert {c: got.get(c, Decimal("0.00")) for c in want} == want


def test_the_erp_booking_the_same_money_later_never_counts_it_twice(
    desk: Desk, tmp_path: Path
) -> None:
    world = make_world(7, customers=12, receipts=80)
    desk = bank_desk(desk, world, tmp_path)
    paths = statements(world, tmp_path)
    assert all(o.status == "archived" for o in ingest_paths(desk, paths).outcomes)
    review_by_truth(desk, world)
    with open_archive(desk.db_path) as db:
        before = {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30,))}
        applied = review.receipts(db, status=("certain", "confirmed"))
    assert len(applied) >= 20
    # Finance books every other receipt two days later; half of them quote the bank serial.
    rows = ["客户编号,回款日期,回款金额,收款单号"]
    booked = applied[::2]
    for n, r in enumerate(booked):
        on = r.received_on + dt.timedelta(days=2)
        rows.append(f"{r.customer},{on},{r.amount},{r.serial if n % 2 else ''}")
    erp = tmp_path / "回款明细.csv"
    erp.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert ingest_paths(desk, [erp]).outcomes[0].status == "archived"
    with open_archive(desk.db_path) as db:
        after = {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30,))}
        now = {r.id: r for r in review.receipts(db)}
        unbooked = review.receipts(db, unbooked=True)
    assert after == before
    assert all(now[r.id].sources == ("bank", "erp") for r in booked)
    assert {r.id for r in unbooked} == {r.id for r in applied} - {r.id for r in booked}
    # The same ERP export again, and the bank statements again: still nothing twice.
    erp2 = tmp_path / "回款明细2.csv"
    erp2.write_text("\n".join([rows[0], *reversed(rows[1:])]) + "\n", encoding="utf-8")
    assert ingest_paths(desk, [erp2]).outcomes[0].status == "archived"
    with open_archive(desk.db_path) as db:
        again = {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30,))}
    assert again == before
