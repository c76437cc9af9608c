"""Letters lay out real numbers, and the lawyer level's 证据清单 lists the evidence.

A 20-digit 数电发票 number and a long contract number must print on one line in the statement's
table: checked on the .docx grid and on the PDF LibreOffice makes of it (pdftotext -layout).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result
from docx.oxml.ns import qn
from pdf_factory import make_text_pdf
from tooling import require_tool

from dunning.config import default_config
from dunning.desk import Desk
from dunning.letters.context import ContractInfo, CustomerInfo, LetterInput, OpenItem, build_context
from dunning.letters.pdf import convert_to_pdf, soffice_path
from dunning.letters.render import render_letter

TEMPLATES = Path(__file__).resolve().parent.parent / "dunning" / "templates"
EMU_PER_TWIP = 635
LONG_ROWS = [
    ("24332000000012345678", "ZJMY-XS-2025-000123", "12,345,678.90", "11,111,111.01"),
    ("25442000000098765432", "HT-2025-SH-0001234-B", "8,800.00", "8,800.00"),
    ("FP0003", "HT-2025-0002", "880.00", "880.00"),
]


def statement_input() -> LetterInput:
    cfg = default_config()
    items = [
        OpenItem(inv, contract, dt.date(2025, 1, 5), dt.date(2025, 2, 4),
                 Decimal(amount.replace(",", "")), Decimal(amount.replace(",", ""))
                 - Decimal(open_.replace(",", "")), Decimal(open_.replace(",", "")), 512)
        for inv, contract, amount, open_ in LONG_ROWS
    ]  # fmt: skip
    return LetterInput(
        ref="CS-2025-000123",
        level=1,
        level_name="reminder",
        level_title="提醒函",
        as_of=dt.date(2025, 6, 30),
        deadline=dt.date(2025, 7, 10),
        customer=CustomerInfo("C001", "杭州明远贸易有限公司", "杭州市西湖区"),
        company=cfg.company,
        bank=cfg.bank,
        signatory=cfg.signatory,
        contracts=[ContractInfo("ZJMY-XS-2025-000123")],
        items=items,
        total_open=sum((i.open_amount for i in items), Decimal("0")),
        total_overdue=sum((i.open_amount for i in items), Decimal("0")),
    )


def items_table(document: docx.document.Document) -> docx.table.Table:
    (table,) = [t for t in document.tables if t.rows[0].cells[0].text == "发票号"]
    return table


def test_the_statement_table_spans_the_body_with_room_for_long_numbers() -> None:
    document = docx.Document(str(TEMPLATES / "statement.docx"))
    section = document.sections[0]
    body = section.page_width - section.left_margin - section.right_margin
    table = items_table(document)
    grid = [
        int(col.get(qn("w:w"))) * EMU_PER_TWIP
        for col in table._tbl.tblGrid.findall(qn("w:gridCol"))
    ]
    assert abs(sum(grid) - body) < 2 * 360000 / 100  # within 0.02 cm
    headers = [c.text for c in table.rows[0].cells]
    widths = dict(zip(headers, grid, strict=True))
    # 20 digits of 8 pt Times New Roman are 80 pt = 2.82 cm, plus the cell padding
    assert widths["发票号"] >= 3.0 * 360000 and widths["合同编号"] >= 3.1 * 360000
    sizes = {
        run.font.size.pt if run.font.size else document.styles[p.style.name].font.size.pt
        for cell in table.rows[2].cells
        for p in cell.paragraphs
        for run in p.runs
    }
    assert sizes == {8.0}


def _liberation_serif() -> bool:
    if shutil.which("fc-match") is None:
        return False
    found = subprocess.run(
        ["fc-match", "Times New Roman"], capture_output=True, text=True, check=False
    ).stdout
    return "Liberation Serif" in found


def test_long_invoice_and_contract_numbers_print_on_one_line(tmp_path: Path) -> None:
    require_tool("LibreOffice", lambda: soffice_path() is not None,
                 install="apt-get install libreoffice-writer-nogui")  # fmt: skip
    require_tool("pdftotext", lambda: shutil.which("pdftotext") is not None,
                 install="apt-get install poppler-utils")  # fmt: skip
    # Word prints the template's Times New Roman; LibreOffice needs its metric twin.
    require_tool("Liberation Serif (for Times New Roman)", _liberation_serif,
                 install="apt-get install fonts-liberation")  # fmt: skip
    target = tmp_path / "statement.docx"
    target.write_bytes(
        render_letter(TEMPLATES / "statement.docx", build_context(statement_input()))
    )
    (pdf,) = convert_to_pdf([target])
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = text.splitlines()
    for invoice, contract, amount, open_amount in LONG_ROWS:
        (line,) = [line for line in lines if invoice in line]  # the number is unbroken
        # ... and the whole row is one line: nothing of it wrapped onto a second one
        for cell in (contract, "2025-01-05", "2025-02-04", amount, open_amount):
            assert cell in line, (cell, line)
    assert not any(line.strip() in {"78", "32", "05", "04"} for line in lines)


def test_the_evidence_template_is_listed_and_checked(in_desk: Desk, runner: CliRunner) -> None:
    from dunning.cli import main

    listed = json.loads(runner.invoke(main, ["templates", "list", "--json"]).stdout)
    assert "evidence" in {t["template"] for t in listed["templates"]}
    result = runner.invoke(main, ["templates", "check"])
    assert result.exit_code == 0, result.output
    assert "已检查 8 个模板，发现 0 个问题" in result.stdout


def run(runner: CliRunner, desk: Desk, *args: str) -> Result:
    from dunning.cli import main

    result = runner.invoke(main, ["--desk", str(desk.root), *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow  # seconds of real processes or big files
def test_the_lawyer_level_files_an_evidence_list(
    desk: Desk, runner: CliRunner, invoice_csv: Path, tmp_path: Path
) -> None:
    run(runner, desk, "ingest", str(invoice_csv))
    first = json.loads(run(runner, desk, "pack", "--allow-no-address", "--as-of", "2025-06-30", "--customer", "C001",
                           "--json").stdout)["letters"][0]["ref"]  # fmt: skip
    run(runner, desk, "letter", "sent", first, "--via", "ems", "--tracking", "1151234567890",
        "--on", "2025-07-01")  # fmt: skip
    proof = make_text_pdf(tmp_path / "proof.pdf", ["EMS 妥投证明 1151234567890"])
    delivered = json.loads(run(runner, desk, "letter", "delivered", first, "--on", "2025-07-03",
                               "--evidence", str(proof), "--json").stdout)  # fmt: skip
    run(runner, desk, "letter", "reply", first, "相符", "--on", "2025-07-05")
    pack = json.loads(run(runner, desk, "pack", "--allow-no-address", "--as-of", "2025-08-30", "--customer", "C001",
                          "--level", "4", "--json").stdout)  # fmt: skip
    (entry,) = pack["letters"]
    files = entry["files"]
    assert any(f.endswith("证据清单-evidence.docx") for f in files)
    document = docx.Document(str(Path(pack["pack"]) / next(f for f in files if "证据" in f)))
    (table,) = [t for t in document.tables if t.rows[0].cells[0].text == "序号"]
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    names = [r[1] for r in rows]
    assert names == [
        "买卖合同（HT-2025-0001）",
        "发票（FP0001）",
        "发票（FP0002）",
        f"对账单回执（{first}）",
        f"提醒函（{first}）及送达凭证",
    ]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]
    letter_row = rows[-1]
    assert "EMS 1151234567890，2025-07-01寄出" in letter_row[2]
    assert "2025-07-03送达" in letter_row[3]
    assert letter_row[4] == f"妥投证明：档案 {delivered['evidence_document']}"
    lawyer = docx.Document(str(Path(pack["pack"]) / files[0]))
    text = "\n".join(p.text for p in lawyer.paragraphs)
    assert "附件：" in text and "证据清单" not in text  # the lawyer's file, not an enclosure
