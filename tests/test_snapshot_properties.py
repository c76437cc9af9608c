"""Properties of snapshots and payer matching, over real SQLite desks."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.desk import init_desk
from dunning.ingest.pipeline import ingest_paths

HEADER = "客户编号,客户名称,发票号码,开票日期,到期日,应收金额,已收金额\n"
NAMES = {"C1": "杭州甲有限公司", "C2": "宁波乙有限公司", "C3": "绍兴丙有限公司"}
AS_OF = dt.date(2026, 6, 30)

invoice = st.tuples(
    st.sampled_from(sorted(NAMES)),
    st.integers(0, 60),  # day offset from 2025-11-01
    st.integers(1, 99999),  # amount in yuan
)


def write(path: Path, rows: dict[str, tuple[str, int, int]]) -> Path:
    lines = [f"应收账款台账 {path.stem}\n", HEADER]  # the title keeps two exports apart
    for no, (code, offset, amount) in rows.items():
        day = dt.date(2025, 11, 1) + dt.timedelta(days=offset)
        lines.append(f"{code},{NAMES[code]},{no},{day},{day + dt.timedelta(days=30)},{amount},0\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.dictionaries(
        st.from_regex(r"INV[0-9]{3}", fullmatch=True), invoice, min_size=1, max_size=12
    ),
    kept=st.data(),
)
def test_a_shrinking_export_holds_exactly_what_it_dropped_in_its_customers_and_period(
    first: dict[str, tuple[str, int, int]], kept: st.DataObject
) -> None:
    second = {k: v for k, v in first.items() if kept.draw(st.booleans(), label=k)}
    if not second:
        second = dict(list(first.items())[:1])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        desk = init_desk(root / "desk")
        ingest_paths(desk, [write(root / "w1.csv", first)])
        report = ingest_paths(desk, [write(root / "w2.csv", second)])
        assert report.outcomes[0].status == "archived"
        covered = {v[0] for v in second.values()}
        start = min(v[1] for v in second.values())
        end = max(v[1] for v in second.values())
        expected = {
            no
            for no, (code, offset, _) in first.items()
            if no not in second and code in covered and start <= offset <= end
        }
        with open_archive(desk.db_path) as db:
            held = {
                r[0] for r in db.execute("SELECT invoice_no FROM invoices WHERE state = 'vanished'")
            }
            total = db.execute("SELECT count(*) FROM invoices").fetchone()[0]
            balances = {
                a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))
            }
        assert held == expected
        assert total == len(first)  # nothing deleted
        assert len(report.outcomes[0].notes) == len(expected)
        counted: dict[str, Decimal] = {}
        for no, (code, _, amount) in first.items():
            if no not in held:
                counted[code] = counted.get(code, Decimal(0)) + amount
        assert {c: b for c, b in balances.items() if b} == {c: b for c, b in counted.items() if b}


VARIANTS = [
    "{core}有限公司",
    "{core}有限责任公司",
    "（{core}）有限公司",
    "{core} 有限公司上海分公司",
    "{core}",
]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["杭州甲", "宁波乙", "陌生丁", "苏州戊"]),
            st.sampled_from(VARIANTS),
            st.integers(1, 50000),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_every_payment_row_is_a_payment_or_an_unmatched_receipt_and_no_yuan_is_lost(
    rows: list[tuple[str, str, int]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        desk = init_desk(root / "desk")
        ledger = root / "台账.csv"
        ledger.write_text(
            HEADER
            + "C1,杭州甲有限公司,INV1,2025-11-01,2025-12-01,100000,0\n"
            + "C2,宁波乙有限公司,INV2,2025-11-01,2025-12-01,100000,0\n"
            + "C5,苏州戊有限公司,INV5,2025-11-01,2025-12-01,100000,0\n"
            + "C6,苏州戊股份有限公司,INV6,2025-11-01,2025-12-01,100000,0\n",
            encoding="utf-8",
        )
        ingest_paths(desk, [ledger])
        body = "付款单位,回款日期,回款金额\n" + "".join(
            f"{form.format(core=core)},2025-12-{1 + i % 28:02d},{amount}\n"
            for i, (core, form, amount) in enumerate(rows)
        )
        (root / "回款.csv").write_text(body, encoding="utf-8")
        report = ingest_paths(desk, [root / "回款.csv"])
        assert report.outcomes[0].status == "archived", report.outcomes[0].reason
        with open_archive(desk.db_path) as db:
            paid = db.execute(
                "SELECT count(*), COALESCE(sum(amount_fen), 0) FROM payments"
            ).fetchone()
            waiting = db.execute(
                "SELECT count(*), COALESCE(sum(amount_fen), 0) FROM unmatched_payments"
            ).fetchone()
            customers = db.execute("SELECT count(*) FROM customers").fetchone()[0]
            read = db.execute("SELECT rows_read FROM ledger_imports ORDER BY id DESC").fetchone()[0]
        assert customers == 4  # a payer never becomes a customer
        assert paid[0] + waiting[0] == len(rows) == read
        assert paid[1] + waiting[1] == sum(a for *_, a in rows) * 100
        # 杭州甲/宁波乙 in any legal form or with a branch is always attached.
        attached = sum(
            1 for core, form, _ in rows if core in ("杭州甲", "宁波乙") and form != "{core}"
        )
        assert paid[0] >= attached
