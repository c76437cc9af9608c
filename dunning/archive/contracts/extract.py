"""Searchable text of a contract: PDF text layers via PDFium, scans and garbled pages via OCR.

`extract_text` is the one entry point. It raises `IngestError` with a sentence a clerk can act
on for files that cannot be read at all; a readable file whose pages have no usable text comes
back with `needs_ocr=True` (or OCR'd text, when Tesseract is installed) instead.

PDFium (pypdfium2) reads the text layers, 1.5-2x faster than pypdf on Chinese pages here; pypdf
still opens every file first (encryption, the page tree's /Count, the title), reads any page
PDFium cannot, and gives its own reading of a page PDFium garbles. PDFium is not thread-safe:
its calls hold `ocr.PDFIUM_LOCK`; extraction runs in worker processes anyway.

pypdf warns and logs freely on broken files and tests run with warnings as errors, so the
pypdf calls run under `warnings.catch_warnings()`. That context manager is process-global:
call `extract_text` from worker processes (`dunning.workers`), not from several
threads of one process, if the warnings filters of other threads matter.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from pypdf import PageObject, PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError
from pypdf.generic import DictionaryObject, TextStringObject

from dunning.archive.cjk import (
    common_han,
    has_letters,
    is_usable,
    normalize_text,
    repair_gb_mojibake,
    score_text,
    text_merit,
    text_quality,
)
from dunning.archive.contracts import ocr, ocr_engines
from dunning.archive.contracts.imagecheck import check_image
from dunning.archive.sniff import sniff
from dunning.errors import IngestError
from dunning.vocabulary import FILE_TYPES, title

log = logging.getLogger(__name__)

_MB = 1024 * 1024
# A scanned page often carries a tiny text layer (a page number, a stamp's caption); with
# an image on the page and fewer letters than this, the page is treated as a scan.
SCAN_TEXT_CHARS = 20
_IMAGE_KINDS = ("png", "jpeg", "tiff")
_UTF_BOMS = (b"\xfe\xff", b"\xff\xfe", b"\xef\xbb\xbf")


@dataclass(frozen=True)
class ExtractLimits:
    """Caps and OCR settings for one file."""

    max_bytes: int = 100 * _MB
    max_pages: int = 500
    ocr_languages: str = "chi_sim+eng"
    ocr: bool = True  # read pages here; False: leave them to the OCR queue (`ocr_queue`)
    ocr_engine: str = "auto"  # auto | rapidocr | tesseract
    ocr_dpi: int = 0  # 0: the engine's own
    ocr_timeout_s: float = 120.0  # per page, for each external program (tesseract, pdftoppm)
    ocr_max_pages: int = 50  # pages beyond this stay unread and flag needs_ocr
    second_opinion: bool = True  # try poppler's pdftotext on pages PDFium garbles
    text_engine: str = "pdfium"  # pdfium | pypdf: what reads text layers first


@dataclass
class ExtractedText:
    """Normalised text of each page, and what still needs a human or OCR."""

    pages: list[str]
    page_count: int
    needs_ocr: bool = False  # a page has no usable text and OCR was off, missing or failed
    ocr_pages: int = 0  # pages that went through Tesseract
    title: str | None = None
    unusable_pages: list[int] = field(default_factory=list)  # 0-based, after OCR
    # What produced each page's text: pdfium, pypdf, pdftotext, rapidocr, tesseract; "" for a page
    # with no usable text yet (waiting for OCR).
    sources: list[str] = field(default_factory=list)
    is_image: bool = False  # a scanned image file (JPG, PNG, TIFF), not a PDF
    ocr_wanted: list[int] = field(default_factory=list)  # 0-based pages left for OCR to read

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


def extract_text(path: Path, limits: ExtractLimits) -> ExtractedText:
    """Read a PDF or a scanned image into normalised page text, OCR-ing pages that need it."""
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{path.name} 是空文件（0 字节）：请从来源重新复制。")
    if size > limits.max_bytes:
        raise IngestError(
            f"{path.name} 有 {size / _MB:.1f} MB，超过合同 {limits.max_bytes / _MB:g} MB 的上限："
            "请压缩或拆分后重新放入。"
        )
    kind = sniff(path)
    if kind == "pdf":
        return _extract_pdf(path, limits)
    if kind in _IMAGE_KINDS:
        check_image(path)  # damaged images and pixel bombs stop here, before OCR
        return _extract_image(path, limits)
    raise IngestError(
        f"{path.name} 不是 PDF 或扫描图片（内容识别为 {title(FILE_TYPES, kind)}）："
        "请把合同另存为 PDF 后重新放入。"
    )


def _extract_pdf(path: Path, limits: ExtractLimits) -> ExtractedText:
    with warnings.catch_warnings():
        # pypdf warns on every oddity of a broken file; the outcome is judged below instead.
        warnings.simplefilter("ignore")
        read = _read_pdf(path, limits)
    result = ExtractedText(pages=[], page_count=len(read.raw), title=read.title)
    layers = [_layer_text(raw) for raw in read.raw]
    pending = [
        i
        for i, (layer, scan) in enumerate(zip(layers, read.scans, strict=True))
        if scan or not layer[1]
    ]
    second = _second_opinion(path, pending, limits) if pending else {}
    for index, (text, _usable) in enumerate(layers):
        source = read.sources[index] if text else ""
        for other, by in (_pypdf_opinion(read, index, pending), (second.get(index), "pdftotext")):
            if other is not None and text_merit(other) > text_merit(text):
                text, source = other, by
        result.sources.append(source)
        if index in pending and (read.scans[index] or not is_usable(text)):
            text = _ocr_pdf_page(path, index, text, limits, result)
        result.pages.append(text)
    return result


def _pypdf_opinion(read: _PdfRead, index: int, pending: list[int]) -> tuple[str | None, str]:
    """pypdf's own reading of a page PDFium garbled: the two map some broken fonts differently."""
    if index not in pending or read.sources[index] != "pdfium" or read.reader is None:
        return None, "pypdf"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            page = read.reader.pages[index]
        except Exception:
            # A page tree pypdf cannot walk: PDFium's reading (and pdftotext's) stand.
            log.info("pypdf could not find page %d of %s", index + 1, read.path, exc_info=True)
            return None, "pypdf"
        raw = _page_text(read.path, index, page)
    return _layer_text(raw)[0], "pypdf"


