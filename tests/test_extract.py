"""Contract text extraction: sniffing, normalisation, garble scoring, bad input, workers, OCR."""

from __future__ import annotations

import faulthandler
import os
import signal
import threading
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from multiprocessing.context import ForkServerContext
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pdf_factory import (
    make_encrypted_pdf,
    make_image_pdf,
    make_image_png,
    make_text_pdf,
    make_truncated_pdf,
    render_text_image,
)
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ByteStringObject, NameObject
from tooling import REQUIRE_ENV, examples, require_ocr_for_pdf, require_tesseract, require_tool

from dunning.archive.cjk import (
    is_usable,
    normalize_text,
    repair_gb_mojibake,
    score_text,
    text_quality,
)
from dunning.archive.contracts.extract import ExtractLimits, extract_text
from dunning.archive.sniff import sniff
from dunning.errors import IngestError
from dunning.workers import (
    StartMethod,
    WorkerCrash,
    WorkerPool,
    WorkerTimeout,
    run_isolated,
)

CONTRACT = (
    "技术开发合同\n合同编号：HT-2025-0001\n甲方：杭州示例贸易有限公司\n乙方：上海样本科技有限公司\n"
    "本合同由双方于二〇二五年三月一日在杭州签订，双方就技术开发事项经协商一致，达成如下协议。"
    "合同金额为人民币壹拾万元整（￥100,000.00），乙方应于验收合格后开具增值税专用发票。"
)
NO_OCR = ExtractLimits(ocr=False)


# --- tool requirements ----------------------------------------------------------------------


def test_missing_tool_skips_or_fails_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="frobnicator is not installed"):
        require_tool("frobnicator", lambda: False)
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="DUNNING_REQUIRE_TOOLS=1 requires it"):
        require_tool("frobnicator", lambda: False)
    require_tool("python", lambda: True)


# --- sniffing -------------------------------------------------------------------------------


def _zip(path: Path, member: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, "<x/>")
    return path


def test_sniff_by_content_not_extension(tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "contract.png", ["甲方"])
    png = make_image_png(tmp_path / "scan.pdf", "甲方")
    jpeg = tmp_path / "scan.pdf.jpg"
    render_text_image("甲方").save(jpeg, format="JPEG")
    tiff = tmp_path / "scan.dat"
    render_text_image("甲方").save(tiff, format="TIFF")
    assert [sniff(p) for p in (pdf, png, jpeg, tiff)] == ["pdf", "png", "jpeg", "tiff"]


def test_sniff_office_zip_and_text(tmp_path: Path) -> None:
    assert sniff(_zip(tmp_path / "a.pdf", "xl/workbook.xml")) == "xlsx"
    assert sniff(_zip(tmp_path / "b.xlsx", "word/document.xml")) == "docx"
    assert sniff(_zip(tmp_path / "c.docx", "readme.txt")) == "zip"
    csv_gb = tmp_path / "应收.csv"
    csv_gb.write_bytes(
        "客户,发票号码,金额\n杭州示例,FP001,100.00\n上海样本,FP002,2.5\n".encode("gbk")
    )
    assert sniff(csv_gb) == "csv"
    tsv = tmp_path / "x.txt"
    tsv.write_text("a\tb\n1\t2\n", encoding="utf-8")
    assert sniff(tsv) == "csv"
    note = tmp_path / "note.csv"
    note.write_text("这是一份说明。\n没有分隔符的普通文本。\n", encoding="utf-8")
    assert sniff(note) == "text"
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert sniff(empty) == "empty"
    blob = tmp_path / "blob.pdf"
    blob.write_bytes(bytes(range(256)) * 4)
    assert sniff(blob) == "unknown"


