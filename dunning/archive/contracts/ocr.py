"""Page rendering (PDFium, in process) and the Tesseract and poppler command-line tools.

PDFium (pypdfium2, a dependency) renders PDF pages for OCR without a subprocess; poppler's
pdftoppm, when installed, is the fallback for a page PDFium cannot draw. Tesseract and poppler
are optional system tools: callers check `tesseract_available` first, and every failure here is
an `OcrError` the caller turns into "needs OCR" rather than a failed ingest.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pypdfium2 as pdfium

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)
# PDFium is not thread-safe: every use in a process (text here and in extract.py, renders)
# holds this lock. Ingest and OCR run it in worker processes, one PDF at a time anyway.
PDFIUM_LOCK = threading.RLock()

TESSERACT = "tesseract"
PDFTOPPM = "pdftoppm"
PDFTOTEXT = "pdftotext"


class OcrError(Exception):
    """OCR could not run on one page (tool missing, timed out or failed)."""


@cache
def tesseract_languages() -> frozenset[str]:
    """Languages the installed Tesseract can read; empty when Tesseract is missing."""
    exe = shutil.which(TESSERACT)
    if exe is None:
        return frozenset()
    try:
        done = subprocess.run(
            [exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    # Tesseract 4 prints the list on stderr, 5 on stdout; the first line is a heading.
    lines = (done.stdout + "\n" + done.stderr).splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and " " not in line.strip())


def tesseract_available(languages: str = "chi_sim+eng") -> bool:
    """Whether Tesseract is installed with every language in `languages` ("chi_sim+eng")."""
    wanted = {lang for lang in languages.split("+") if lang}
    return bool(wanted) and wanted <= tesseract_languages()


def pdftoppm_available() -> bool:
    """Whether poppler's pdftoppm is on PATH (needed to OCR PDF pages)."""
    return shutil.which(PDFTOPPM) is not None


def run_tool(args: list[str], *, timeout_s: float, what: str) -> str:
    # Tesseract's OpenMP threads fight with our worker processes for the same cores.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            args, capture_output=True, timeout=timeout_s, check=False, env=env, stdin=None
        )
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"{what} 超过 {timeout_s:g} 秒未完成") from exc
    except OSError as exc:
        raise OcrError(f"{what} 无法启动（{exc.strerror or exc}）") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrError(f"{what} 运行失败（{detail[-1] if detail else done.returncode}）")
    return done.stdout.decode("utf-8", "replace")


def ocr_image(image: Path, *, languages: str, timeout_s: float) -> str:
    """Raw Tesseract text of an image file; pages of a multi-page TIFF are split by form feeds."""
    exe = shutil.which(TESSERACT)
    if exe is None:
        raise OcrError("未安装 tesseract")
    return run_tool(
        [exe, str(image), "stdout", "-l", languages], timeout_s=timeout_s, what="tesseract"
    )


def render_pdf_page(
    pdf: Path, page_index: int, out_dir: Path, *, dpi: int, timeout_s: float, grey: bool = True
) -> Path:
    """Render one page (0-based) to a PNG in `out_dir` (colour unless `grey`: stamp ink can then
    be told from toner): PDFium, or pdftoppm for a page PDFium cannot draw."""
    drawn = render_pdf_image(pdf, page_index, out_dir, dpi=dpi, timeout_s=timeout_s, grey=grey)
    if isinstance(drawn, Path):
        return drawn
    image = out_dir / f"page-{page_index + 1}.png"
    try:
        drawn.save(image, compress_level=1)
    except OSError as exc:
        log.info("could not save page %d of %s: %s", page_index + 1, pdf, exc)
        return _pdftoppm_render(pdf, page_index, out_dir, dpi=dpi, timeout_s=timeout_s, grey=grey)
    return image


def render_pdf_image(
    pdf: Path, page_index: int, out_dir: Path, *, dpi: int, timeout_s: float, grey: bool = True
) -> Image | Path:
    """One page drawn in memory by PDFium (no PNG written and read back), or, for a page PDFium
    cannot draw, the PNG pdftoppm made of it in `out_dir`."""
    try:
        with PDFIUM_LOCK:
            return _pdfium_render(pdf, page_index, dpi=dpi, grey=grey)
    except _RENDER_ERRORS as exc:
        log.info("PDFium could not render page %d of %s: %s", page_index + 1, pdf, exc)
        return _pdftoppm_render(pdf, page_index, out_dir, dpi=dpi, timeout_s=timeout_s, grey=grey)


_RENDER_ERRORS = (pdfium.PdfiumError, OSError, ValueError, IndexError)


def _pdfium_render(pdf: Path, page_index: int, *, dpi: int, grey: bool) -> Image:
    doc = pdfium.PdfDocument(pdf, password="")
    try:
        page = doc[page_index]
        try:
            bitmap = page.render(scale=dpi / 72, grayscale=grey)
            image: Image = bitmap.to_pil().convert("L" if grey else "RGB")
            return image
        finally:
            page.close()
    finally:
        doc.close()


def page_inches(pdf: Path, page_index: int) -> float:
    """The longer side of a page in inches (as drawn, after /Rotate); 0 when unknown."""
    with PDFIUM_LOCK:
        return _page_inches(pdf, page_index)


def _page_inches(pdf: Path, page_index: int) -> float:
    try:
        doc = pdfium.PdfDocument(pdf, password="")
    except pdfium.PdfiumError:
        return 0.0
    try:
        width, height = doc.get_page_size(page_index)
    except (pdfium.PdfiumError, IndexError):
        return 0.0
    finally:
        doc.close()
    return float(max(width, height)) / 72


def _pdftoppm_render(
    pdf: Path, page_index: int, out_dir: Path, *, dpi: int, timeout_s: float, grey: bool
) -> Path:
    exe = shutil.which(PDFTOPPM)
    if exe is None:
        raise OcrError("无法渲染这一页（未安装 pdftoppm）")
    number = str(page_index + 1)
    root = out_dir / f"pdftoppm-{number}"
    args = [exe, "-r", str(dpi), *(["-gray"] if grey else []), "-png", "-singlefile"]
    args += ["-f", number, "-l", number]
    run_tool([*args, str(pdf), str(root)], timeout_s=timeout_s, what="pdftoppm")
    image = root.with_suffix(".png")
    if not image.is_file():
        raise OcrError("pdftoppm 没有生成图像")
    return image


def pdftotext_available() -> bool:
    """Whether poppler's pdftotext is on PATH (the second opinion on garbled text layers)."""
    return shutil.which(PDFTOTEXT) is not None


def pdftotext_pages(pdf: Path, first: int, last: int, *, timeout_s: float) -> list[str]:
    """Poppler's text of pages `first`..`last` (0-based, inclusive), one string per page.

    Poppler maps CID fonts through its own CMaps (package poppler-data) where pypdf only has
    the font's ToUnicode table, so it reads some pages pypdf garbles.
    """
    exe = shutil.which(PDFTOTEXT)
    if exe is None:
        raise OcrError("未安装 pdftotext（poppler-utils）")
    args = [exe, "-q", "-enc", "UTF-8", "-f", str(first + 1), "-l", str(last + 1), str(pdf), "-"]
    pages = run_tool(args, timeout_s=timeout_s, what="pdftotext").split("\f")
    wanted = last - first + 1
    return (pages + [""] * wanted)[:wanted]
