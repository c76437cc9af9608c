"""Trying to break the case file: hostile names, hostile and odd evidence files, no contract,
rotated pages, pictures, a customer with nothing overdue, LibreOffice absent."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from pathlib import Path

import pytest
from hostile_files import (
    absurd_count_pdf,
    cyclic_pdf,
    many_pages_pdf,
    pixel_bomb_png,
    signature_only_png,
)
from pdf_factory import make_encrypted_pdf, make_image_png, make_text_pdf
from pypdf import PdfReader, PdfWriter
from tooling import require_soffice

from dunning.archive.db import open_archive, write_transaction
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_file
from dunning.letters import case_file
from dunning.letters.case_file import CaseFileError, build_case_file
from dunning.workflow.cases import list_cases

AS_OF = dt.date(2025, 6, 30)
NAME = "A&B <HK> {{ 7*7 }} 【甲方】"
LEDGER = (
    "客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额\n"
    f'X1,"{NAME}",HT-<X>&1,FP-<1>,2025-01-05,2025-02-04,"12,345.67",0\n'
    "Y1,按时付款有限公司,HT-Y-1,FP-Y1,2025-06-01,2025-07-01,100.00,0\n"
)


@pytest.fixture
def hostile_desk(desk: Desk, tmp_path: Path) -> Desk:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    outcome = ingest_file(desk, ledger, kind="ledger")
    assert outcome.status == "archived", outcome.reason
    return desk


def _link(desk: Desk, path: Path, kind: str = "einvoice", title: str | None = None) -> None:
    """A document archived for X1, as another module (e-invoices) would store it."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    stored = desk.store / digest[:2] / f"{digest}{path.suffix}"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(data)
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        conn.execute(
            "INSERT INTO documents (sha256, kind, original_name, stored_path, size, title,"
            " customer_code, ingested_at) VALUES (?, ?, ?, ?, ?, ?, 'X1', ?)",
            [digest, kind, path.name, str(stored.relative_to(desk.root)), len(data),
             title or path.name, "2025-06-01T00:00:00+08:00"],
        )  # fmt: skip


def _docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml").decode("utf-8")


def test_hostile_names_print_as_written(hostile_desk: Desk) -> None:
    with open_archive(hostile_desk.db_path) as db:
        built = build_case_file(hostile_desk, db, "X1", kind="lawsuit", as_of=AS_OF, pdf=False)
    for path in built.documents[:2]:  # 民事起诉状, 证据目录
        xml = _docx_text(path)
        assert "A&amp;B &lt;HK&gt; {{ 7*7 }} 【甲方】" in xml
        assert ">49<" not in xml
    # the ledger names the contract, the archive has no copy: flagged, not silently dropped
    assert any(n.startswith("买卖合同（HT-<X>&1") and "未归档" in n for n in built.notes)
    assert built.pdf is None
    assert (built.folder / "case.json").is_file()
    # without LibreOffice's PDF the generated lists are Word files, the pages still to number
    tables = [d for d in built.documents if d.name.startswith("证据2-发票及欠款明细")]
    assert len(tables) == 1 and "FP-&lt;1&gt;" in _docx_text(tables[0])
    assert "待编" in _docx_text(built.documents[1])


def test_nothing_overdue_opens_no_case_and_leaves_no_folder(hostile_desk: Desk) -> None:
    with open_archive(hostile_desk.db_path) as db:
        with pytest.raises(CaseFileError, match="owes nothing overdue"):
            build_case_file(hostile_desk, db, "Y1", as_of=AS_OF)
        status = db.execute("SELECT status FROM customers WHERE code = 'Y1'").fetchone()[0]
        assert list_cases(db) == []
    assert status == "active"
    assert not list(hostile_desk.out.glob("案件-*"))