def test_sniff_pdf_with_junk_before_header(tmp_path: Path) -> None:
    pdf = tmp_path / "x.bin"
    pdf.write_bytes(b"\r\n\x00junk" + make_text_pdf(tmp_path / "a.pdf", ["甲方"]).read_bytes())
    assert sniff(pdf) == "pdf"


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("技 术 开 发 合 同", "技术开发合同"),
        ("山东省企\n业就业", "山东省企业就业"),  # pypdf breaks lines mid-phrase
        ("（甲方）\n山东省商业部", "（甲方）\n山东省商业部"),  # a field boundary survives
        ("第一条\n\n\n\n第二条", "第一条\n\n第二条"),
        ("合同编号：ＨＴ－２０２５－０００１", "合同编号：HT-2025-0001"),
        ("甲方：杭州，乙方（上海）！", "甲方：杭州，乙方（上海）！"),  # Chinese punctuation kept
        ("⽇期 ⾦额", "日期金额"),  # Kangxi radicals from broken fonts
        ("ﬁle  name\t\tok", "file name ok"),
        ("a\x00b\x07c\u200bd\ufeff", "abcd"),
        ("  English words  stay  spaced \r\n 2020 年 ", "English words stay spaced\n2020 年"),
        ("①项　㎡", "①项㎡"),  # circled numbers and units are not folded to digits
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_PIECES = st.one_of(
    _HAN,
    st.sampled_from(list(" \n\t\r\u3000\u00a0\u200b\x00\x0c，。：（）！？“”、——…")),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x300, max_codepoint=0x36F),  # combining marks
    st.characters(),
)
_TEXT = st.lists(_PIECES, max_size=60).map("".join)


@settings(max_examples=examples(300), deadline=None)
@given(_TEXT)
def test_normalize_is_idempotent(raw: str) -> None:
    once = normalize_text(raw)
    assert normalize_text(once) == once


@settings(max_examples=examples(300), deadline=None)
@given(_TEXT)
def test_normalize_output_shape(raw: str) -> None:
    out = normalize_text(raw)
    assert "  " not in out
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") and ch != "\n" for ch in out)
    assert not any(0xFF10 <= ord(ch) <= 0xFF5A and ch.isalnum() for ch in out)
    for i in range(1, len(out) - 1):
        if out[i] == " ":
            assert not (_is_han(out[i - 1]) and _is_han(out[i + 1])), out


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.one_of(_HAN, st.sampled_from(list(" \n\t"))), max_size=80).map("".join))
def test_normalize_keeps_every_chinese_character(raw: str) -> None:
    assert _han_only(normalize_text(raw)) == _han_only(raw)


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _han_only(s: str) -> str:
    return "".join(ch for ch in s if _is_han(ch))


# --- garble detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        normalize_text(CONTRACT),
        "甲方：中国饮料有限公司（盖章）",
        "Shipper (complete name and address) 发货人 TEL:0754-88570001",
        "谢谢您的来信，我们常常讨论这个问题。",  # genuine reduplication
        "Payment terms: 30 days net. Café Müller GmbH, Zürich.",
    ],
)
def test_clean_text_is_usable(text: str) -> None:
    assert is_usable(text), score_text(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("1", "near-empty"),
        ("¹ØÓÚºì¾ü×÷Õ½µÄÔ­Ôò £¨Ò»¾ÅÈýÆßÄê°ËÔÂÒ»ÈÕ£©", "GB bytes read as Latin-1"),
        ("ISSUE Date˖2019-4-25 Buyer˖哾㦓", "broken ToUnicode: rare ideographs"),
        ("佛山市 佛佛佛佛佛佛佛佛佛佛佛 纸纸 釉釉釉 佛佛 一般贸易", "repeated glyphs"),
        ("\ue000\ue001\ue002\ue003 \ue004\ue005\ufffd\ufffd\ufffd", "private use / replacement"),
        ("Ⴈ ߼ ଁ ੷ ֥ ш ࡗࢸ ए ࡟ Ұ ૄ ۬ ഈ ٚ ൞ ᆰ ࢤ ൻ ೆđ༯", "odd scripts from a CFF font"),
        ("DaAEYERNMESROAMbEoEYEGto", "OCR of boxes"),
    ],
)
def test_garbled_text_is_not_usable(text: str, why: str) -> None:
    assert not is_usable(text), why
    if len(text) > 3:  # near-empty text is unusable for its length, not its characters
        assert text_quality(text) < 0.75


def test_quality_orders_clean_above_garbled() -> None:
    assert text_quality(normalize_text(CONTRACT)) > text_quality("合同 哾㦓㦓 ¹ØÓÚ")


@settings(max_examples=examples(200), deadline=None)
@given(
    st.text(
        alphabet="技术开发合同甲方乙方杭州上海有限公司金额人民币元整年月日", min_size=1, max_size=40
    )
)
def test_gb_mojibake_repair_round_trips(text: str) -> None:
    garbled = text.encode("gb2312").decode("latin-1")
    assert repair_gb_mojibake(garbled) == text


def test_repair_leaves_real_latin_alone() -> None:
    assert repair_gb_mojibake("Café Müller, Zürich") == "Café Müller, Zürich"


# --- extraction of good and bad PDFs -------------------------------------------------------


