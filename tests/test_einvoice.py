"""E-invoices (SPEC §12): the readers, the ledger links, the balances they change, quarantine."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from einvoice_support import LEDGER_CSV, table, write_xlsx
from tooling import require_realworld

from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.archive.einvoice.ofd import read_ofd
from dunning.archive.einvoice.views import einvoices_for_customer, open_issues, tax_id_of
from dunning.archive.einvoice.xmlread import read_invoice_xml
from dunning.cli import main
from dunning.desk import Desk
from dunning.errors import IngestError
from dunning.ingest.pipeline import ingest_paths
from dunning.workflow.records import customer_record

FIXTURES = Path(__file__).parent / "fixtures" / "einvoice"
AS_OF = dt.date(2025, 6, 30)


def balances(desk: Desk) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))}


def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "应收台账.csv"
    path.write_text(LEDGER_CSV, encoding="utf-8")
    return path


# -- the readers -------------------------------------------------------------------------------


def test_goods_xml_reads_to_its_fields() -> None:
    inv = read_invoice_xml((FIXTURES / "goods.xml").read_bytes(), "goods.xml")
    assert inv.key == "25332000000000000001"
    assert inv.issued_on == dt.date(2025, 1, 5)
    assert (inv.net, inv.tax, inv.total) == (
        Decimal("8849.56"),
        Decimal("1150.44"),
        Decimal("10000.00"),
    )
    assert (inv.buyer_name, inv.buyer_tax_id) == ("杭州明远贸易有限公司", "91330100MA27C00011")
    assert (inv.seller_name, inv.seller_tax_id) == ("杭州示例供应链有限公司", "91330100MA2H000001")
    assert not inv.red and inv.original is None
    assert [line.name for line in inv.lines] == ["*金属制品*不锈钢板", "*运输服务*运费"]
    assert inv.kind_title is not None and "增值税专用发票" in inv.kind_title


def test_red_xml_is_a_credit_note_of_the_invoice_it_names() -> None:
    inv = read_invoice_xml((FIXTURES / "red.xml").read_bytes(), "red.xml")
    assert inv.red
    assert inv.total == Decimal("-1200.00")
    assert inv.original == "25332000000000000002"


def test_toll_xml_plate_number_is_never_the_invoice_number() -> None:
    # PlateNumber comes first in the file and one is even 20 digits long: the trap.
    inv = read_invoice_xml((FIXTURES / "toll.xml").read_bytes(), "toll.xml")
    assert inv.number == "25442000000087654321"
    assert inv.total == Decimal("350.00")
    assert inv.kind_title is not None and "通行费" in inv.kind_title
    assert "12345678901234567890" not in inv.key


def test_xml_with_a_dtd_is_refused_by_the_reader() -> None:
    data = (
        (FIXTURES / "goods.xml")
        .read_bytes()
        .replace(b"<EInvoice>", b'<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<EInvoice>', 1)
    )
    with pytest.raises(IngestError, match="DTD"):
        read_invoice_xml(data, "evil.xml")


def test_xml_of_an_unknown_schema_is_refused() -> None:
    with pytest.raises(IngestError, match="XML 格式无法识别"):
        read_invoice_xml(b"<?xml version='1.0'?><Order><No>1</No></Order>", "order.xml")


def test_real_digital_ofd_reads_to_its_known_fields() -> None:
    folder = require_realworld() / "einvoice"
    parsed = read_ofd(folder / "20240531141733.ofd")
    (inv,) = parsed.invoices
    assert inv.key == "24112000000048542163"
    assert inv.issued_on == dt.date(2024, 5, 28)
    # CustomData's 合计金额 is the amount WITHOUT tax: 价税合计 comes from the tags.
    assert (inv.net, inv.tax, inv.total) == (
        Decimal("4197.17"),
        Decimal("251.83"),
        Decimal("4449.00"),
    )
    assert (inv.buyer_name, inv.buyer_tax_id) == ("海南麒麟云服科技有限公司", "91460300MAA92DJN95")
    assert (inv.seller_name, inv.seller_tax_id) == (
        "北京互联三六五科技有限公司",
        "91110108690017781B",
    )
    assert inv.kind_title == "电子发票（增值税专用发票）"
    assert "海南麒麟云服科技有限公司" in parsed.text


def test_real_older_ofds_read_to_code_and_number() -> None:
    folder = require_realworld() / "einvoice"
    (sample,) = read_ofd(folder / "发票示例.ofd").invoices
    assert (sample.code, sample.number, sample.key) == (
        "050001700111",
        "99999951",
        "050001700111-99999951",
    )
    assert (sample.net, sample.tax, sample.total) == (
        Decimal("300.00"),
        Decimal("18.00"),
        Decimal("318.00"),
    )
    assert sample.check_code == "14754822929856772523"
    assert (sample.buyer_name, sample.buyer_tax_id) == ("科游迈利有限公司", "9150010807MGZHI002")
    assert len(sample.lines) == 3
    (template,) = read_ofd(folder / "fptpl.ofd").invoices
    assert (template.code, template.number, template.total) == (
        "050001700111",
        "12235358",
        Decimal("10600.00"),
    )
    assert template.buyer_name == "个人" and template.buyer_tax_id is None
    assert template.issued_on == dt.date(2020, 8, 5)


def test_real_ofd_without_invoice_data_is_refused_with_a_sentence() -> None:
    folder = require_realworld() / "einvoice"
    with pytest.raises(IngestError, match="没有发票数据的 OFD"):
        read_ofd(folder / "发票监制章-数科.ofd")


# -- through the pipeline ----------------------------------------------------------------------


def test_export_changes_balances_as_the_hand_computation_says(desk: Desk, tmp_path: Path) -> None:
    report = ingest_paths(desk, [ledger(tmp_path)])
    assert [o.status for o in report.outcomes] == ["archived"]
    assert balances(desk) == {"C001": Decimal("23000.00"), "C002": Decimal("13000.00")}
    export = write_xlsx(tmp_path / "全量发票查询.xlsx", table())
    report = ingest_paths(desk, [export])
    (outcome,) = report.outcomes
    assert outcome.status == "archived", outcome.reason
    assert outcome.kind == "einvoice"
    # 12 rows under the header: 9 invoices, 1 total; the label says so.
    assert "读取 10 行：导入 9 行，跳过合计行 1 行" in outcome.label
    # C001: 10,000 (正常) + 5,000 - 1,200 (红字 -07 names -02) + 0 (-03 作废) = 13,800.
    # C002: 6,000 (the e-invoice says 6,600: reported, not merged) + 0 (-05 全额红冲)
    #       + 4,000 - 1,500 (红字 -09 names -06) = 8,500.
    assert balances(desk) == {"C001": Decimal("13800.00"), "C002": Decimal("8500.00")}
    with open_archive(desk.db_path) as db:
        issues = {(i["einvoice"], i["kind"]) for i in open_issues(db)}
        assert issues == {
            ("25332000000000000003", "void_in_ledger"),
            ("25332000000000000004", "amount"),
        }
        assert tax_id_of(db, "C001") == "91330100MA27C00011"
        assert tax_id_of(db, "C002") == "91330200MA28D00022"
        # The stranger is kept, tied to no customer.
        assert db.execute(
            "SELECT customer_code FROM einvoices WHERE key = '25332000000000000010'"
        ).fetchone() == (None,)
    assert "作废" in outcome.label and "6,600.00" in outcome.label


def test_export_before_the_ledger_gives_the_same_balances(desk: Desk, tmp_path: Path) -> None:
    export = write_xlsx(tmp_path / "全量发票查询.xlsx", table())
    ingest_paths(desk, [export])
    ingest_paths(desk, [ledger(tmp_path)])
    assert balances(desk) == {"C001": Decimal("13800.00"), "C002": Decimal("8500.00")}


def test_red_xml_and_the_export_naming_it_credit_once(desk: Desk, tmp_path: Path) -> None:
    ingest_paths(desk, [ledger(tmp_path)])
    ingest_paths(desk, [FIXTURES / "red.xml"])
    assert balances(desk)["C001"] == Decimal("21800.00")  # 23,000 - 1,200
    ingest_paths(desk, [write_xlsx(tmp_path / "list.xlsx", table())])
    assert balances(desk)["C001"] == Decimal("13800.00")  # the red one is not counted twice


def test_xml_links_to_its_ledger_row_and_shows_on_the_customer(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    ingest_paths(desk, [ledger(tmp_path)])
    drop = desk.inbox / "dzfp_25332000000000000001.xml"
    drop.write_bytes((FIXTURES / "goods.xml").read_bytes())
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert outcome.status == "archived" and outcome.kind == "einvoice"
    assert "，客户 C001" in outcome.label
    with open_archive(desk.db_path) as db:
        (found,) = einvoices_for_customer(db, "C001")
        assert (found.number, found.amount, found.status) == (
            "25332000000000000001",
            Decimal("10000.00"),
            "normal",
        )
        assert found.document == outcome.document and found.invoice_no == found.number
        record = customer_record(db, "C001", as_of=AS_OF, edges=(30, 60, 90))
    first = next(i for i in record["invoices"] if i["invoice"] == "25332000000000000001")
    assert first["einvoice"]["document"] == outcome.document
    assert record["tax_id"] == "91330100MA27C00011"
    result = runner.invoke(main, ["--desk", str(desk.root), "customer", "C001"])
    assert result.exit_code == 0, result.output
    assert "91330100MA27C00011" in result.stdout
    assert f"文档 {outcome.document}" in result.stdout
    found_search = runner.invoke(
        main, ["--desk", str(desk.root), "search", "不锈钢板", "--kind", "einvoice", "--json"]
    )
    assert found_search.exit_code == 0, found_search.output
    assert [r["document"] for r in json.loads(found_search.stdout)] == [outcome.document]
    shown = runner.invoke(main, ["--desk", str(desk.root), "show", str(outcome.document), "--json"])
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert record["kind"] == "einvoice" and record["customer_code"] == "C001"
    assert [e["einvoice"] for e in record["einvoices"]] == ["25332000000000000001"]


def test_buyer_mismatch_is_reported_not_merged(desk: Desk, tmp_path: Path) -> None:
    ingest_paths(desk, [ledger(tmp_path)])
    data = (
        (FIXTURES / "goods.xml")
        .read_bytes()
        .replace("杭州明远贸易有限公司".encode(), "杭州别家公司".encode())
    )
    path = tmp_path / "other_buyer.xml"
    path.write_bytes(data)
    (outcome,) = ingest_paths(desk, [path]).outcomes
    assert outcome.status == "archived"
    assert "杭州别家公司" in outcome.label
    with open_archive(desk.db_path) as db:
        assert [i["kind"] for i in open_issues(db, "C001")] == ["buyer"]
        assert tax_id_of(db, "C001") is None  # another company's tax id never fills C001's


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        (
            "evil.xml",
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "x">]><EInvoice>&a;</EInvoice>',
            "DTD",
        ),
        ("order.xml", b'<?xml version="1.0"?><Order/>', "XML 格式无法识别"),
        ("cut.xml", b'<?xml version="1.0"?><EInvoice><EInvoiceData>', "不是格式正确的 XML"),
    ],
)
def test_bad_xml_is_quarantined_with_a_sentence(
    desk: Desk, name: str, content: bytes, says: str
) -> None:
    drop = desk.inbox / "invoices" / name
    drop.write_bytes(content)
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert outcome.status == "failed"
    assert says in (outcome.reason or "")
    note = (desk.failed / f"{name}.error.txt").read_text(encoding="utf-8")
    assert says in note and "Traceback" not in note
    assert not drop.exists() and (desk.failed / name).exists()


def test_broken_and_dtd_ofds_are_quarantined(desk: Desk, tmp_path: Path) -> None:
    good = tmp_path / "good.ofd"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr(
            "OFD.xml", '<?xml version="1.0"?><ofd:OFD xmlns:ofd="x"><ofd:DocBody/></ofd:OFD>'
        )
        z.writestr("Doc_0/Document.xml", "<!DOCTYPE d [<!ENTITY e 'x'>]><Document/>")
    (desk.inbox / "dtd.ofd").write_bytes(good.read_bytes())
    (desk.inbox / "broken.ofd").write_bytes(good.read_bytes()[:60])
    outcomes = {o.file.name: o for o in ingest_paths(desk, [desk.inbox]).outcomes}
    assert outcomes["dtd.ofd"].status == "failed"
    assert "DTD" in (outcomes["dtd.ofd"].reason or "")
    assert outcomes["broken.ofd"].status == "failed"
    assert "OFD" in (outcomes["broken.ofd"].reason or "")
    assert (desk.failed / "broken.ofd.error.txt").exists()


def test_real_ofds_through_the_pipeline(desk: Desk) -> None:
    folder = require_realworld() / "einvoice"
    files = sorted(folder.glob("*.ofd"))
    outcomes = {o.file.name: o for o in ingest_paths(desk, files).outcomes}
    assert {n for n, o in outcomes.items() if o.status == "archived"} == {
        "20240531141733.ofd",
        "fptpl.ofd",
        "发票示例.ofd",
    }
    assert outcomes["发票监制章-数科.ofd"].status == "failed"
    with open_archive(desk.db_path) as db:
        keys = {r[0] for r in db.execute("SELECT key FROM einvoices")}
        hits = db.execute(
            "SELECT d.kind FROM search_source s JOIN documents d ON d.id = s.document_id"
            " WHERE s.body LIKE '%海南麒麟云服%'"
        ).fetchall()
    assert keys == {"24112000000048542163", "050001700111-12235358", "050001700111-99999951"}
    assert hits == [("einvoice",)]


def test_customer_page_shows_the_einvoice_beside_its_invoice(desk: Desk, tmp_path: Path) -> None:
    from web_support import client

    ingest_paths(desk, [ledger(tmp_path)])
    ingest_paths(desk, [FIXTURES / "goods.xml", write_xlsx(tmp_path / "l.xlsx", table())])
    page = client(desk).get("/customers/C001")
    assert page.status_code == 200
    html = page.text
    assert "统一社会信用代码" in html and "91330100MA27C00011" in html
    with open_archive(desk.db_path) as db:
        doc = db.execute(
            "SELECT document_id FROM einvoices WHERE key = '25332000000000000001'"
        ).fetchone()[0]
    assert f'href="/documents/{doc}/original"' in html
    assert "已作废，台账仍列发票 25332000000000000003" in html  # flagged, not owed
    assert "红字" in html and "冲销 25332000000000000002" in html


def test_pdf_einvoice_dropped_in_the_inbox_is_recognised(desk: Desk, tmp_path: Path) -> None:
    from pdf_factory import make_text_pdf

    ingest_paths(desk, [ledger(tmp_path)])
    text = "\n".join(
        [
            "电子发票（增值税专用发票）",
            "发票号码：25332000000000000004",
            "开票日期：2025年03月05日",
            "购买方信息 名称：宁波海辰机械有限公司",
            "统一社会信用代码/纳税人识别号：91330200MA28D00022",
            "销售方信息 名称：杭州示例供应链有限公司",
            "统一社会信用代码/纳税人识别号：91330100MA2H000001",
            "车牌号码：粤B12345 订单号码：123456789012345678901",
            "合计 ¥5309.73 ¥690.27",
            "价税合计（大写）陆仟圆整 （小写）¥6000.00",
        ]
    )
    make_text_pdf(desk.inbox / "发票.pdf", [text])
    make_text_pdf(desk.inbox / "合同.pdf", ["购销合同 合同编号 HT-2025-0009 发票号码由乙方提供"])
    outcomes = {o.file.name: o for o in ingest_paths(desk, [desk.inbox]).outcomes}
    assert outcomes["发票.pdf"].kind == "einvoice", outcomes["发票.pdf"].label
    assert outcomes["合同.pdf"].kind == "contract"
    with open_archive(desk.db_path) as db:
        (found,) = [e for e in einvoices_for_customer(db, "C002") if e.invoice_no]
        assert (found.key, found.amount, found.buyer_tax_id) == (
            "25332000000000000004",
            Decimal("6000.00"),
            "91330200MA28D00022",
        )
        assert open_issues(db, "C002") == []  # 6,000 agrees with the ledger
        assert tax_id_of(db, "C002") == "91330200MA28D00022"


@pytest.mark.parametrize("order", list(__import__("itertools").permutations(range(3))))
def test_balances_do_not_depend_on_the_order_files_arrive(
    desk: Desk, tmp_path: Path, order: tuple[int, ...]
) -> None:
    files = [
        ledger(tmp_path),
        write_xlsx(tmp_path / "全量发票查询.xlsx", table()),
        FIXTURES / "red.xml",
    ]
    for index in order:
        (outcome,) = ingest_paths(desk, [files[index]]).outcomes
        assert outcome.status == "archived", outcome.reason
    assert balances(desk) == {"C001": Decimal("13800.00"), "C002": Decimal("8500.00")}
    with open_archive(desk.db_path) as db:
        assert len(open_issues(db)) == 2


def test_an_invoice_file_before_its_ledger_is_filed_under_its_customer_later(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    (first,) = ingest_paths(desk, [FIXTURES / "goods.xml"]).outcomes
    assert first.label.endswith("，未找到客户")
    ingest_paths(desk, [ledger(tmp_path)])
    with open_archive(desk.db_path) as db:
        assert db.execute(
            "SELECT customer_code FROM documents WHERE id = ?", [first.document]
        ).fetchone() == ("C001",)
    found = runner.invoke(
        main, ["--desk", str(desk.root), "search", "不锈钢板", "--customer", "C001", "--json"]
    )
    assert found.exit_code == 0, found.output
    assert [r["document"] for r in json.loads(found.stdout)] == [first.document]


@pytest.mark.parametrize("written", ["033002000111-00012345", "03300200011100012345", "00012345"])
def test_an_older_invoice_links_by_code_and_number_or_the_number_alone(
    desk: Desk, tmp_path: Path, written: str
) -> None:
    path = tmp_path / "old-ledger.csv"
    path.write_text(
        "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
        f"C001,杭州明远贸易有限公司,{written},2025-02-10,2025-03-12,5000.00\n",
        encoding="utf-8",
    )
    ingest_paths(desk, [path])
    (outcome,) = ingest_paths(desk, [FIXTURES / "older.xml"]).outcomes
    assert outcome.status == "archived", outcome.reason
    assert "033002000111-00012345" in outcome.label and "，客户 C001" in outcome.label
    red = (FIXTURES / "older.xml").read_text(encoding="utf-8")
    red = (
        red.replace("00012345</fp:InvoiceNo>", "00012399</fp:InvoiceNo>")
        .replace(">5000.00<", ">-1000.00<")
        .replace(
            "<fp:Note></fp:Note>", "<fp:Note>对应正数发票代码:033002000111号码:00012345</fp:Note>"
        )
    )
    red_path = tmp_path / "old-red.xml"
    red_path.write_text(red, encoding="utf-8")
    (credit,) = ingest_paths(desk, [red_path]).outcomes
    assert credit.status == "archived", credit.reason
    assert balances(desk) == {"C001": Decimal("4000.00")}
    with open_archive(desk.db_path) as db:
        assert open_issues(db) == []
