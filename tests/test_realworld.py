"""Every real-world file in ../shared/realworld goes through extract_text without surprises.

Each file ends one of three ways: usable text carrying a phrase known from SOURCES.md, pages
flagged for OCR (or OCR'd when Tesseract is installed), or a clean IngestError.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from tooling import (
    require_ocr_for_pdf,
    require_poppler_cmaps,
    require_realworld,
    require_tesseract,
)

from dunning.archive.cjk import is_usable, normalize_text
from dunning.archive.contracts.extract import ExtractLimits, extract_text
from dunning.errors import IngestError

NO_OCR = ExtractLimits(ocr=False)
# pypdf reads the text layers first: the pages it garbles exercise the second opinion and OCR.
PYPDF_FIRST = ExtractLimits(ocr=False, text_engine="pypdf")
# Small renders keep the OCR tests to a few seconds each; 150 dpi still reads these pages.
FAST_OCR = ExtractLimits(ocr_dpi=150, ocr_timeout_s=60)

# File → phrases that must appear in the usable text.
USABLE = {
    "pdfminer_issue_566_test_2.pdf": ["甲方：中国饮料有限公司"],
    "pdfjs_issue13316_reduced.pdf": ["开票通知单"],
    "pdfjs_issue2128r.pdf": ["浅谈校长的魅力", "山西省闻喜县"],
    "pymupdf_test_4546.pdf": ["托运单", "注意事项"],
    "pymupdf_test_3854.pdf": ["天津外代货运有限公司", "托运人"],
    "yuanzhanyi_tech_dev_contract.pdf": ["技术开发合同", "北京摸鱼科技有限公司", "甲方"],
    "unstructured_simplified_chinese.pdf": ["中华人民共和国国务院侨务办公室"],
    # GB 2312 bytes shown as Latin-1 by a WinAnsi font: detected, then decoded back.
    "pdfjs_XiaoBiaoSong.pdf": ["关于红军作战的原则", "一九三七年八月一日"],
}
# File → pages whose text layer is garbage and must be caught.
GARBLED = {
    "pdfminer_issue_566_test_1.pdf": [0],  # "Buyer˖哾㦓": no ToUnicode for one font
    "pymupdf_has-bad-fonts.pdf": [0],  # "佛佛佛佛…": many glyphs mapped to one character
    "ctexkit_xeCJK-example-boundary-register.pdf": [0],  # CFF without ToUnicode: odd scripts
}
# Garbled for pypdf, read right by PDFium and by poppler's pdftotext (its CMaps map the CID font).
SECOND_OPINION = {"ctexkit_xeCJK-example-boundary-register.pdf": ["用户命令的边界间距检查"]}
SCANS = {"mineru_small_ocr_scanned.pdf": 8, "rapiddoc_table_01_scan.jpg": 1}
NOT_CONTRACTS = {"minkolee_kis_kuaijifenlu_xushibu.xlsx"}


KNOWN = sorted(set(USABLE) | set(GARBLED) | set(SCANS) | NOT_CONTRACTS)


def test_fixture_folder_is_complete() -> None:
    found = {p.name for p in require_realworld().iterdir() if p.is_file() and p.suffix != ".md"}
    assert found == set(KNOWN)


# The names are listed here, not read from the folder: a missing folder fails or skips every
# case (require_realworld) instead of collecting nothing.
@pytest.mark.parametrize("name", KNOWN)
def test_every_file_ends_cleanly(name: str) -> None:
    path = require_realworld() / name
    try:
        result = extract_text(path, NO_OCR)
    except IngestError as exc:
        assert path.name in NOT_CONTRACTS, exc
        assert "不是 PDF 或扫描图片" in str(exc)
        return
    assert result.page_count == len(result.pages) >= 1
    if path.name in USABLE:
        assert (result.needs_ocr, result.unusable_pages) == (False, [])
        for phrase in USABLE[path.name]:
            assert phrase in result.text
    elif path.name in SECOND_OPINION:
        assert (result.needs_ocr, result.unusable_pages, result.sources) == (False, [], ["pdfium"])
        for phrase in SECOND_OPINION[path.name]:
            assert phrase in result.text
        require_poppler_cmaps()
        result = extract_text(path, PYPDF_FIRST)
        assert (result.needs_ocr, result.unusable_pages, result.sources) == (
            False,
            [],
            ["pdftotext"],
        )
        for phrase in SECOND_OPINION[path.name]:
            assert phrase in result.text
    elif path.name in GARBLED:
        assert result.unusable_pages == GARBLED[path.name]
        assert result.needs_ocr
    else:
        assert result.page_count == SCANS[path.name]
        assert result.needs_ocr
        assert result.unusable_pages == list(range(result.page_count))


@pytest.mark.parametrize("name", [*GARBLED, "pdfjs_XiaoBiaoSong.pdf"])
def test_raw_pypdf_text_of_garbled_files_is_detected(name: str) -> None:
    """The detector itself, on pypdf's raw output (before any repair)."""
    path = _fixture(name)
    pages = [normalize_text(page.extract_text()) for page in PdfReader(path).pages]
    assert not is_usable(pages[0])