def test_text_pdf_round_trip(tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "c.pdf", [CONTRACT, "第二页：验收"], title="技术开发合同")
    result = extract_text(pdf, NO_OCR)
    assert result.page_count == len(result.pages) == 2
    assert "合同编号：HT-2025-0001" in result.text
    assert "双方就技术开发事项经协商一致" in result.pages[0]  # wrapped line joined again
    assert "人民币壹拾万元整" in result.text
    assert result.title == "技术开发合同"
    assert (result.needs_ocr, result.ocr_pages, result.unusable_pages) == (False, 0, [])


@pytest.mark.parametrize("codec", ["gbk", "utf-8"])
def test_title_byte_strings_decode(tmp_path: Path, codec: str) -> None:
    writer = PdfWriter(clone_from=make_text_pdf(tmp_path / "a.pdf", ["甲方"]))
    writer.add_metadata({"/Author": "clerk"})
    info = writer._info
    assert info is not None
    info.get_object()[NameObject("/Title")] = ByteStringObject("技术开发合同".encode(codec))
    writer.write(tmp_path / "b.pdf")
    assert extract_text(tmp_path / "b.pdf", NO_OCR).title == "技术开发合同"


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.pdf").write_bytes(b"")
    with pytest.raises(IngestError, match="是空文件（0 字节）"):
        extract_text(tmp_path / "e.pdf", NO_OCR)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_pdf(tmp_path: Path, keep: float) -> None:
    pdf = make_truncated_pdf(tmp_path / "t.pdf", keep=keep)
    with pytest.raises(IngestError, match="PDF 已损坏或不完整"):
        extract_text(pdf, NO_OCR)


def test_header_only_pdf(tmp_path: Path) -> None:
    (tmp_path / "h.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<")
    with pytest.raises(IngestError, match="PDF 已损坏或不完整"):
        extract_text(tmp_path / "h.pdf", NO_OCR)


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_encrypted_with_a_real_password(tmp_path: Path, algorithm: str) -> None:
    pdf = make_encrypted_pdf(tmp_path / "x.pdf", "s3cret", algorithm=algorithm)
    with pytest.raises(IngestError, match="设有密码：请另存一份无密码的副本"):
        extract_text(pdf, NO_OCR)


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_encrypted_with_empty_password_reads_normally(tmp_path: Path, algorithm: str) -> None:
    pdf = make_encrypted_pdf(tmp_path / "x.pdf", "", pages=[CONTRACT], algorithm=algorithm)
    assert PdfReader(pdf).is_encrypted
    assert "杭州示例贸易有限公司" in extract_text(pdf, NO_OCR).text


def test_not_a_pdf_or_image(tmp_path: Path) -> None:
    fake = _zip(tmp_path / "contract.pdf", "xl/workbook.xml")
    with pytest.raises(IngestError, match=r"不是 PDF 或扫描图片（内容识别为 XLSX 表格）"):
        extract_text(fake, NO_OCR)


def test_size_cap(tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "c.pdf", [CONTRACT])
    limit = pdf.stat().st_size - 1
    with pytest.raises(IngestError, match="MB 的上限"):
        extract_text(pdf, ExtractLimits(max_bytes=limit, ocr=False))


def test_page_cap(tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "c.pdf", ["第一页", "第二页", "第三页"])
    with pytest.raises(IngestError, match="有 3 页，超过合同 2 页的上限"):
        extract_text(pdf, ExtractLimits(max_pages=2, ocr=False))


def test_scan_without_ocr_is_flagged(tmp_path: Path) -> None:
    pdf = make_image_pdf(tmp_path / "scan.pdf", "技术开发合同")
    result = extract_text(pdf, NO_OCR)
    assert (result.page_count, result.needs_ocr, result.unusable_pages) == (1, True, [0])
    png = make_image_png(tmp_path / "scan.png", "技术开发合同")
    assert extract_text(png, NO_OCR).needs_ocr


def test_ocr_of_image_only_pdf(tmp_path: Path) -> None:
    require_ocr_for_pdf()
    pdf = make_image_pdf(tmp_path / "scan.pdf", "技术开发合同\n甲方：杭州示例有限公司")
    result = extract_text(pdf, ExtractLimits(ocr_dpi=150))
    assert (result.needs_ocr, result.ocr_pages, result.unusable_pages) == (False, 1, [])
    assert "技术开发合同" in result.text
    assert "杭州示例有限公司" in result.text


