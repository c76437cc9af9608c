"""PDFium reads text layers as pypdf does (after normalisation), falls back to pypdf where the
two disagree on a file, and renders pages for OCR in process."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from pdf_factory import make_text_pdf
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject
from tooling import examples

from dunning.archive.contracts import ocr
from dunning.archive.contracts.extract import ExtractLimits, extract_text

PDFIUM = ExtractLimits(ocr=False)
PYPDF = ExtractLimits(ocr=False, text_engine="pypdf")
_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_LINE = st.lists(
    st.one_of(
        _HAN, st.sampled_from(list("合同编号：HT-2025-0001，人民币壹万元整。甲方乙方 0123456789"))
    ),
    min_size=2,
    max_size=60,
).map("".join)
_PAGE = st.lists(_LINE, min_size=1, max_size=8).map("\n".join)


@settings(max_examples=examples(20), deadline=None)
@given(st.lists(_PAGE, min_size=1, max_size=3))
def test_pdfium_and_pypdf_read_the_same_text(pages: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pdf = make_text_pdf(Path(tmp) / "c.pdf", pages)
        fast, slow = extract_text(pdf, PDFIUM), extract_text(pdf, PYPDF)
    assert fast.pages == slow.pages
    assert fast.page_count == len(pages)
    assert fast.sources == ["pdfium" if page.strip() else "" for page in fast.pages]


def test_a_page_of_one_character_lines_keeps_its_characters_in_order(tmp_path: Path) -> None:
    """PDFium cannot tell lines apart when each holds one glyph (it has no line width to go
    by): the line breaks go, the text stays, and search (which joins Chinese across line
    breaks anyway) finds the same words."""
    pdf = make_text_pdf(tmp_path / "column.pdf", ["甲\n方\n：\n杭\n州"])
    fast, slow = extract_text(pdf, PDFIUM), extract_text(pdf, PYPDF)
    assert fast.text.replace("\n", "") == slow.text.replace("\n", "") == "甲方：杭州"


def test_a_page_tree_whose_count_lies_is_read_by_pypdf_page_by_page(tmp_path: Path) -> None:
    good = make_text_pdf(tmp_path / "good.pdf", ["第一页 合同编号：HT-1", "第二页 验收条款"])
    writer = PdfWriter(clone_from=good)
    writer.root_object["/Pages"].get_object()[NameObject("/Count")] = NumberObject(9)
    lying = tmp_path / "lying.pdf"
    with lying.open("wb") as out:
        writer.write(out)
    result = extract_text(lying, PDFIUM)
    assert result.page_count == len(PdfReader(lying).pages)
    assert "HT-1" in result.pages[0] and "验收条款" in result.text
    assert set(result.sources) == {"pypdf"}


def test_many_threads_reading_at_once_each_get_their_own_text(tmp_path: Path) -> None:
    files = [make_text_pdf(tmp_path / f"{n}.pdf", [f"合同编号：HT-{n:04d} 甲方"]) for n in range(8)]
    found: dict[int, str] = {}

    def read(n: int) -> None:
        for _ in range(3):
            found[n] = extract_text(files[n], PDFIUM).text

    threads = [threading.Thread(target=read, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(f"HT-{n:04d}" in found[n] for n in range(8))


def test_a_page_is_rendered_in_process_at_the_asked_resolution(tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "a4.pdf", ["合同"])
    assert abs(ocr.page_inches(pdf, 0) - 11.69) < 0.01  # A4's long side
    image = ocr.render_pdf_page(pdf, 0, tmp_path, dpi=100, timeout_s=30, grey=False)
    with Image.open(image) as page:
        assert page.mode == "RGB"
        assert abs(page.size[1] - 1169) <= 1
        assert page.getextrema() != ((255, 255), (255, 255), (255, 255))  # something is drawn


def test_a_page_pdfium_cannot_open_is_not_rendered_as_a_blank(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
    assert ocr.page_inches(broken, 0) == 0.0
    try:
        image = ocr.render_pdf_page(broken, 0, tmp_path, dpi=100, timeout_s=30)
    except ocr.OcrError:
        return  # neither PDFium nor pdftoppm could draw it: a clear error, not a page
    raise AssertionError(f"a page was drawn from a file without pages: {image}")