def _fixture(name: str) -> Path:
    path = require_realworld() / name
    assert path.is_file(), f"{path} is missing from the real-world fixtures"
    return path


def test_ocr_replaces_broken_tounicode_text() -> None:
    require_ocr_for_pdf()
    result = extract_text(_fixture("pdfminer_issue_566_test_1.pdf"), FAST_OCR)
    assert (result.ocr_pages, result.unusable_pages, result.needs_ocr) == (1, [], False)
    assert "2019-4-25" in result.text
    assert "哾" not in result.text


def test_ocr_reads_cff_page_without_tounicode() -> None:
    require_ocr_for_pdf()
    limits = replace(FAST_OCR, second_opinion=False, text_engine="pypdf")
    result = extract_text(_fixture("ctexkit_xeCJK-example-boundary-register.pdf"), limits)
    assert (result.ocr_pages, result.unusable_pages) == (1, [])
    assert "边界" in result.text


def test_second_opinion_reads_cff_page_without_tounicode_and_skips_ocr() -> None:
    require_poppler_cmaps()
    limits = replace(FAST_OCR, text_engine="pypdf")
    result = extract_text(_fixture("ctexkit_xeCJK-example-boundary-register.pdf"), limits)
    assert (result.ocr_pages, result.unusable_pages, result.sources) == (0, [], ["pdftotext"])
    assert "用户命令的边界间距检查" in result.text


def test_ocr_cannot_fix_missing_fonts_so_the_page_stays_flagged() -> None:
    """pdftoppm draws the non-embedded GBK fonts as boxes: OCR reads nothing better."""
    require_ocr_for_pdf()
    result = extract_text(_fixture("pymupdf_has-bad-fonts.pdf"), FAST_OCR)
    assert (result.ocr_pages, result.unusable_pages) == (1, [0])
    assert "佛山市柏年建材有限公司" in result.text  # the text layer was kept


def test_ocr_of_scanned_book_page_is_capped() -> None:
    require_ocr_for_pdf()
    limits = ExtractLimits(ocr_dpi=150, ocr_max_pages=1)
    result = extract_text(_fixture("mineru_small_ocr_scanned.pdf"), limits)
    assert (result.page_count, result.ocr_pages, result.needs_ocr) == (8, 1, True)
    assert "商品" in result.pages[0]
    assert result.unusable_pages == list(range(1, 8))


def test_ocr_of_scanned_jpeg() -> None:
    require_tesseract()
    result = extract_text(_fixture("rapiddoc_table_01_scan.jpg"), ExtractLimits())
    assert (result.ocr_pages, result.needs_ocr, result.unusable_pages) == (1, False, [])
    assert "溶液" in result.text