def test_ocr_of_png_scan(tmp_path: Path) -> None:
    require_tesseract()
    png = make_image_png(tmp_path / "receipt.png", "签收回执\n函件编号 CD-2025-0042")
    result = extract_text(png, ExtractLimits())
    assert result.ocr_pages == 1
    assert "签收回执" in result.text
    assert "CD-2025-0042" in result.text


# --- workers --------------------------------------------------------------------------------


def work(item: str) -> str:
    """Picklable test task: misbehaves on request."""
    if item == "hang":
        time.sleep(60)
    if item == "segfault":
        faulthandler.disable()  # pytest's handler would print the expected crash
        os.kill(os.getpid(), signal.SIGSEGV)
    if item == "exit":
        os._exit(3)
    if item == "raise":
        raise IngestError("bad row")
    if item == "memory":
        return str(len(bytearray(3 * 1024**3)))
    if item.startswith("nap"):
        time.sleep(0.05)
    return item.upper()


@pytest.mark.parametrize(
    ("start_method", "depth"), [("auto", 1), ("forkserver", 1), ("auto", 2), ("auto", 3)]
)
@pytest.mark.slow  # seconds of real processes or big files
def test_workers_survive_timeouts_and_crashes(start_method: StartMethod, depth: int) -> None:
    """With items queued behind the one that hangs or crashes (depth > 1), those go to the
    fresh worker and are answered, each once."""
    items = ["a", "hang", "b", "segfault", "c", "exit", "raise", "d"]
    started = time.monotonic()
    answered = list(
        run_isolated(work, items, workers=2, timeout_s=2, start_method=start_method, depth=depth)
    )
    assert sorted(item for item, _ in answered) == sorted(items)
    results = dict(answered)
    assert time.monotonic() - started < 15
    assert {k: results[k] for k in "abcd"} == {"a": "A", "b": "B", "c": "C", "d": "D"}
    assert isinstance(results["hang"], WorkerTimeout)
    assert "读取超过 2 秒，已停止" in str(results["hang"])
    assert isinstance(results["segfault"], WorkerCrash)
    assert isinstance(results["exit"], WorkerCrash)
    assert isinstance(results["raise"], IngestError)
    assert str(results["raise"]) == "bad row"


def test_auto_start_never_forks_a_threaded_process() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert isinstance(WorkerPool(timeout_s=1)._context(), ForkServerContext)
    finally:
        stop.set()
        thread.join()


def test_worker_memory_limit_fails_one_item() -> None:
    results = dict(
        run_isolated(work, ["memory", "ok"], workers=1, timeout_s=20, memory_limit_bytes=2**31)
    )
    assert isinstance(results["memory"], MemoryError | WorkerCrash)
    assert results["ok"] == "OK"


def test_pool_is_reused_and_results_stream() -> None:
    with WorkerPool(workers=2, timeout_s=10) as pool:
        first = list(pool.run(work, ["x"]))
        pids = {w.process.pid for w in pool._workers}
        second = sorted(r for _, r in pool.run(work, [str(i) for i in range(50)]))
        assert {w.process.pid for w in pool._workers} >= pids  # same processes, not new ones
    assert first == [("x", "X")]
    assert second == sorted(str(i) for i in range(50))


@pytest.mark.parametrize("depth", [1, 2])
def test_items_are_read_as_the_workers_need_them(depth: int) -> None:
    """A generator of items is read a few ahead of the workers, not all at once: the pack
    prepares its letters while the workers render the first ones."""
    made: list[int] = []

    def items() -> Iterator[str]:
        for n in range(20):
            made.append(n)
            yield f"nap{n}"

    seen = []
    with WorkerPool(workers=2, timeout_s=10, depth=depth) as pool:
        for item, result in pool.run(work, items()):
            seen.append((len(made), item, result))
    first_made, _, _ = seen[0]
    assert first_made <= 2 * depth + 2  # the workers' queues and the ones made ahead
    assert sorted(int(item[3:]) for _, item, _ in seen) == list(range(20))
    assert all(result == item.upper() for _, item, result in seen)


def test_extract_in_workers(tmp_path: Path) -> None:
    good = make_text_pdf(tmp_path / "good.pdf", [CONTRACT])
    bad = make_truncated_pdf(tmp_path / "bad.pdf")
    results = dict(run_isolated(_extract_no_ocr, [good, bad], timeout_s=30))
    assert "杭州示例贸易有限公司" in results[good].text  # type: ignore[union-attr]
    assert isinstance(results[bad], IngestError)


def _extract_no_ocr(path: Path) -> object:
    return extract_text(path, NO_OCR)
