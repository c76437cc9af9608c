"""Letter packs end to end: plan, render, register, manifest, PDF, the CLI and the demo."""

from __future__ import annotations

import datetime as dt
import json
from itertools import pairwise
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from tooling import require_tool

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.errors import DunningError
from dunning.ingest.pipeline import ingest_paths
from dunning.letters.pack import plan_pack, write_pack
from dunning.letters.pdf import soffice_path

AS_OF = dt.date(2025, 6, 30)
HOSTILE = "A&B <HK> {{ 7*7 }} 贸易"
LEDGER = f"""客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额
C001,杭州明远贸易有限公司,HT-2025-0001,FP0001,2025-01-05,2025-02-04,10500.00,0
C001,杭州明远贸易有限公司,HT-2025-0001,FP0002,2025-02-10,2025-03-12,5909.02,0
C002,{HOSTILE},HT-2025-0002,FP0003,2025-05-01,2025-05-31,16409.02,0
C003,零头有限公司,,FP0004,2025-05-01,2025-05-31,99.00,0
C004,争议有限公司,,FP0005,2025-01-01,2025-01-31,5000.00,0
"""
MASTER = """客户编号,客户名称,联系地址,联系人
C001,杭州明远贸易有限公司,杭州市拱墅区莫干山路188号,王建国
C004,争议有限公司,某地,某人
"""


@pytest.fixture
def loaded(desk: Desk, tmp_path: Path) -> Desk:
    return load_customers(desk, tmp_path)


def load_customers(desk: Desk, tmp_path: Path) -> Desk:
    """C001 and C002 due a first letter, C003 within the tolerance, C004 disputed."""
    (tmp_path / "ledger.csv").write_text(LEDGER, encoding="utf-8")
    (tmp_path / "master.csv").write_text(MASTER, encoding="utf-8")
    report = ingest_paths(desk, [tmp_path / "ledger.csv", tmp_path / "master.csv"])
    assert not report.of("failed"), report.of("failed")
    with open_archive(desk.db_path) as db:
        db.conn.execute("UPDATE customers SET status = 'disputed' WHERE code = 'C004'")
    return desk


def all_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        for table in section.header.tables:
            parts.extend(c.text for r in table.rows for c in r.cells)
    # references and account numbers print with word joiners: never broken (issue 22)
    return "\n".join(parts).replace("\u2060", "")


def test_plan_picks_active_overdue_customers_beyond_the_tolerance(loaded: Desk) -> None:
    with open_archive(loaded.db_path) as db:
        plan = plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF)
    chosen = {c.customer.code: c.decision.next_level for c in plan.candidates}
    assert chosen == {"C001": 1, "C002": 1, "C003": None, "C004": None}
    reasons = {c.customer.code: c.decision.reason for c in plan.candidates}
    assert "未超过容差" in reasons["C003"]
    assert "有争议" in reasons["C004"]
    warned = {c.customer.code for c in plan.candidates if c.warnings}
    assert "C002" in warned and "C001" not in warned