def _second_opinion(path: Path, pages: list[int], limits: ExtractLimits) -> dict[int, str]:
    """Poppler's normalised text of the pages pypdf could not read well (one pdftotext run)."""
    if not limits.second_opinion or not ocr.pdftotext_available():
        return {}
    first, last = min(pages), max(pages)
    try:
        texts = ocr.pdftotext_pages(path, first, last, timeout_s=limits.ocr_timeout_s)
    except ocr.OcrError as exc:
        log.warning("pdftotext failed on %s: %s", path, exc)
        return {}
    return {i: normalize_text(texts[i - first]) for i in pages}


def _layer_text(raw: str) -> tuple[str, bool]:
    """Normalised text of a page's text layer (GB bytes read as Latin-1 put right); usable?"""
    text = normalize_text(raw)
    if is_usable(text):
        return text, True
    if score_text(text).mojibake > 0.2:
        repaired = normalize_text(repair_gb_mojibake(raw))
        if text_merit(repaired) > text_merit(text):
            return repaired, is_usable(repaired)
    return text, False


@dataclass
class _PdfRead:
    """A PDF's raw page texts, which pages look scanned, what read each page, and the title."""

    path: Path
    raw: list[str]
    scans: list[bool]
    sources: list[str]  # pdfium or pypdf
    title: str | None
    reader: PdfReader | None = None


def _read_pdf(path: Path, limits: ExtractLimits) -> _PdfRead:
    """Raw page texts (PDFium, else pypdf per page) and scan flags; IngestError if unreadable."""
    try:
        reader = _open_pdf(path)
        texts = _pdfium_texts(path, reader, limits) if limits.text_engine == "pdfium" else None
        if texts is not None and None in texts and len(reader.pages) != len(texts):
            # A page PDFium could not load, and pypdf's walk of the tree finds another count
            # (a /Count that lies): page numbers would not line up, so pypdf reads them all.
            texts = None
        count = len(texts) if texts is not None else len(reader.pages)
        _check_page_count(path, count, limits)
        if texts is None:
            texts = [None] * count
        read = _PdfRead(path, [], [], [], _title(reader), reader)
        for index, fast in enumerate(texts):
            # pypdf walks its page tree only for a page PDFium could not read or one that looks
            # like a scan: on a clean contract that walk costs as much as PDFium's reading.
            raw = fast if fast is not None else _page_text(path, index, reader.pages[index])
            read.raw.append(raw)
            read.sources.append("pdfium" if fast is not None else "pypdf")
            scan = not has_letters(raw, SCAN_TEXT_CHARS) and _has_image(reader.pages[index])
            read.scans.append(scan)
        return read
    except IngestError:
        raise
    except FileNotDecryptedError as exc:
        raise _encrypted(path) from exc
    except DependencyError as exc:
        raise IngestError(
            f"{path.name} 的加密方式本机无法读取：请安装带 `pypdf[crypto]` 的 dunning，"
            "或另存一份无密码的副本后重新放入。"
        ) from exc
    except PdfReadError as exc:
        raise _damaged(path, exc) from exc
    except Exception as exc:
        # pypdf raises assorted internal errors (KeyError, ValueError, RecursionError...) on
        # broken files; at this per-file boundary they all mean "cannot read this PDF".
        log.warning("pypdf failed on %s", path, exc_info=True)
        raise _damaged(path, exc) from exc


