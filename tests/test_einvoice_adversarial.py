"""E-invoices against inputs nobody planned for: hostile text, odd amounts, changed exports."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from einvoice_support import LEDGER_CSV, ROWS, table, write_xlsx

from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.archive.einvoice.effects import credit_notes, voided_invoices
from dunning.archive.einvoice.views import einvoices_for_customer, open_issues
from dunning.archive.einvoice.xmlread import read_invoice_xml
from dunning.cli import main
from dunning.desk import Desk
from dunning.errors import IngestError
from dunning.ingest.pipeline import ingest_paths

GOODS = (Path(__file__).parent / "fixtures" / "einvoice" / "goods.xml").read_bytes()
AS_OF = dt.date(2025, 6, 30)


def balances(desk: Desk) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))}


def with_ledger(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    assert ingest_paths(desk, [path]).outcomes[0].status == "archived"


def test_hostile_buyer_text_is_kept_literally_and_escaped_on_the_page(
    desk: Desk, tmp_path: Path
) -> None:
    from web_support import client

    with_ledger(desk, tmp_path)
    evil = "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} =cmd|' /C calc'!A0"
    data = GOODS.replace("杭州明远贸易有限公司".encode(), evil.encode())
    path = tmp_path / "evil.xml"
    path.write_bytes(data)
    (outcome,) = ingest_paths(desk, [path]).outcomes
    assert outcome.status == "archived"
    with open_archive(desk.db_path) as db:
        (issue,) = open_issues(db, "C001")
    assert "<script>alert(1)</script> {{ 7*7 }}" in issue["detail"]
    html = client(desk).get("/customers/C001").text
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html and "{{ 7*7 }}" in html


def test_a_total_written_as_a_bare_currency_mark_is_net_plus_tax() -> None:
    data = GOODS.replace(
        b"<TotalTax-includedAmount>10000.00</TotalTax-includedAmount>",
        "<TotalTax-includedAmount>¥</TotalTax-includedAmount>".encode(),
    )
    assert read_invoice_xml(data, "x.xml").total == Decimal("10000.00")


def test_a_negative_total_is_red_even_without_the_red_label() -> None:
    data = GOODS.replace(b">10000.00<", b">-10000.00<").replace(b">8849.56<", b">-8849.56<")
    invoice = read_invoice_xml(data, "x.xml")
    assert invoice.red and invoice.total == Decimal("-10000.00")
    assert invoice.original is None  # names none: reported when archived, never guessed


@pytest.mark.parametrize(
    "number",
    ["2533200000000000000", "253320000000000000011", "25332000000000000ABC", ""],
)
def test_a_number_that_is_not_20_digits_is_refused(number: str) -> None:
    data = GOODS.replace(
        b"<InvoiceNumber>25332000000000000001</InvoiceNumber>",
        f"<InvoiceNumber>{number}</InvoiceNumber>".encode(),
    ).replace(b"<EIid>25332000000000000001</EIid>", b"")
    with pytest.raises(IngestError, match="InvoiceNumber"):
        read_invoice_xml(data, "x.xml")


FULL_WIDTH = "25332000000000000001".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})


def test_full_width_digits_are_read_as_the_number() -> None:
    data = GOODS.replace(
        b"<InvoiceNumber>25332000000000000001</InvoiceNumber>",
        f"<InvoiceNumber>{FULL_WIDTH}</InvoiceNumber>".encode(),
    )
    assert read_invoice_xml(data, "x.xml").number == "25332000000000000001"


def test_a_file_later_never_undoes_the_exports_void(desk: Desk, tmp_path: Path) -> None:
    with_ledger(desk, tmp_path)
    ingest_paths(desk, [write_xlsx(tmp_path / "list.xlsx", table())])
    void_xml = GOODS.replace(b"25332000000000000001", b"25332000000000000003").replace(
        b">10000.00<", b">8000.00<"
    )
    path = tmp_path / "void.xml"
    path.write_bytes(void_xml)
    ingest_paths(desk, [path])
    with open_archive(desk.db_path) as db:
        assert voided_invoices(db) == {"25332000000000000003"}
    assert balances(desk)["C001"] == Decimal("13800.00")


def test_an_updated_export_changes_the_status_and_its_issue(desk: Desk, tmp_path: Path) -> None:
    with_ledger(desk, tmp_path)
    first = [list(r) for r in ROWS[:1]]
    ingest_paths(desk, [write_xlsx(tmp_path / "a.xlsx", table(first))])
    assert balances(desk)["C001"] == Decimal("23000.00")
    later = [list(r) for r in ROWS[:1]]
    later[0][14] = "作废"
    ingest_paths(desk, [write_xlsx(tmp_path / "b.xlsx", table(later, titles=("更新",)))])
    assert balances(desk)["C001"] == Decimal("13000.00")
    with open_archive(desk.db_path) as db:
        assert [i["kind"] for i in open_issues(db, "C001")] == ["void_in_ledger"]


def test_reimporting_the_ledger_keeps_the_links_and_balances(desk: Desk, tmp_path: Path) -> None:
    with_ledger(desk, tmp_path)
    ingest_paths(desk, [write_xlsx(tmp_path / "list.xlsx", table())])
    again = tmp_path / "ledger-again.csv"
    again.write_text(LEDGER_CSV + "\n", encoding="utf-8")  # another file, the same rows
    assert ingest_paths(desk, [again]).outcomes[0].status == "archived"
    assert balances(desk) == {"C001": Decimal("13800.00"), "C002": Decimal("8500.00")}
    with open_archive(desk.db_path) as db:
        assert len(open_issues(db)) == 2


def test_an_old_archive_without_the_table_reads_no_einvoices() -> None:
    conn = sqlite3.connect(":memory:")
    assert voided_invoices(conn) == set()
    assert credit_notes(conn) == []
    assert einvoices_for_customer(conn, "C001") == []


def test_red_invoice_naming_nothing_known_is_reported_not_applied(
    desk: Desk, tmp_path: Path
) -> None:
    with_ledger(desk, tmp_path)
    red = [*ROWS[2][:18], "被红冲蓝字数电发票号码：25332000000000099999"]
    ingest_paths(desk, [write_xlsx(tmp_path / "r.xlsx", table([red]))])
    assert balances(desk)["C001"] == Decimal("23000.00")
    with open_archive(desk.db_path) as db:
        (issue,) = open_issues(db, "C001")
    assert issue["kind"] == "red_unlinked" and "25332000000000099999" in issue["detail"]


def test_cli_lists_einvoices_and_issues(desk: Desk, tmp_path: Path, runner: CliRunner) -> None:
    with_ledger(desk, tmp_path)
    ingest_paths(desk, [write_xlsx(tmp_path / "list.xlsx", table())])
    base = ["--desk", str(desk.root), "einvoice"]
    listed = runner.invoke(main, [*base, "list", "--customer", "C002", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert {r["einvoice"]: r["status"] for r in rows} == {
        "25332000000000000004": "normal",
        "25332000000000000005": "red_flushed",
        "25332000000000000006": "partly_red",
        "25332000000000000009": "normal",
    }
    unlinked = runner.invoke(main, [*base, "list", "--unlinked"])
    assert "25332000000000000010" in unlinked.stdout and "上海未登记客户" in unlinked.stdout
    issues = runner.invoke(main, [*base, "issues"])
    assert issues.exit_code == 0
    assert "[金额不符]" in issues.stdout and "[作废发票仍在台账]" in issues.stdout
    missing = runner.invoke(main, [*base, "list", "--customer", "NOPE"])
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_invoices_issued_to_our_own_company_are_no_receivables(desk: Desk, tmp_path: Path) -> None:
    own = desk.config.company["name"]
    purchase = tmp_path / "purchase.xml"
    purchase.write_bytes(GOODS.replace("杭州明远贸易有限公司".encode(), own.encode()))
    (outcome,) = ingest_paths(desk, [purchase]).outcomes
    assert outcome.status == "failed"
    assert "（进项发票），不是本公司开出的" in (outcome.reason or "")
    received = [list(r) for r in ROWS[:2]]
    received[1][7] = own
    (listed,) = ingest_paths(desk, [write_xlsx(tmp_path / "l.xlsx", table(received))]).outcomes
    assert listed.status == "archived", listed.reason
    assert "读取 3 行：导入 1 行，跳过我方收到的发票 1 行，跳过合计行 1 行" in listed.label
    with open_archive(desk.db_path) as db:
        assert [r[0] for r in db.execute("SELECT key FROM einvoices")] == ["25332000000000000001"]


def test_an_export_with_no_invoice_rows_is_archived_with_nothing_linked(
    desk: Desk, tmp_path: Path
) -> None:
    (outcome,) = ingest_paths(desk, [write_xlsx(tmp_path / "e.xlsx", table([]))]).outcomes
    assert outcome.status == "archived", outcome.reason
    assert "读取 1 行：导入 0 行，跳过合计行 1 行" in outcome.label


def test_pdf_text_with_labels_apart_from_values_still_reads() -> None:
    from dunning.archive.einvoice.pdftext import looks_like_einvoice, read_invoice_text

    # Some 数电 PDFs give every label first, then every value.
    text = (
        "电子发票（普通发票）发票号码：开票日期：购买方信息 名称：统一社会信用代码/纳税人识别号："
        "销售方信息 名称：价税合计（大写）（小写）\n25332000000000000004\n2025年03月05日\n"
        "宁波海辰机械有限公司 ¥5309.73 ¥690.27 陆仟圆整 ¥6000.00 下载次数：1"
    )
    assert looks_like_einvoice(text)
    invoice = read_invoice_text(text)
    assert invoice is not None
    assert (invoice.number, invoice.total) == ("25332000000000000004", Decimal("6000.00"))
    assert invoice.buyer_name is None  # never a label taken for a name
    # A contract quoting an account number is no invoice, however it mentions them.
    contract = "购销合同 ……乙方开具增值税电子发票，发票号码与开票日期另行通知，价税合计 ¥6000.00，"
    contract += "账号 62220000000000000004，购买方：甲方。" + "条款" * 2000
    assert not looks_like_einvoice(contract)


def test_a_red_invoice_the_ledger_already_credits_is_not_counted_twice(
    desk: Desk, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.csv"
    # The ERP booked the 红字 invoice under its own document number, as a negative row.
    path.write_text(
        LEDGER_CSV + "C001,杭州明远贸易有限公司,HZ-2025-0007,2025-04-02,2025-04-02,-1200.00\n",
        encoding="utf-8",
    )
    assert ingest_paths(desk, [path]).outcomes[0].status == "archived"
    assert balances(desk)["C001"] == Decimal("21800.00")
    red = Path(__file__).parent / "fixtures" / "einvoice" / "red.xml"
    assert ingest_paths(desk, [red]).outcomes[0].status == "archived"
    assert balances(desk)["C001"] == Decimal("21800.00")


def test_a_utf16_xml_einvoice_is_recognised_and_read(desk: Desk, tmp_path: Path) -> None:
    with_ledger(desk, tmp_path)
    text = GOODS.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    (desk.inbox / "utf16.xml").write_bytes(text.encode("utf-16"))
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert outcome.status == "archived", outcome.reason
    assert outcome.kind == "einvoice" and "，客户 C001" in outcome.label


def test_a_ledger_with_invoice_status_columns_stays_a_ledger(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "台账.csv"
    path.write_text(
        "客户编号,购买方名称,发票号码,开票日期,到期日,价税合计,发票状态,销方名称\n"
        "C001,杭州明远贸易有限公司,25332000000000000001,2025-01-05,2025-02-04,100.00,正常,我方\n",
        encoding="utf-8",
    )
    (outcome,) = ingest_paths(desk, [path]).outcomes
    assert outcome.status == "archived", outcome.reason
    assert outcome.kind == "ledger"
    assert balances(desk) == {"C001": Decimal("100.00")}


def test_the_zip_guard_sees_an_export_before_anything_reads_it(desk: Desk, tmp_path: Path) -> None:
    import zipfile

    clean = write_xlsx(tmp_path / "clean.xlsx", table())
    evil = desk.inbox / "全量发票查询.xlsx"
    with zipfile.ZipFile(clean) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + data
            dst.writestr(info, data)
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert outcome.status == "failed"
    assert "DTD" in (outcome.reason or "")


def _ofd(path: Path, custom: dict[str, str], doc_root: str = "Doc_0/Document.xml") -> Path:
    import zipfile

    datas = "".join(f'<ofd:CustomData Name="{k}">{v}</ofd:CustomData>' for k, v in custom.items())
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "OFD.xml",
            '<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016">'
            f"<ofd:DocBody><ofd:DocInfo><ofd:CustomDatas>{datas}</ofd:CustomDatas></ofd:DocInfo>"
            f"<ofd:DocRoot>{doc_root}</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
    return path


def test_an_ofd_with_custom_data_only_never_takes_the_net_amount_for_the_total(
    tmp_path: Path,
) -> None:
    from dunning.archive.einvoice.ofd import read_ofd

    custom = {
        "发票号码": "24112000000048542163",
        "合计金额": "4197.17",
        "合计税额": "251.83",
        "开票日期": "2024年05月28日",
        "购买方纳税人识别号": "91460300MAA92DJN95",
    }
    (invoice,) = read_ofd(_ofd(tmp_path / "a.ofd", custom, "../../../etc/passwd")).invoices
    assert (invoice.net, invoice.total) == (Decimal("4197.17"), Decimal("4449.00"))
    assert invoice.buyer_tax_id == "91460300MAA92DJN95"
    del custom["合计税额"]
    with pytest.raises(IngestError, match="价税合计"):
        read_ofd(_ofd(tmp_path / "b.ofd", custom))


def test_the_characters_a_text_needs_to_be_an_einvoice_come_only_from_themselves() -> None:
    """`looks_like_einvoice` turns a text away at once when one of NEEDED_CHARS is missing:
    right only if no other character becomes one of them under NFKC (as ⽇ becomes 日)."""
    import sys
    import unicodedata

    from dunning.archive.einvoice.pdftext import NEEDED_CHARS

    sources = {
        chr(point)
        for point in range(sys.maxunicode + 1)
        if not 0xD800 <= point <= 0xDFFF
        and any(char in unicodedata.normalize("NFKC", chr(point)) for char in NEEDED_CHARS)
    }
    assert sources == set(NEEDED_CHARS)