def test_pack_writes_registers_and_prints_the_right_letters(loaded: Desk) -> None:
    with open_archive(loaded.db_path) as db:
        result = write_pack(
            loaded, db, plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF)
        )
        rows = db.execute("SELECT ref, customer_code, level, amount_fen FROM letters").fetchall()
        logged = db.execute("SELECT letter_ref FROM collection_log WHERE kind='letter'").fetchall()
    assert sorted(rows) == [
        ("CS-2025-000001", "C001", 1, 1640902),
        ("CS-2025-000002", "C002", 1, 1640902),
    ]
    assert sorted(r[0] for r in logged) == ["CS-2025-000001", "CS-2025-000002"]
    c001 = next(lt for lt in result.letters if lt.customer == "C001")
    assert [Path(f).name for f in c001.files] == [
        "对账单-statement.docx",
        "提醒函-reminder.docx",
        "签收回执-receipt.docx",
    ]
    statement = all_text(result.pack_dir / c001.files[0])
    for expected in (
        "杭州明远贸易有限公司",
        "CS-2025-000001",
        "FP0001",
        "FP0002",
        "16,409.02",
        "壹万陆仟肆佰零玖元零贰分",
        "10,500.00",
        "2025年6月30日",
        "HT-2025-0001",
    ):
        assert expected in statement, expected
    reminder = all_text(result.pack_dir / c001.files[1])
    assert "2025年7月10日" in reminder  # the deadline: as-of + 10 days
    assert "1202 0000 0000 0000 000" in reminder  # the bank account from dunning.toml
    manifest = json.loads((result.pack_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {m["ref"] for m in manifest} == {"CS-2025-000001", "CS-2025-000002"}
    assert (result.pack_dir / "manifest.csv").read_text(encoding="utf-8-sig").startswith("ref,")


def test_hostile_customer_name_prints_literally(loaded: Desk) -> None:
    with open_archive(loaded.db_path) as db:
        result = write_pack(
            loaded,
            db,
            plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF, customers=["C002"]),
        )
    letter = result.letters[0]
    text = all_text(result.pack_dir / letter.files[0])
    assert HOSTILE in text
    assert "49 贸易" not in text
    assert "16,409.02" in text


def test_gap_then_escalation_and_references_keep_counting(loaded: Desk) -> None:
    with open_archive(loaded.db_path) as db:
        write_pack(
            loaded,
            db,
            plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF, customers=["C001"]),
        )
        inside_gap = plan_pack(
            db, loaded.config, allow_no_address=True, as_of=AS_OF + dt.timedelta(days=13)
        )
        assert (
            next(c for c in inside_gap.candidates if c.customer.code == "C001").decision.next_level
            is None
        )
        later = write_pack(
            loaded,
            db,
            plan_pack(
                db,
                loaded.config,
                allow_no_address=True,
                as_of=AS_OF + dt.timedelta(days=14),
                customers=["C001"],
            ),
        )
    assert later.letters[0].level == 2
    assert later.letters[0].ref == "CS-2025-000002"
    assert [Path(f).name for f in later.letters[0].files][1] == "催款函-demand.docx"


def test_a_broken_template_fails_the_pack_before_anything_is_written(loaded: Desk) -> None:
    statement = loaded.templates / "statement.docx"
    document = docx.Document(str(statement))
    document.add_paragraph("{{ customer.nmae }}")
    document.save(str(statement))
    out = loaded.out / "broken"
    with open_archive(loaded.db_path) as db:
        with pytest.raises(DunningError, match=r"statement\.docx"):
            write_pack(
                loaded,
                db,
                plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF),
                out_dir=out,
            )
        assert db.execute("SELECT count(*) FROM letters").fetchone()[0] == 0
    assert not out.exists()


def test_cli_pack_dry_run_writes_nothing_and_json_shape(loaded: Desk, runner: CliRunner) -> None:
    dry = runner.invoke(
        main,
        [
            "--desk",
            str(loaded.root),
            "pack",
            "--as-of",
            "2025-06-30",
            "--dry-run",
        ],
    )
    assert dry.exit_code == 0, dry.output
    # C002 has no address on file: no letter, and the reason says so (issue 22)
    assert "4 个客户中 1 个会收到函件" in dry.stdout
    assert "没有地址，函件未生成" in dry.stdout
    assert not any(loaded.out.iterdir())
    real = runner.invoke(
        main,
        [
            "--desk",
            str(loaded.root),
            "pack",
            "--allow-no-address",
            "--as-of",
            "2025-06-30",
            "--customer",
            "C001",
            "--level",
            "3",
            "--json",
        ],
    )
    assert real.exit_code == 0, real.output
    data = json.loads(real.stdout)
    assert {"pack", "letters", "pdf"} <= set(data)  # fields may be added (SPEC §4)
    assert data["pdf"] is None
    (letter,) = data["letters"]
    assert (letter["customer"], letter["level"], letter["amount"]) == ("C001", 3, "16409.02")
    assert all((Path(data["pack"]) / f).is_file() for f in letter["files"])
    shown = json.loads(
        runner.invoke(main, ["--desk", str(loaded.root), "customer", "C001", "--json"]).stdout
    )
    assert shown["letters"][0]["ref"] == letter["ref"]
    assert shown["letters"][0]["status"] == "issued"


