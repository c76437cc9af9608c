"""The case file (SPEC §13) end to end on the demo desk: papers, 证据目录, the numbered PDF.

Real LibreOffice, real pypdf, real pdftoppm: the merged PDF is opened, turned into PNGs, and its
text is checked for every exhibit and every page number.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from tooling import require_pdftoppm, require_soffice

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.dates import office_today
from dunning.demo import build_demo
from dunning.desk import Desk
from dunning.letters.case_file import build_case_file
from dunning.letters.delivery import mark_delivered, mark_sent, record_reply
from dunning.workflow.cases import CaseError, add_cost, add_stage, get_case, list_cases
from dunning.workflow.court_fees import acceptance_fee, payment_order_fee
from dunning.workflow.log import record_entry

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    require_soffice()
    desk = build_demo(tmp_path_factory.mktemp("case") / "desk", as_of=AS_OF).desk
    with open_archive(desk.db_path) as db:
        refs = [r[0] for r in db.execute(
            "SELECT ref FROM letters WHERE customer_code = 'C004' ORDER BY issued_on, ref"
        ).fetchall()]  # fmt: skip
        for n, ref in enumerate(refs[:2]):
            sent = dt.date.fromisoformat(
                db.execute("SELECT issued_on FROM letters WHERE ref = ?", [ref]).fetchone()[0]
            )
            mark_sent(db, ref, via="ems", tracking=f"EM{n}23456789CN", on=sent, today=AS_OF)
            mark_delivered(db, ref, on=sent + dt.timedelta(days=2), today=AS_OF)
        record_reply(db, refs[0], reply="agreed", on=AS_OF - dt.timedelta(days=20), today=AS_OF)
        record_entry(
            db, "C004", kind="promise", note="财务电话承诺月底付款", on=AS_OF - dt.timedelta(days=10),
            promise_amount=Decimal("5000"), promise_date=AS_OF - dt.timedelta(days=1),
        )  # fmt: skip
    return desk


def _docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                       if n.endswith(".xml"))  # fmt: skip


def test_lawsuit_case_folder(demo: Desk) -> None:
    with open_archive(demo.db_path) as db:
        built = build_case_file(demo, db, "C004", kind="lawsuit", as_of=AS_OF)
        status = db.execute("SELECT status FROM customers WHERE code = 'C004'").fetchone()[0]
    assert status == "litigation"
    case = built.case
    assert case.interest > 0 and case.principal > 0
    assert case.court_fee == acceptance_fee(case.principal + case.interest).amount
    names = [e.name for e in built.exhibits]
    assert names[0].startswith("买卖合同（HT-")
    assert any(n.startswith("增值税发票") for n in names)
    assert any(n.startswith("对账单及被告盖章回执") for n in names)
    assert sum("及送达凭证" in n for n in names) == 2
    assert any(n.startswith("被告承诺付款记录") for n in names)

    complaint, index = built.documents
    text = _docx_text(complaint)
    assert "民 事 起 诉 状" in text and "请与律师确认" in text
    assert f"{case.principal:,.2f}" in text and f"{case.interest:,.2f}" in text
    assert "÷ 365" in text and "第十八条第四款" in text  # the interest formula and its basis
    assert f"{case.court_fee:,.2f}" in text and "第十三条" in text
    _check_evidence_pdf(built.pdf, built.exhibits, built.pages, _docx_text(index))
    _nothing_names_the_software(built.folder)


def _check_evidence_pdf(pdf: Path | None, exhibits: list, pages: int, index_text: str) -> None:
    assert pdf is not None and pdf.is_file()
    reader = PdfReader(str(pdf))
    texts = [p.extract_text() or "" for p in reader.pages]
    front = len(reader.pages) - pages  # the 证据目录 comes first, unnumbered
    assert front >= 1 and pages >= len([e for e in exhibits if e.first_page])
    catalogue = re.sub(r"\s+", "", "".join(texts[:front]))
    for exhibit in exhibits:
        assert re.sub(r"\s+", "", exhibit.name)[:12] in catalogue, exhibit.name
        assert exhibit.pages in index_text
        if exhibit.first_page is None:
            continue
        for page in range(exhibit.first_page, exhibit.last_page + 1):
            assert f"第 {page} 页" in texts[front + page - 1], (exhibit.name, page)
    for n in range(1, pages + 1):
        assert f"第 {n} 页" in texts[front + n - 1]
    # the invoice list and the contract are really in the bundle
    body = re.sub(r"\s+", "", "".join(texts[front:]))
    assert "发票及欠款明细" in body and "违约责任" in body and "承诺付款记录" in body
    require_pdftoppm()
    out = pdf.parent / "png"
    out.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(out / "p")], check=True)
    assert len(list(out.glob("p-*.png"))) == len(reader.pages)


def _nothing_names_the_software(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.suffix == ".docx":
            assert "dunning" not in _docx_text(path).lower(), path.name
        elif path.suffix == ".pdf":
            reader = PdfReader(str(path))
            text = "".join(p.extract_text() or "" for p in reader.pages)
            meta = " ".join(str(v) for v in (reader.metadata or {}).values())
            assert "dunning" not in (text + meta).lower(), path.name


def test_payment_order_claims_principal_only(demo: Desk) -> None:
    with open_archive(demo.db_path) as db:
        built = build_case_file(demo, db, "C007", kind="payment_order", as_of=AS_OF, pdf=False)
    assert built.pdf is None and built.case.interest == 0
    assert built.case.court_fee == payment_order_fee(built.case.principal).amount
    text = _docx_text(built.documents[0])
    assert "支 付 令 申 请 书" in text and "第四百二十八条" in text and "被申请人" in text
    assert "利息" not in text.split("请求事项")[1].split("事实与理由")[0]


def test_stages_costs_and_recovered(demo: Desk) -> None:
    with open_archive(demo.db_path) as db:
        case = list_cases(db, "C004")[0]
        with pytest.raises(CaseError, match="早于立案日期"):
            add_stage(db, case.id, "filed", on=case.opened_on - dt.timedelta(days=1))
        add_stage(db, case.id, "filed", on=case.opened_on, note="(2025)浙0106民初123号")
        add_stage(db, "C004", "judgment", on=case.opened_on)
        add_cost(db, case.id, "lawyer", Decimal("8000"), on=case.opened_on)
        add_cost(db, case.id, "court_fee", Decimal("2712.62"), on=case.opened_on)
        with pytest.raises(CaseError):
            add_cost(db, case.id, "lawyer", Decimal("0"), on=case.opened_on)
        with pytest.raises(CaseError, match="在今天之后"):
            add_stage(db, case.id, "closed", on=office_today() + dt.timedelta(days=1))
        found = get_case(db, case.id)
    assert found.stage is not None and found.stage.stage == "judgment"
    assert found.total_costs == Decimal("10712.62")
    assert found.to_json()["stage_title"] == "判决"
    assert "第二百六十四条" in found.after_judgment and "0.0175%" in found.after_judgment


def test_case_commands(demo: Desk) -> None:
    runner = CliRunner()
    base = ["--desk", str(demo.root)]
    listed = runner.invoke(main, [*base, "case", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert '"customer": "C004"' in listed.stdout
    shown = runner.invoke(main, [*base, "case", "show", "C004"])
    assert shown.exit_code == 0 and "判决" in shown.stdout
    missing = runner.invoke(main, [*base, "case", "show", "C999"])
    assert missing.exit_code == 1 and "没有案件“C999”" in missing.stderr
    fees = runner.invoke(main, [*base, "fees", "300000", "--json"])
    assert fees.exit_code == 0 and '"5800.00"' in fees.stdout
    interest = runner.invoke(main, [*base, "interest", "C004", "--as-of", AS_OF.isoformat()])
    assert interest.exit_code == 0 and "÷ 365" in interest.stdout
    rates = runner.invoke(main, [*base, "interest", "rate", "C004", "--json"])
    assert rates.exit_code == 0 and "万分之五" in rates.stdout
    nothing = runner.invoke(main, [*base, "case", "open", "C001", "--as-of", "2020-01-01"])
    assert nothing.exit_code == 1 and "owes nothing overdue" in nothing.stderr


def test_legal_report_lists_cases_with_stage_costs_and_recovered(demo: Desk) -> None:
    import openpyxl

    from dunning.workflow.legal_xlsx import COURT_SHEET, write_legal
    from dunning.workflow.reports import legal_report

    with open_archive(demo.db_path) as db:
        report = legal_report(db, as_of=office_today(), config=demo.config)
        cases = list_cases(db)
    path = write_legal(report, demo.out / "legal.xlsx")
    wb = openpyxl.load_workbook(path)
    assert COURT_SHEET in wb.sheetnames
    ws = wb[COURT_SHEET]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    by_id = {r[0]: r for r in rows if isinstance(r[0], int)}
    assert set(by_id) == {c.id for c in cases}
    for case in cases:
        line = by_id[case.id]
        assert line[1] == case.customer
        assert line[5] == (case.stage.title if case.stage else "未立案")
        assert Decimal(str(line[11])) == case.total_costs
        assert Decimal(str(line[12])) == case.recovered
    sheet = wb["C004 诉讼"]  # the customer's court cases, a sheet of their own
    texts = [str(c.value) for r in sheet.iter_rows() for c in r if c.value is not None]
    assert "八、诉讼案件" in texts and "律师费" in texts