def _check_page_count(path: Path, count: int, limits: ExtractLimits) -> None:
    if count > limits.max_pages:
        raise IngestError(
            f"{path.name} 有 {count} 页，超过合同 {limits.max_pages} 页的上限：请拆分后重新放入。"
        )


def _pdfium_texts(path: Path, reader: PdfReader, limits: ExtractLimits) -> list[str | None] | None:
    """PDFium's text of each page (None for a page it cannot read), or None for the file."""
    with ocr.PDFIUM_LOCK:
        doc = _open_pdfium(path, reader)
        if doc is None:
            return None
        try:
            _check_page_count(path, len(doc), limits)
            return [_pdfium_page_text(doc, index) for index in range(len(doc))]
        finally:
            doc.close()


def _open_pdfium(path: Path, reader: PdfReader) -> pdfium.PdfDocument | None:
    """The file opened by PDFium, when its page count agrees with the page tree's /Count.

    PDFium and pypdf repair a broken page tree each their own way, and then page numbers would
    not line up: pypdf reads every page of such a file instead (None).
    """
    try:
        doc = pdfium.PdfDocument(path, password="")
    except pdfium.PdfiumError:
        log.info("PDFium could not open %s; reading it with pypdf", path)
        return None
    if len(doc) != _declared_pages(reader):
        doc.close()
        return None
    return doc


def _declared_pages(reader: PdfReader) -> int:
    """The page tree root's /Count (cheap: no walk of the tree); -1 when it has none."""
    try:
        pages: Any = reader.root_object["/Pages"]
        pages = pages.get_object()
        return int(pages["/Count"])
    except Exception:
        log.debug("no /Count at the page tree root", exc_info=True)
        return -1


def _pdfium_page_text(doc: pdfium.PdfDocument, index: int) -> str | None:
    try:
        page = doc[index]
        try:
            textpage = page.get_textpage()
            try:
                # PDFium marks a hyphen that ends a line as \x02 (a soft hyphen): the page
                # shows a hyphen and a line break, and "HT-2025-" / "0001" must stay apart.
                return str(textpage.get_text_bounded()).replace("\x02", "-\n")
            finally:
                textpage.close()
        finally:
            page.close()
    except pdfium.PdfiumError:
        log.info("PDFium could not read page %d of %s", index + 1, doc, exc_info=True)
        return None


def _open_pdf(path: Path) -> PdfReader:
    reader = PdfReader(path, strict=False)
    # Files "protected" with an empty user password open in every viewer; read them too.
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise _encrypted(path)
    return reader


def _page_text(path: Path, index: int, page: PageObject) -> str:
    """One page's raw text; a page pypdf cannot parse counts as empty (and goes to OCR)."""
    try:
        return page.extract_text()
    except (FileNotDecryptedError, DependencyError):
        raise
    except Exception:
        # One broken content stream should not lose the other pages of a contract.
        log.warning("pypdf could not read page %d of %s", index + 1, path, exc_info=True)
        return ""


def _has_image(page: PageObject) -> bool:
    """Whether a page draws an image (with next to no text, it is a scan despite a text layer)."""
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not isinstance(xobjects, DictionaryObject):
            return False
        return any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
    except Exception:
        log.debug("could not inspect images on a page", exc_info=True)
        return False