def test_pdf_pack_has_every_page_and_the_text(loaded: Desk) -> None:
    require_tool(
        "LibreOffice",
        lambda: soffice_path() is not None,
        install="apt-get install libreoffice-writer-nogui fonts-wqy-microhei",
    )
    with open_archive(loaded.db_path) as db:
        result = write_pack(
            loaded, db, plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF), pdf=True
        )
    assert result.pdf is not None and result.pdf.is_file()
    reader = PdfReader(str(result.pdf))
    per_customer = [
        PdfReader(str(result.pack_dir / Path(lt.files[0]).parent / f"{lt.ref}.pdf"))
        for lt in result.letters
    ]
    assert len(reader.pages) == sum(len(r.pages) for r in per_customer) >= 6
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "")
    assert "CS-2025-000001" in text and "CS-2025-000002" in text
    assert "壹万陆仟肆佰零玖元零贰分" in text


def test_pdf_without_libreoffice_is_one_sentence(
    loaded: Desk, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    result = runner.invoke(
        main,
        [
            "--desk",
            str(loaded.root),
            "pack",
            "--allow-no-address",
            "--as-of",
            "2025-06-30",
            "--pdf",
        ],
    )
    assert result.exit_code == 1
    assert "没有安装 LibreOffice，无法生成 PDF" in result.stderr
    assert not any(loaded.out.iterdir())


@pytest.mark.slow  # seconds of real processes or big files
def test_demo_builds_a_desk_with_a_pack(tmp_path: Path, runner: CliRunner) -> None:
    target = tmp_path / "demo-desk"
    result = runner.invoke(main, ["demo", str(target), "--as-of", "2025-11-30"])
    assert result.exit_code == 0, result.output
    assert "；失败 0 个" in result.stdout
    with open_archive(target / "archive.db") as db:
        kinds = dict(db.execute("SELECT kind, count(*) FROM documents GROUP BY kind").fetchall())
        levels = {r[0] for r in db.execute("SELECT level FROM letters")}
        linked = db.execute(
            "SELECT count(*) FROM contracts WHERE document_id IS NOT NULL"
        ).fetchone()[0]
    assert kinds == {"ledger": 3, "contract": 5}
    assert linked == 5
    assert {1, 2, 3, 4} <= levels
    again = runner.invoke(main, ["demo", str(target)])
    assert again.exit_code == 1 and "--replace" in again.stderr
    assert (
        runner.invoke(main, ["demo", str(target), "--replace", "--as-of", "2025-11-30"]).exit_code
        == 0
    )


@pytest.mark.slow  # seconds of real processes or big files
def test_a_quarter_of_weekly_runs_escalates_one_level_per_letter(loaded: Desk) -> None:
    """As-of dates stepping weekly: C001 (oldest due 2025-02-04) climbs, C004 stays disputed."""
    sent: list[tuple[str, int]] = []
    with open_archive(loaded.db_path) as db:
        for week in range(13):
            day = dt.date(2025, 2, 5) + dt.timedelta(weeks=week)
            plan = plan_pack(
                db, loaded.config, allow_no_address=True, as_of=day, customers=["C001", "C004"]
            )
            result = write_pack(loaded, db, plan, out_dir=loaded.out / f"w{week:02d}")
            sent.extend((str(day), lt.level) for lt in result.letters if lt.customer == "C001")
            assert all(lt.customer != "C004" for lt in result.letters)
        levels = [
            r[0]
            for r in db.execute(
                "SELECT level FROM letters WHERE customer_code = 'C001' ORDER BY issued_on"
            )
        ]
    # A letter every 14 days (never inside the gap), each at most one level above the last.
    days = [dt.date.fromisoformat(d) for d, _ in sent]
    assert all((b - a).days >= 14 for a, b in pairwise(days))
    assert all(b - a <= 1 for a, b in pairwise(levels))
    # 1, 15, 29 days overdue: reminders; 43, 57: demands; 71, 85: final notices.
    assert levels == [lv for _, lv in sent] == [1, 1, 1, 2, 2, 3, 3]


def test_two_packs_in_the_same_second_get_their_own_folders(loaded: Desk) -> None:
    with open_archive(loaded.db_path) as db:
        first = write_pack(
            loaded,
            db,
            plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF, customers=["C001"]),
        )
        second = write_pack(
            loaded,
            db,
            plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF, customers=["C002"]),
        )
    assert first.pack_dir != second.pack_dir
    for result in (first, second):
        assert result.pack_dir is not None
        manifest = json.loads((result.pack_dir / "manifest.json").read_text(encoding="utf-8"))
        assert [m["ref"] for m in manifest] == [lt.ref for lt in result.letters]


