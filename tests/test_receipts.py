"""Signed receipts coming back: generate → PDF → drop into the inbox → the letter is signed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from pdf_factory import make_image_pdf
from scan_factory import draw_page, page_lines, save_png
from tooling import require_ocr_for_pdf, require_tool

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.demo import simple_pdf
from dunning.desk import Desk
from dunning.ingest.ocr_queue import OcrReader
from dunning.ingest.pipeline import ingest_paths
from dunning.letters.pdf import convert_to_pdf, soffice_path
from dunning.letters.registry import find_refs


def _pack(desk: Desk, runner: CliRunner, invoice_csv: Path) -> dict:
    assert not ingest_paths(desk, [invoice_csv]).of("failed")
    result = runner.invoke(
        main,
        ["--desk", str(desk.root), "pack", "--allow-no-address", "--as-of", "2025-06-30", "--json"],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _letter(desk: Desk, ref: str) -> tuple[str, int | None]:
    with open_archive(desk.db_path) as db:
        return db.execute(
            "SELECT status, signed_document_id FROM letters WHERE ref = ?", [ref]
        ).fetchone()


def test_find_refs_tolerates_ocr_noise() -> None:
    assert find_refs("函件编号：cs-2025-000012 …CS – 2025 – 000012, CS-2025-000013") == [
        "CS-2025-000012",
        "CS-2025-000013",
    ]


def test_signed_receipt_round_trip_through_libreoffice(
    desk: Desk, runner: CliRunner, invoice_csv: Path
) -> None:
    require_tool(
        "LibreOffice",
        lambda: soffice_path() is not None,
        install="apt-get install libreoffice-writer-nogui",
    )
    pack = _pack(desk, runner, invoice_csv)
    letter = pack["letters"][0]
    receipt_docx = Path(pack["pack"]) / next(f for f in letter["files"] if "receipt" in f)
    (receipt_pdf,) = convert_to_pdf([receipt_docx])
    dropped = desk.inbox / "receipts" / "扫描件001.pdf"
    shutil.copyfile(receipt_pdf, dropped)
    report = ingest_paths(desk, [desk.inbox])
    assert [o.status for o in report.outcomes] == ["archived"]
    assert report.outcomes[0].label == f"签收回执，签回函件 {letter['ref']}"
    status, doc = _letter(desk, letter["ref"])
    assert status == "signed" and doc == report.outcomes[0].document
    shown = json.loads(
        runner.invoke(
            main, ["--desk", str(desk.root), "customer", letter["customer"], "--json"]
        ).stdout
    )
    signed = next(lt for lt in shown["letters"] if lt["ref"] == letter["ref"])
    assert signed["status"] == "signed" and signed["signed_document"] == doc
    assert any(entry["kind"] == "receipt" for entry in shown["log"])


def test_a_scanned_receipt_found_by_content_in_the_inbox_root(
    desk: Desk, runner: CliRunner, invoice_csv: Path
) -> None:
    require_ocr_for_pdf()
    pack = _pack(desk, runner, invoice_csv)
    ref = pack["letters"][1]["ref"]
    make_image_pdf(desk.inbox / "scan.pdf", f"签收回执\n函件编号 {ref}\n已签收")
    report = ingest_paths(desk, [desk.inbox])
    # Archived at once as a scan; what it is shows once OCR has read it.
    assert report.outcomes[0].kind == "contract", report.outcomes[0]
    assert _letter(desk, ref)[0] == "issued"
    with OcrReader.for_desk(desk) as reader:
        reader.drain()
    assert _letter(desk, ref)[0] == "signed"
    with open_archive(desk.db_path) as db:
        assert db.execute(
            "SELECT kind FROM documents WHERE id = ?", [report.outcomes[0].document]
        ).fetchone() == ("receipt",)


def test_a_text_pdf_quoting_a_reference_signs_nothing(
    desk: Desk, runner: CliRunner, invoice_csv: Path
) -> None:
    pack = _pack(desk, runner, invoice_csv)
    ref = pack["letters"][1]["ref"]
    (desk.inbox / "reply.pdf").write_bytes(simple_pdf(["关于贵司", f"{ref}号催款函的回复"]))
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert (outcome.status, outcome.kind) == ("archived", "contract")
    assert _letter(desk, ref)[0] == "issued"


def test_a_page_naming_several_letters_is_not_a_signature(
    desk: Desk, runner: CliRunner, invoice_csv: Path
) -> None:
    pack = _pack(desk, runner, invoice_csv)
    refs = [letter["ref"] for letter in pack["letters"]]
    (desk.inbox / "receipts" / "all.pdf").write_bytes(simple_pdf(["回执", *refs]))
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert outcome.status == "failed"
    assert "上有多个函件编号" in (outcome.reason or "")
    assert all(_letter(desk, ref)[0] == "issued" for ref in refs)


def test_a_receipt_with_an_unknown_reference_is_quarantined(
    desk: Desk, runner: CliRunner, invoice_csv: Path
) -> None:
    _pack(desk, runner, invoice_csv)
    path = desk.inbox / "receipts" / "wrong.pdf"
    path.write_bytes(simple_pdf(["签收回执", "函件编号：CS-2025-999999"]))
    nothing = desk.inbox / "receipts" / "blank.pdf"
    nothing.write_bytes(simple_pdf(["签收回执", "没有编号"]))
    report = ingest_paths(desk, [desk.inbox])
    assert [o.status for o in report.outcomes] == ["failed", "failed"]
    reasons = " ".join(o.reason or "" for o in report.outcomes)
    assert "上的函件编号 CS-2025-999999 不是本工作台发出的" in reasons
    assert "上没有函件编号" in reasons
    assert (desk.failed / "wrong.pdf.error.txt").is_file()
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT count(*) FROM letters WHERE status = 'signed'").fetchone()[0] == 0


def test_a_sealed_and_signed_receipt_scan_signs_its_letter(
    desk: Desk, runner: CliRunner, invoice_csv: Path
) -> None:
    """The reference is read through the OCR engine under a red seal and a pen signature."""
    require_ocr_for_pdf()
    pack = _pack(desk, runner, invoice_csv)
    ref = pack["letters"][0]["ref"]
    lines = ["签收回执", *page_lines(21, count=6, ref=ref)[1:]]
    page = draw_page(lines, seal=True, signature=True, seal_at_line=1, seed=21)
    save_png(page, desk.inbox / "receipts" / "回执扫描.png")
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert (outcome.status, outcome.kind) == ("archived", "receipt"), outcome.reason
    assert outcome.label == f"签收回执，签回函件 {ref}"
    assert _letter(desk, ref) == ("signed", outcome.document)