def test_a_failure_while_writing_records_nothing(
    hostile_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(case_file, "render_letter", broken)
    with open_archive(hostile_desk.db_path) as db:
        with pytest.raises(OSError, match="No space"):
            build_case_file(hostile_desk, db, "X1", as_of=AS_OF, pdf=False)
        assert list_cases(db) == []
        status = db.execute("SELECT status FROM customers WHERE code = 'X1'").fetchone()[0]
    assert status == "active"
    assert not list(hostile_desk.out.glob("案件-*"))


def _rotated_pdf(path: Path, tmp: Path) -> Path:
    source = make_text_pdf(tmp / "plain.pdf", ["横向页面：送货单 第一页"])
    writer = PdfWriter()
    writer.append(str(source))
    writer.pages[0].rotate(90)
    with path.open("wb") as out:
        writer.write(out)
    return path


def test_odd_and_hostile_evidence_files(hostile_desk: Desk, tmp_path: Path) -> None:
    require_soffice()
    files = tmp_path / "files"
    files.mkdir()
    _link(hostile_desk, _rotated_pdf(files / "送货单.pdf", tmp_path), "delivery_note")
    _link(hostile_desk, make_image_png(files / "签收照片.png", "签收"), "photo")
    _link(hostile_desk, cyclic_pdf(files / "cyclic.pdf"))
    _link(hostile_desk, absurd_count_pdf(files / "absurd.pdf"))
    _link(hostile_desk, many_pages_pdf(files / "book.pdf", pages=400))
    _link(hostile_desk, make_encrypted_pdf(files / "locked.pdf", "secret"))
    _link(hostile_desk, pixel_bomb_png(files / "bomb.png"))
    _link(hostile_desk, signature_only_png(files / "empty.png"))
    (files / "清单.xlsx").write_bytes(b"PK\x03\x04 not really")
    _link(hostile_desk, files / "清单.xlsx", "ledger_copy", title=NAME)
    with open_archive(hostile_desk.db_path) as db:
        built = build_case_file(hostile_desk, db, "X1", kind="lawsuit", as_of=AS_OF)
    assert built.pdf is not None
    notes = "\n".join(built.notes)
    by_name = {e.name: e for e in built.exhibits}
    for name in ("cyclic.pdf", "book.pdf", "locked.pdf"):
        assert f"{name}：无法读取或超过300页（原件另附）" in notes, name
        assert by_name[name].first_page is None
    # a page count of two billion over one real page: pypdf reads the page that is there
    absurd = by_name["absurd.pdf"]
    assert (absurd.first_page is not None and absurd.first_page == absurd.last_page) or (
        "absurd.pdf：" in notes
    )
    assert f"{NAME}：此类文件不能并入PDF（原件另附）" in notes
    assert "bomb.png：此类文件不能并入PDF" in notes and "empty.png：此类文件不能并入PDF" in notes
    assert by_name["送货单.pdf"].pages == by_name["送货单.pdf"].pages.strip()
    assert by_name["送货单.pdf"].first_page is not None
    assert by_name["签收照片.png"].first_page is not None
    assert by_name["bomb.png"].first_page is None and by_name["empty.png"].first_page is None
    assert by_name[NAME].first_page is None
    reader = PdfReader(str(built.pdf))
    texts = [p.extract_text() or "" for p in reader.pages]
    front = len(reader.pages) - built.pages
    for n in range(1, built.pages + 1):
        assert f"第 {n} 页" in texts[front + n - 1]
    rotated = reader.pages[front + by_name["送货单.pdf"].first_page - 1]  # type: ignore[operator]
    assert rotated.get("/Rotate") == 90
    catalogue = re.sub(r"\s+", "", "".join(texts[:front]))
    assert "A&B<HK>{{7*7}}" in catalogue  # printed as written, also inside the PDF


def test_the_company_credit_code_and_representative_reach_the_complaint(
    hostile_desk: Desk,
) -> None:
    text = hostile_desk.config_path.read_text(encoding="utf-8")
    text = text.replace('credit_code = ""', 'credit_code = "91330100MA2XXXXX0Y"')
    text = text.replace('representative = ""', 'representative = "张三"')
    hostile_desk.config_path.write_text(text, encoding="utf-8")
    desk = Desk(hostile_desk.root)  # settings read afresh
    with open_archive(desk.db_path) as db:
        built = build_case_file(desk, db, "X1", kind="lawsuit", as_of=AS_OF, pdf=False)
    xml = _docx_text(built.documents[0])
    assert "91330100MA2XXXXX0Y" in xml and "张三" in xml