def _title(reader: PdfReader) -> str | None:
    """The document title; Chinese producers write GBK or UTF-8 bytes without a BOM."""
    try:
        meta = reader.metadata
        value = meta.get("/Title") if meta is not None else None
        value = value.get_object() if value is not None else None
    except Exception:
        log.debug("unreadable metadata", exc_info=True)
        return None
    if isinstance(value, TextStringObject):
        title = str(value)
        raw = value.get_original_bytes()
        if not title.isascii() and not raw.startswith(_UTF_BOMS):
            title = _decode_title_bytes(raw, fallback=title)
    elif isinstance(value, bytes):
        title = _decode_title_bytes(bytes(value), fallback="")
    else:
        return None
    title = normalize_text(title)
    return title or None


def _decode_title_bytes(raw: bytes, *, fallback: str) -> str:
    """UTF-8, else GB18030, else what pypdf made of it: whichever reads as real text."""
    for codec in ("utf-8", "gb18030"):
        try:
            decoded = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if not fallback or text_quality(decoded) > text_quality(fallback):
            return decoded
    return fallback or raw.decode("latin-1")


def _ocr_pdf_page(
    path: Path, index: int, text: str, limits: ExtractLimits, result: ExtractedText
) -> str:
    """OCR one page that lacks usable text; keep whichever text is better."""
    best = text
    engine = _can_ocr(limits, result, pdf=True)
    if engine is not None:
        try:
            read = ocr_engines.read_page(_job(path, index, engine, limits, pdf=True))
        except ocr.OcrError as exc:
            log.warning("OCR failed on page %d of %s: %s", index + 1, path, exc)
            result.needs_ocr = True
            result.ocr_wanted.append(index)
        else:
            result.ocr_pages += 1
            best = better_text(text, normalize_text(read.text))
            if best is not text:
                result.sources[index] = engine
    else:
        result.needs_ocr = True
        result.ocr_wanted.append(index)
    if not is_usable(best):
        result.unusable_pages.append(index)
    return best


def _job(
    path: Path, index: int, engine: str, limits: ExtractLimits, *, pdf: bool
) -> ocr_engines.PageJob:
    return ocr_engines.PageJob(
        str(path),
        index,
        pdf,
        engine,
        languages=limits.ocr_languages,
        timeout_s=limits.ocr_timeout_s,
        dpi=limits.ocr_dpi,
    )


def _can_ocr(limits: ExtractLimits, result: ExtractedText, *, pdf: bool) -> str | None:
    """The engine to read a page with here, or None (OCR off, capped or not installed)."""
    if not limits.ocr or result.ocr_pages >= limits.ocr_max_pages:
        return None
    return ocr_engines.choose_engine(limits.ocr_engine, limits.ocr_languages)


def better_text(layer: str, ocred: str) -> str:
    """The OCR text unless the text layer is at least as good (weighted by amount of text)."""
    # A render that lacks the page's fonts (non-embedded Chinese fonts) shows boxes, which
    # Tesseract reads as "oo 0000": keep the layer's Chinese rather than lose all of it.
    if common_han(ocred) < common_han(layer) / 2:
        return layer
    return ocred if text_merit(ocred) > text_merit(layer) else layer


def _extract_image(path: Path, limits: ExtractLimits) -> ExtractedText:
    """A scanned image: all of its text comes from OCR (one page per TIFF frame)."""
    count = ocr_engines.image_frames(path)
    result = ExtractedText(
        pages=[""] * count, page_count=count, sources=[""] * count, is_image=True
    )
    engine = _can_ocr(limits, result, pdf=False)
    for index in range(count):
        if engine is None or result.ocr_pages >= limits.ocr_max_pages:
            result.needs_ocr = True
            result.ocr_wanted.append(index)
            continue
        try:
            read = ocr_engines.read_page(_job(path, index, engine, limits, pdf=False))
        except ocr.OcrError as exc:
            log.warning("OCR failed on page %d of %s: %s", index + 1, path, exc)
            result.needs_ocr = True
            result.ocr_wanted.append(index)
            continue
        result.ocr_pages += 1
        result.pages[index], result.sources[index] = normalize_text(read.text), engine
    result.unusable_pages = [i for i, page in enumerate(result.pages) if not is_usable(page)]
    return result


def _encrypted(path: Path) -> IngestError:
    return IngestError(f"{path.name} 设有密码：请另存一份无密码的副本后重新放入。")


def _damaged(path: Path, exc: BaseException) -> IngestError:
    # pypdf's own words (English) go to the log; the clerk reads what to do.
    log.info("damaged PDF %s: %s", path, exc)
    return IngestError(
        f"{path.name}：PDF 已损坏或不完整：请向发送方要一份新的，或用原来的程序重新保存。"
    )
