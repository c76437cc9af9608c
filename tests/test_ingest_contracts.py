"""Contracts and scans through the one ingest pipeline: classify, extract, link, quarantine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from pdf_factory import (
    make_encrypted_pdf,
    make_image_pdf,
    make_image_png,
    make_text_pdf,
    make_truncated_pdf,
)
from tooling import require_ocr_for_pdf, require_realworld

from dunning.archive.db import open_archive
from dunning.archive.search.query import search, unsearchable_count
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.ocr_queue import OcrReader
from dunning.ingest.pipeline import ingest_paths
from dunning.workflow.verify import verify

CONTRACT = [
    "工业品买卖合同\n合同编号：HT-2025-0001\n买方（甲方）：杭州明远贸易有限公司\n"
    "卖方（乙方）：示例贸易有限公司\n签订日期：2025年1月2日",
    "第一条 合同总价：人民币15,500.50元。\n第四条 违约责任：每逾期一日按逾期金额的万分之五支付违约金。",
    "第五条 质保金于质保期满后退还。\n甲方（盖章）： 乙方（盖章）：",
]


def set_option(desk: Desk, old: str, new: str) -> None:
    text = desk.config_path.read_text(encoding="utf-8")
    assert old in text
    desk.config_path.write_text(text.replace(old, new), encoding="utf-8")


def no_ocr(desk: Desk) -> Desk:
    set_option(desk, "ocr = true", "ocr = false")
    return Desk(desk.root)


def test_contract_is_archived_extracted_and_linked_to_the_ledger(
    desk: Desk, invoice_csv: Path
) -> None:
    ingest_paths(desk, [invoice_csv])
    make_text_pdf(desk.inbox / "contracts" / "scan-001.pdf", CONTRACT)
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert (outcome.status, outcome.kind, outcome.label) == (
        "archived",
        "contract",
        "合同 HT-2025-0001",
    )
    with open_archive(desk.db_path) as db:
        doc = db.execute(
            "SELECT customer_code, contract_no, pages, needs_ocr FROM documents WHERE id = ?",
            [outcome.document],
        ).fetchone()
        contract = db.execute(
            "SELECT customer_code, amount_fen, signed_on, document_id FROM contracts"
            " WHERE contract_no = 'HT-2025-0001'"
        ).fetchone()
        text = db.execute(
            "SELECT text FROM document_text WHERE document_id = ?", [outcome.document]
        ).fetchone()[0]
        hits = search(db, "违约金")
    assert doc == ("C001", "HT-2025-0001", 3, 0)
    assert contract == ("C001", 1550050, "2025-01-02", outcome.document)
    assert "杭州明远贸易有限公司" in text and " 违约金" not in text
    assert [h.document for h in hits] == [outcome.document]
    assert not (desk.inbox / "contracts" / "scan-001.pdf").exists()


def test_contract_found_by_name_when_the_number_is_new(desk: Desk, invoice_csv: Path) -> None:
    ingest_paths(desk, [invoice_csv])
    pages = [CONTRACT[0].replace("HT-2025-0001", "HT-2025-0099"), *CONTRACT[1:]]
    make_text_pdf(desk.inbox / "HT-2025-0099.pdf", pages)
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    with open_archive(desk.db_path) as db:
        row = db.execute(
            "SELECT customer_code FROM contracts WHERE contract_no = 'HT-2025-0099'"
        ).fetchone()
    assert outcome.kind == "contract" and row == ("C001",)


def test_content_decides_the_kind_not_the_extension(desk: Desk) -> None:
    desk = no_ocr(desk)
    make_image_png(desk.inbox / "looks-like.pdf", "合同编号 HT-2025-0007")
    make_text_pdf(desk.inbox / "really-a-pdf.csv", CONTRACT)
    outcomes = {o.file.name: o for o in ingest_paths(desk, [desk.inbox]).outcomes}
    assert outcomes["really-a-pdf.csv"].kind == "contract"
    assert outcomes["really-a-pdf.csv"].status == "archived"
    assert outcomes["looks-like.pdf"].status == "archived"
    assert "页待识别" in outcomes["looks-like.pdf"].label
    with open_archive(desk.db_path) as db:
        mimes = dict(db.execute("SELECT original_name, mime FROM documents").fetchall())
        assert unsearchable_count(db) == 1
    assert mimes == {"looks-like.pdf": "png", "really-a-pdf.csv": "pdf"}


def test_every_kind_of_bad_file_is_quarantined_and_the_rest_goes_on(desk: Desk) -> None:
    set_option(desk, "max_pages = 500", "max_pages = 2")
    desk = Desk(desk.root)
    contracts = desk.inbox / "contracts"
    (contracts / "empty.pdf").write_bytes(b"")
    make_truncated_pdf(contracts / "truncated.pdf")
    make_encrypted_pdf(contracts / "locked.pdf", "s3cret")
    make_encrypted_pdf(contracts / "open-lock.pdf", "")
    (contracts / "notes.pdf").write_text("这不是PDF，只是一段文字。\n", encoding="utf-8")
    make_text_pdf(contracts / "long.pdf", CONTRACT)  # 3 pages, cap 2
    make_text_pdf(contracts / "good.pdf", CONTRACT[:2])
    outcomes = {o.file.name: o for o in ingest_paths(desk, [desk.inbox]).outcomes}
    assert {n for n, o in outcomes.items() if o.status == "archived"} == {
        "good.pdf",
        "open-lock.pdf",
    }
    reasons = {n: o.reason or "" for n, o in outcomes.items() if o.status == "failed"}
    assert "是空文件" in reasons["empty.pdf"]
    assert "PDF 已损坏或不完整" in reasons["truncated.pdf"]
    assert "设有密码" in reasons["locked.pdf"]
    assert "不是 PDF 或扫描图片" in reasons["notes.pdf"]
    assert "超过合同 2 页的上限" in reasons["long.pdf"]
    for name in reasons:
        assert (desk.failed / name).is_file()
        assert (
            (desk.failed / f"{name}.error.txt")
            .read_text(encoding="utf-8")
            .startswith(reasons[name].split(":")[0])
        )
    with open_archive(desk.db_path) as db:
        assert verify(desk, db).ok


def test_size_cap(desk: Desk) -> None:
    set_option(desk, "max_file_mb = 100", "max_file_mb = 0")
    desk = Desk(desk.root)
    make_text_pdf(desk.inbox / "contracts" / "big.pdf", CONTRACT)
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert outcome.status == "failed" and "超过 0 MB 的上限" in (outcome.reason or "")


def test_duplicate_contract_is_reported_with_the_existing_document(
    desk: Desk, tmp_path: Path
) -> None:
    original = make_text_pdf(tmp_path / "a.pdf", CONTRACT)
    shutil.copyfile(original, desk.inbox / "contracts" / "a.pdf")
    ingest_paths(desk, [desk.inbox])
    shutil.copyfile(original, desk.inbox / "contracts" / "a-again.pdf")
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert outcome.status == "duplicate" and outcome.document == 1
    assert "与文档 1（a.pdf，" in (desk.failed / "a-again.pdf.error.txt").read_text(
        encoding="utf-8"
    )


def test_image_only_contract_is_archived_at_once_then_ocrd_by_the_queue(desk: Desk) -> None:
    require_ocr_for_pdf()
    set_option(desk, "max_pages = 500", "max_pages = 5")
    make_image_pdf(desk.inbox / "contracts" / "scan.pdf", "违约金条款\n合同编号 HT-2025-0042")
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert outcome.status == "archived", outcome.reason
    assert "，1 页待识别" in outcome.label
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT needs_ocr FROM documents").fetchone() == (1,)
        assert search(db, "违约金") == []
    with OcrReader.for_desk(desk) as reader:
        (page,) = reader.drain()
    assert (page.document, page.page, page.state, page.document_done) == (1, 1, "done", True)
    with open_archive(desk.db_path) as db:
        needs_ocr, meta, number = db.execute(
            "SELECT needs_ocr, meta, contract_no FROM documents"
        ).fetchone()
        assert needs_ocr == 0 and json.loads(meta)["ocr_pages"] == 1
        assert number == "HT-2025-0042"  # read from the OCR'd text once the last page was done
        assert [h.document for h in search(db, "违约金")] == [outcome.document]


def test_without_ocr_the_scan_is_archived_and_search_says_so(desk: Desk, runner: CliRunner) -> None:
    desk = no_ocr(desk)
    make_image_pdf(desk.inbox / "contracts" / "scan.pdf", "违约金条款")
    ingest_paths(desk, [desk.inbox])
    result = runner.invoke(main, ["--desk", str(desk.root), "search", "违约金"])
    assert result.exit_code == 0
    assert "1 份文档有 1 页等待 OCR 识别，暂时不能全文搜索" in (result.stderr)


def test_show_open_and_verify_cover_contracts(desk: Desk, runner: CliRunner) -> None:
    make_text_pdf(desk.inbox / "contracts" / "c.pdf", CONTRACT)
    ingest_paths(desk, [desk.inbox])
    base = ["--desk", str(desk.root)]
    shown = json.loads(runner.invoke(main, [*base, "show", "1", "--json"]).stdout)
    assert shown["contract_no"] == "HT-2025-0001" and shown["pages"] == 3
    assert shown["meta"]["amount"] == "15500.50"
    path = Path(runner.invoke(main, [*base, "open", "1", "--path"]).stdout.strip())
    assert path.read_bytes()[:5] == b"%PDF-"
    assert runner.invoke(main, [*base, "show", "99"]).exit_code == 1
    path.chmod(0o644)
    path.write_bytes(b"%PDF-1.4 tampered")
    result = runner.invoke(main, [*base, "verify", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"][0]["kind"] == "altered"


def test_every_realworld_file_goes_through_the_pipeline(desk: Desk, runner: CliRunner) -> None:
    """SPEC §8: archived with searchable text, or quarantined with a reason; never a crash."""
    desk = no_ocr(desk)
    files = sorted(
        p for p in require_realworld().iterdir() if p.suffix.lower() in (".pdf", ".jpg", ".xlsx")
    )
    assert len(files) >= 14
    for f in files:
        shutil.copyfile(f, desk.inbox / f.name)
    result = runner.invoke(main, ["--desk", str(desk.root), "ingest", "--json", str(desk.inbox)])
    data = json.loads(result.stdout)
    assert len(data["archived"]) + len(data["failed"]) == len(files)
    failed = {Path(f["file"]).name: f["reason"] for f in data["failed"]}
    assert set(failed) == {"minkolee_kis_kuaijifenlu_xushibu.xlsx"}
    assert "会计分录序时簿" in failed["minkolee_kis_kuaijifenlu_xushibu.xlsx"]
    with open_archive(desk.db_path) as db:
        flagged = {
            r[0] for r in db.execute("SELECT original_name FROM documents WHERE needs_ocr = 1")
        }
        assert {"mineru_small_ocr_scanned.pdf", "rapiddoc_table_01_scan.jpg"} <= flagged
        for phrase, name in [
            ("技术开发合同", "yuanzhanyi_tech_dev_contract.pdf"),
            ("开票通知单", "pdfjs_issue13316_reduced.pdf"),
            ("中国饮料有限公司", "pdfminer_issue_566_test_2.pdf"),
            ("国务院侨务办公室", "unstructured_simplified_chinese.pdf"),
        ]:
            found = {h.title for h in search(db, phrase, limit=50)} | {
                db.execute(
                    "SELECT original_name FROM documents WHERE id = ?", [h.document]
                ).fetchone()[0]
                for h in search(db, phrase, limit=50)
            }
            assert name in found, phrase
        assert verify(desk, db).ok
    assert not any(p.is_file() for p in desk.inbox.iterdir())


def test_ingesting_the_desk_folder_itself_takes_only_the_inbox(
    desk: Desk, runner: CliRunner, invoice_csv: Path
) -> None:
    ingest_paths(desk, [invoice_csv])
    assert (
        runner.invoke(
            main, ["--desk", str(desk.root), "pack", "--allow-no-address", "--as-of", "2025-06-30"]
        ).exit_code
        == 0
    )
    make_text_pdf(desk.inbox / "contracts" / "c.pdf", CONTRACT)
    result = runner.invoke(main, ["--desk", str(desk.root), "ingest", "--json", str(desk.root)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [Path(a["file"]).name for a in data["archived"]] == ["c.pdf"]
    assert data["failed"] == [] and data["duplicates"] == []
    assert not any(desk.failed.iterdir())