def test_a_pack_with_nobody_due_writes_nothing(loaded: Desk, runner: CliRunner) -> None:
    result = runner.invoke(
        main,
        [
            "--desk",
            str(loaded.root),
            "pack",
            "--allow-no-address",
            "--as-of",
            "2025-06-30",
            "--customer",
            "C003",
        ],
    )
    assert result.exit_code == 0
    assert "没有客户需要发函" in result.stdout
    assert not any(loaded.out.iterdir())


def test_enclosures_and_the_missing_contract_copy_warning(loaded: Desk) -> None:
    with open_archive(loaded.db_path) as db:
        plan = plan_pack(
            db, loaded.config, allow_no_address=True, as_of=AS_OF, customers=["C001"], level=4
        )
        (cand,) = plan.selected
        assert any("没有归档的合同" in w for w in cand.warnings)
        result = write_pack(loaded, db, plan)
    letter = all_text(result.pack_dir / result.letters[0].files[0])  # type: ignore[operator]
    assert "附件：对账单、到访回执单" in letter  # no archived copy: not listed
    assert "律师律师" not in letter


def test_customer_record_shows_what_each_invoice_was_paid(
    loaded: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "pay.csv").write_text(
        "客户编号,回款日期,回款金额\nC001,2025-03-01,12000\n", encoding="utf-8"
    )
    ingest_paths(loaded, [tmp_path / "pay.csv"])
    out = runner.invoke(
        main, ["--desk", str(loaded.root), "customer", "C001", "--as-of", "2025-06-30", "--json"]
    )
    invoices = {i["invoice"]: i for i in json.loads(out.stdout)["invoices"]}
    assert (invoices["FP0001"]["received"], invoices["FP0001"]["open"]) == ("10500.00", "0.00")
    assert (invoices["FP0002"]["received"], invoices["FP0002"]["open"]) == ("1500.00", "4409.02")


# -- planned once, or again: what changed between the plan and the registration -----------------


def _planned_twice(monkeypatch: pytest.MonkeyPatch) -> list[dt.date]:
    """Records each plan `write_pack` makes again inside its transaction."""
    import dunning.letters.pack as packing

    again: list[dt.date] = []

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        again.append(kwargs["as_of"])
        return plan_pack(*args, **kwargs)

    monkeypatch.setattr(packing, "plan_pack", counted)
    return again


def test_an_untouched_archive_is_not_planned_twice(
    loaded: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    again = _planned_twice(monkeypatch)
    with open_archive(loaded.db_path) as db:
        result = write_pack(
            loaded, db, plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF)
        )
    assert again == []
    assert [letter.customer for letter in result.letters] == ["C001", "C002"]


def test_this_connections_own_write_after_the_plan_is_planned_again(
    loaded: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write through the very connection the plan read (no other connection's commit, so
    `data_version` stays): the letter for a customer disputed since is not registered."""
    from dunning.workflow.status import set_status

    again = _planned_twice(monkeypatch)
    with open_archive(loaded.db_path) as db:
        plan = plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF)
        set_status(db, "C002", "disputed", note="after the plan, before the pack")
        result = write_pack(loaded, db, plan)
    assert again == [AS_OF]
    assert [letter.customer for letter in result.letters] == ["C001"]
    assert any(note.startswith("C002") for note in result.notes)


def test_a_plan_read_through_another_connection_is_planned_again(
    loaded: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    again = _planned_twice(monkeypatch)
    with open_archive(loaded.db_path) as first:
        plan = plan_pack(first, loaded.config, allow_no_address=True, as_of=AS_OF)
    with open_archive(loaded.db_path) as db:
        result = write_pack(loaded, db, plan)
    assert again == [AS_OF]
    assert [letter.customer for letter in result.letters] == ["C001", "C002"]


def test_a_commit_by_another_connection_between_plan_and_pack_is_planned_again(
    loaded: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dunning.workflow.status import set_status

    again = _planned_twice(monkeypatch)
    with open_archive(loaded.db_path) as db:
        plan = plan_pack(db, loaded.config, allow_no_address=True, as_of=AS_OF)
        with open_archive(loaded.db_path) as other:
            set_status(other, "C001", "disputed", note="another clerk, another connection")
        result = write_pack(loaded, db, plan)
    assert again == [AS_OF]
    assert [letter.customer for letter in result.letters] == ["C002"]
