"""Adversarial checks of four speed-ups, each against what it replaced:

- QR codes drawn from a learnt affine form equal segno's, module for module and pixel for
  pixel, at every version and error-level boundary, and segno is used whenever it would not
  encode the text in alphanumeric mode;
- `write_pack` skips its second plan only when nothing at all was written since the plan read
  the archive: never for a commit that lands while it waits for the write lock, a plan read
  inside a transaction later rolled back, a second pack from the same or another plan;
- the fast render path equals docxtpl byte for byte with row and column loops, merged cells,
  nested tables, escaped braces and listing characters in the data;
- the quick "not an e-invoice" test turns away nothing the full test took.
"""

from __future__ import annotations

import io
import random
import threading
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docx
import pytest
import segno
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree
from PIL import Image
from test_pack import AS_OF, LEDGER, load_customers
from tooling import examples

from dunning.archive.db import open_archive
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths
from dunning.letters import qr, registry
from dunning.letters.pack import Plan, plan_pack, write_pack
from dunning.letters.qr import BORDER, MASK, SCALE, _Affine, qr_png
from dunning.letters.render import render_letter, render_letter_plain

# --- 1. QR codes: the learnt form is segno's ------------------------------------------------

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
EDGE_CHARS = " $%*+-./:"  # the alphanumeric set's punctuation, values 36..44


def _segno(text: str) -> segno.QRCode:
    return segno.make(text, error="m", micro=False, mask=MASK)


def _segno_rows(text: str) -> list[bytes]:
    return [bytes(row) for row in _segno(text).matrix]


def _pixels(png: bytes) -> tuple[tuple[int, int], bytes]:
    image = Image.open(io.BytesIO(png)).convert("L")
    return image.size, image.tobytes()


def _segno_png(text: str) -> bytes:
    out = io.BytesIO()
    _segno(text).save(out, kind="png", scale=SCALE, border=BORDER)
    return out.getvalue()


def _shape_changes(up_to: int) -> list[int]:
    """Lengths n whose alphanumeric code has another (version, error) than length n - 1:
    where segno moves to the next version or its boost_error settles on another level."""
    lengths, before = [], None
    for n in range(1, up_to + 1):
        code = _segno("A" * n)
        shape = (code.version, code.error)
        if shape != before:
            lengths.append(n)
        before = shape
    return lengths


def _texts_of(length: int, rng: random.Random) -> list[str]:
    texts = [char * length for char in EDGE_CHARS + "AZ"]
    texts += [ALPHANUMERIC[-length:] if length <= 45 else ALPHANUMERIC * (length // 45 + 1)]
    texts += ["0" * (length - 1) + "A", "A" + "0" * (length - 1), "9" * (length - 1) + ":"]
    texts += ["".join(rng.choice(ALPHANUMERIC) for _ in range(length)) for _ in range(3)]
    return [t[:length] for t in texts]


def test_the_boundaries_are_where_the_code_changes_shape() -> None:
    """The lengths below are the ones the next test learns: they must straddle both kinds of
    change (a new version, a boosted error level within one version)."""
    changes = _shape_changes(91)
    assert changes == [1, 11, 17, 21, 30, 39, 48, 62, 68, 91]
    shapes = {(_segno("A" * n).version, _segno("A" * n).error) for n in changes}
    assert {error for _, error in shapes} == {"H", "Q", "M"}


@pytest.mark.parametrize(
    "length", sorted({n + d for n in _shape_changes(91) for d in (-1, 0)} - {0})
)
def test_codes_at_every_version_and_error_boundary_equal_segnos(length: int) -> None:
    rng = random.Random(length)
    for text in _texts_of(length, rng):
        assert len(text) == length
        rows = _Affine.rows_of(text)
        if text.isdigit():
            assert rows is None
            continue
        assert rows == _segno_rows(text), (length, text)
        assert _pixels(qr_png(text)) == _pixels(_segno_png(text)), (length, text)


@pytest.mark.parametrize(
    "text",
    [
        "A",
        ":",
        " ",
        "$",
        "%",
        "*",
        "+",
        "-",
        ".",
        "/",
        "0A",
        "A0",
        " 0",
        "00000000000 ",
        "0" * 9 + ".",
    ],
)
def test_one_and_few_character_codes_are_segnos_pixel_for_pixel(text: str) -> None:
    assert _Affine.rows_of(text) is not None
    assert _pixels(qr_png(text)) == _pixels(_segno_png(text))


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "7",
        "0123456789",  # numeric mode
        "a",
        "dn-2025-000123",  # lower case: byte mode
        "DN-2025-000123\n",  # a trailing newline: segno's pattern ends in \Z, not $
        "DN_2025",
        "DN-2025-00012３",  # a fullwidth digit
        "１２３",  # fullwidth digits: str.isdigit() says yes, segno does not take them as numbers
        "²",
        "ÄB",
        "催款-1",
        "A\x00",
    ],
)
def test_texts_segno_does_not_encode_alphanumerically_go_to_segno(text: str) -> None:
    assert _segno(text).mode != "alphanumeric"
    assert _Affine.rows_of(text) is None
    assert _pixels(qr_png(text)) == _pixels(_segno_png(text))


@settings(max_examples=examples(300), deadline=None)
@given(
    st.text(alphabet=st.sampled_from([*ALPHANUMERIC, "a", "_", "\n", "１", "²", "é"]), max_size=30)
)
@example("")
@example("0")
@example("A")
def test_the_learnt_form_serves_exactly_the_texts_segno_encodes_alphanumerically(
    text: str,
) -> None:
    rows = _Affine.rows_of(text)
    if not text:
        assert rows is None
        return
    alphanumeric = _segno(text).mode == "alphanumeric"
    assert (rows is not None) == alphanumeric
    if rows is not None:
        assert rows == _segno_rows(text)


def test_qr_codes_learnt_by_many_threads_at_once_are_all_segnos() -> None:
    """Eight threads ask for codes of lengths nobody learnt yet, at the same time: each
    length is learnt (perhaps twice) and every code still equals segno's."""
    qr._affine.cache_clear()
    qr_png.cache_clear()
    rng = random.Random(7)
    texts = ["".join(rng.choice(ALPHANUMERIC) for _ in range(n)) for n in (23, 24, 25) * 8]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            drawn = list(pool.map(qr_png, texts))
    finally:
        qr._affine.cache_clear()
        qr_png.cache_clear()
    for text, png in zip(texts, drawn, strict=True):
        assert _pixels(png) == _pixels(_segno_png(text)), text


def test_a_text_too_long_for_any_qr_code_fails_as_segno_fails() -> None:
    """4297 alphanumeric characters fit no version at level L even: the first thing learnt
    (segno's code of "000…") fails, as segno itself does, before any learning loop."""
    text = "A" * 4297
    with pytest.raises(segno.DataOverflowError):
        _segno(text)
    with pytest.raises(segno.DataOverflowError):
        qr_png(text)


# --- 2. The pack plans again whenever anything changed --------------------------------------


@pytest.fixture
def loaded(desk: Desk, tmp_path: Path) -> Desk:
    """test_pack's desk (C004 disputed, with an address: a letter would go out if it were not)."""
    return load_customers(desk, tmp_path)


def _plan(db: Any, desk: Desk) -> Plan:
    return plan_pack(db, desk.config, allow_no_address=True, as_of=AS_OF)


def _registered(desk: Desk) -> list[str]:
    with open_archive(desk.db_path) as db:
        return [letter.customer for letter in registry.letters(db)]


def test_a_commit_made_while_the_pack_waits_for_the_write_lock_is_planned_again(
    loaded: Desk,
) -> None:
    """Another clerk's transaction holds the write lock when the pack starts; it disputes
    C001 and commits while the pack waits to reserve its references. The pack took its
    'nothing changed' reading before that commit, so it must plan again, not trust the
    reading taken after the reservation (which already counts the other commit)."""
    holding, release = threading.Event(), threading.Event()

    def other_clerk() -> None:
        with open_archive(loaded.db_path) as other:
            other.conn.execute("BEGIN IMMEDIATE")
            other.conn.execute("UPDATE customers SET status = 'disputed' WHERE code = 'C001'")
            holding.set()
            release.wait(timeout=0.4)  # the pack is now blocked on the lock
            other.conn.execute("COMMIT")

    with open_archive(loaded.db_path) as db:
        plan = _plan(db, loaded)
        assert [c.customer.code for c in plan.selected] == ["C001", "C002"]
        clerk = threading.Thread(target=other_clerk)
        clerk.start()
        try:
            assert holding.wait(timeout=10)
            result = write_pack(loaded, db, plan)
        finally:
            release.set()
            clerk.join()
    assert [letter.customer for letter in result.letters] == ["C002"]
    assert _registered(loaded) == ["C002"]


def test_a_commit_just_before_the_reservation_is_planned_again(
    loaded: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same interleaving made deterministic: another connection commits between the
    pack's first look at the archive and its reservation."""
    from dunning.workflow.status import set_status

    reserve = registry.reserve

    def another_clerk_first(*args: Any, **kwargs: Any) -> registry.Reservation:
        with open_archive(loaded.db_path) as other:
            set_status(other, "C001", "disputed", note="another clerk, just now")
        return reserve(*args, **kwargs)

    monkeypatch.setattr(registry, "reserve", another_clerk_first)
    with open_archive(loaded.db_path) as db:
        result = write_pack(loaded, db, _plan(db, loaded))
    assert [letter.customer for letter in result.letters] == ["C002"]
    assert _registered(loaded) == ["C002"]


@pytest.mark.parametrize("how", ["transaction", "savepoint"])
def test_a_plan_read_inside_a_write_later_rolled_back_is_planned_again(
    loaded: Desk, how: str
) -> None:
    """A what-if plan: C004 is made active inside a transaction (or savepoint), planned,
    and the change rolled back. total_changes does not go back on a rollback and no other
    connection committed, yet the plan read a state that never existed: C004 (disputed)
    must get no letter."""
    with open_archive(loaded.db_path) as db:
        begin, undo = {
            "transaction": (["BEGIN"], ["ROLLBACK"]),
            "savepoint": (["SAVEPOINT what_if"], ["ROLLBACK TO what_if", "RELEASE what_if"]),
        }[how]
        for sql in begin:
            db.conn.execute(sql)
        db.conn.execute("UPDATE customers SET status = 'active' WHERE code = 'C004'")
        plan = _plan(db, loaded)
        assert [c.customer.code for c in plan.selected] == ["C001", "C002", "C004"]
        for sql in undo:
            db.conn.execute(sql)
        assert not db.conn.in_transaction
        result = write_pack(loaded, db, plan)
    assert [letter.customer for letter in result.letters] == ["C001", "C002"]
    assert _registered(loaded) == ["C001", "C002"]


def test_one_plan_written_twice_registers_its_letters_once(loaded: Desk) -> None:
    with open_archive(loaded.db_path) as db:
        plan = _plan(db, loaded)
        first = write_pack(loaded, db, plan)
        second = write_pack(loaded, db, plan)
    assert [letter.customer for letter in first.letters] == ["C001", "C002"]
    assert second.letters == [] and second.pack_dir is None
    assert sum("C001" in note for note in second.notes) == 1
    assert _registered(loaded) == ["C001", "C002"]


def test_two_plans_read_before_either_pack_register_each_letter_once(loaded: Desk) -> None:
    with open_archive(loaded.db_path) as db:
        early, late = _plan(db, loaded), _plan(db, loaded)
        assert late.read_from == early.read_from  # the archive did not change between them
        first = write_pack(loaded, db, late)
        second = write_pack(loaded, db, early)
    assert [letter.customer for letter in first.letters] == ["C001", "C002"]
    assert second.letters == []
    assert _registered(loaded) == ["C001", "C002"]


def test_a_second_pack_through_another_connection_is_seen(loaded: Desk) -> None:
    with open_archive(loaded.db_path) as db:
        plan = _plan(db, loaded)
        with open_archive(loaded.db_path) as other:
            write_pack(loaded, other, _plan(other, loaded))
        result = write_pack(loaded, db, plan)
    assert result.letters == []
    assert _registered(loaded) == ["C001", "C002"]


@pytest.mark.parametrize("how", ["executescript", "trigger", "upsert"])
def test_own_writes_of_every_kind_after_the_plan_are_planned_again(loaded: Desk, how: str) -> None:
    """Writes through the plan's own connection that are not a plain UPDATE: a script, a
    view's INSTEAD OF trigger (the statement changes the view, the trigger the table), an
    upsert that takes its UPDATE branch."""
    with open_archive(loaded.db_path) as db:
        conn = db.conn
        if how == "trigger":
            conn.execute("CREATE TEMP VIEW dispute AS SELECT code FROM customers")
            conn.execute(
                "CREATE TEMP TRIGGER dispute_it INSTEAD OF INSERT ON dispute BEGIN"
                " UPDATE customers SET status = 'disputed' WHERE code = NEW.code; END"
            )
        plan = _plan(db, loaded)
        if how == "executescript":
            conn.executescript("UPDATE customers SET status = 'disputed' WHERE code = 'C002';")
        elif how == "trigger":
            conn.execute("INSERT INTO dispute (code) VALUES ('C002')")
        else:
            (row,) = conn.execute("SELECT * FROM customers WHERE code = 'C002'").fetchall()
            columns = [d[1] for d in conn.execute("PRAGMA table_info(customers)")]
            values = dict(zip(columns, row, strict=True)) | {"status": "disputed"}
            conn.execute(
                f"INSERT INTO customers ({', '.join(values)}) VALUES"
                f" ({', '.join('?' * len(values))})"
                " ON CONFLICT (code) DO UPDATE SET status = excluded.status",
                list(values.values()),
            )
        assert conn.execute("SELECT status FROM customers WHERE code = 'C002'").fetchone() == (
            "disputed",
        )
        result = write_pack(loaded, db, plan)
    assert [letter.customer for letter in result.letters] == ["C001"]
    assert _registered(loaded) == ["C001"]


def test_a_payment_committed_elsewhere_after_the_plan_holds_the_letter_back(
    loaded: Desk, tmp_path: Path
) -> None:
    """The amounts change, not the status: the letter as rendered no longer states them."""
    with open_archive(loaded.db_path) as db:
        plan = _plan(db, loaded)
        paid = LEDGER.replace(
            "C002,A&B <HK> {{ 7*7 }} 贸易,HT-2025-0002,FP0003,2025-05-01,2025-05-31,16409.02,0",
            "C002,A&B <HK> {{ 7*7 }} 贸易,HT-2025-0002,FP0003,2025-05-01,2025-05-31,16409.02,16000",
        )
        assert paid != LEDGER
        (tmp_path / "ledger2.csv").write_text(paid, encoding="utf-8")
        report = ingest_paths(loaded, [tmp_path / "ledger2.csv"])
        assert not report.of("failed"), report.of("failed")
        result = write_pack(loaded, db, plan)
    assert "C002" not in [letter.customer for letter in result.letters]
    assert "C002" not in _registered(loaded)


# --- 3. The fast render path is docxtpl, byte for byte --------------------------------------


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


def _loops_template(path: Path) -> Path:
    """Row loops, a column loop (its rows grow wider or narrower than the grid), merged
    cells both ways, a table nested in a cell with its own row loop, escaped braces and a
    tab between tags, a tag in the header."""
    document = docx.Document()
    document.add_paragraph("{{ name }}")
    document.add_paragraph("literal {_{ not a tag }_} and {_% nor this %_} end")
    rows = document.add_table(rows=3, cols=3)
    rows.cell(0, 0).text = "{%tr for row in rows %}"
    for c in range(3):
        rows.cell(1, c).text = f"{{{{ row[{c}] }}}}"
    rows.cell(2, 0).text = "{%tr endfor %}"
    columns = document.add_table(rows=2, cols=4)
    for r in range(2):
        for c, text in enumerate(("head", "{%tc for c in cols %}", "{{ c }}", "{%tc endfor %}")):
            columns.cell(r, c).text = text
    merged = document.add_table(rows=3, cols=4)
    merged.cell(0, 0).merge(merged.cell(0, 2))
    merged.cell(1, 1).merge(merged.cell(2, 1))
    merged.cell(0, 3).text = "{{ name }}"
    inner = merged.cell(2, 3).add_table(rows=3, cols=2)
    inner.cell(0, 0).text = "{%tr for r in rows %}"
    inner.cell(1, 0).text = "{{ r[0] }}"
    inner.cell(1, 1).text = "{{ r[1] }}"
    inner.cell(2, 0).text = "{%tr endfor %}"
    document.add_paragraph("{{ name }}\t{{ note }}")
    document.sections[0].header.paragraphs[0].text = "页眉 {{ name }}"
    document.save(str(path))
    return path


@pytest.fixture(scope="module")
def loops_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _loops_template(tmp_path_factory.mktemp("loops") / "loops.docx")


_NAMES = [
    "A&B <HK> {{ 7*7 }}",
    "{_{x}_} {_%y%_}",  # docxtpl turns escaped braces in data back too: both paths alike
    "tab\there",
    "line\nbreak",
    "bell\aring",
    "page\fbreak",
    "_under_score_",
    "\n<w:p>",
    "\t\a\n\f",
    "",
]


@pytest.mark.parametrize(("name", "columns", "rows"), [
    (name, columns, rows)
    for i, name in enumerate(_NAMES)
    for columns, rows in [((0, 1, 2, 3, 5)[i % 5], (0, 1, 3)[i % 3]), (i % 6, 2)]
])  # fmt: skip
def test_loops_merges_and_listings_render_as_docxtpl_renders_them(
    loops_template: Path, name: str, columns: int, rows: int
) -> None:
    context = {
        "name": name,
        "note": name[::-1],
        "rows": [[f"{name}{r}", "b\tc", "d\ne"] for r in range(rows)],
        "cols": [f"c{i}{name}" for i in range(columns)],
    }
    fast, plain = (
        _parts(render_letter(loops_template, context)),
        _parts(render_letter_plain(loops_template, context)),
    )
    assert list(fast) == list(plain)
    for member in plain:
        assert fast[member] == plain[member], member


_WNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@st.composite
def _wild_tables(draw: st.DrawFn, depth: int = 0) -> str:
    """Tables as Word and docxtpl leave them, wider than test_pack_speed's: grids before or
    after the rows, columns of odd widths, empty tcPr, gridSpan="1", vMerge beside gridSpan,
    cells inside content controls, tables nested two deep."""
    width = st.sampled_from(['w:w="1000"', 'w:w="0"', 'w:w="333"', 'w:w="12.5"', 'w:w="0100"'])
    grid = (
        "<w:tblGrid>"
        + "".join(f"<w:gridCol {draw(width)}/>" for _ in range(draw(st.integers(0, 5))))
        + "</w:tblGrid>"
    )
    grid_first = draw(st.booleans()) or draw(st.booleans())
    parts = ["<w:tbl>", "<w:tblPr/>" if draw(st.booleans()) else ""]
    parts.append(grid if grid_first else "")
    for _ in range(draw(st.integers(0, 4))):
        parts.append("<w:tr>")
        for _ in range(draw(st.integers(0, 6))):
            props = draw(
                st.sampled_from(
                    [
                        "",
                        "<w:tcPr/>",
                        '<w:tcPr><w:tcW w:w="10"/><w:gridSpan w:val="2"/></w:tcPr>',
                        '<w:tcPr><w:gridSpan w:val="3"/></w:tcPr>',
                        '<w:tcPr><w:gridSpan w:val="1"/></w:tcPr>',
                        '<w:tcPr><w:vMerge/><w:gridSpan w:val="2"/></w:tcPr>',
                    ]
                )
            )
            inner = (
                draw(_wild_tables(depth + 1)) if depth < 2 and draw(st.integers(0, 9)) == 0 else ""
            )
            cell = f"<w:tc>{props}<w:p/>{inner}</w:tc>"
            if draw(st.integers(0, 19)) == 0:
                cell = f"<w:sdt><w:sdtContent>{cell}</w:sdtContent></w:sdt>"
            parts.append(cell)
        parts.append("</w:tr>")
    if not grid_first and draw(st.booleans()):
        parts.append(grid)
    return "".join(parts) + "</w:tbl>"


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(_wild_tables(), min_size=1, max_size=2))
def test_the_fast_table_fix_leaves_what_docxtpls_leaves(tables: list[str]) -> None:
    """The contract itself rather than the rule: the body `_fix_tables` gives is the body
    docxtpl's fix_tables gives, whenever docxtpl gives one."""
    from dunning.letters.render import _DOCXTPL, _fix_tables

    body = f'<w:body xmlns:w="{_WNS}">{"".join(tables)}<w:p/></w:body>'
    try:
        plain = etree.tostring(_DOCXTPL.fix_tables(body))
    except (AttributeError, TypeError, ValueError):
        return  # docxtpl cannot fix it (no grid, a column without a width): the plain path fails
    assert etree.tostring(_fix_tables(body)) == plain


# --- 4. The quick e-invoice test turns nothing away ----------------------------------------


def _full_test(text: str) -> bool:
    """`looks_like_einvoice` as it was: the full test with no quick refusal first."""
    import dunning.archive.einvoice.pdftext as pdftext

    saved = pdftext.NEEDED_CHARS
    pdftext.NEEDED_CHARS = ""
    try:
        return pdftext.looks_like_einvoice(text)
    finally:
        pdftext.NEEDED_CHARS = saved


_INVOICE = (
    "电子发票（普通发票）\n发票号码：25332000000000000004\n开票日期：2025年03月05日\n"
    "购买方信息 名称：宁波海辰机械有限公司 统一社会信用代码/纳税人识别号：91330200MA2AAAAA1X\n"
    "销售方信息 名称：杭州明远贸易有限公司 统一社会信用代码/纳税人识别号：91330100MA2BBBBB2Y\n"
    "项目名称 金额 税额\n合计 ¥5309.73 ¥690.27\n价税合计（大写）陆仟圆整 （小写）¥6000.00\n"
)
_OLD_INVOICE = (
    "增值税电子普通发票\n发票代码：033002000111\n发票号码：12345678\n开票日期：2020年01月02日\n"
    "校验码：12345 67890 12345 67890\n购买方 名称：某某公司\n合计 ¥100.00 ¥13.00\n"
    "价税合计（大写）壹佰壹拾叁圆整 （小写）¥113.00\n"
)


def _variants(text: str) -> dict[str, str]:
    """How a PDF's text layer may give the same invoice: spaced letters, NULs between them,
    ideographic spaces, fullwidth digits and colons, Kangxi radicals for 日, CRLF lines."""
    return {
        "as is": text,
        "spaced": " ".join(text),
        "nul": "\x00".join(text),
        "ideographic space": text.replace("：", "：\u3000"),
        "fullwidth digits": text.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}),
        "halfwidth colons": text.replace("：", ":"),
        "kangxi 日": text.replace("日", "\u2f47"),
        "compatibility": unicodedata.normalize("NFKD", text),
        "crlf": text.replace("\n", "\r\n"),
        "tabs": text.replace("：", "：\t"),
    }


@pytest.mark.parametrize("invoice", [_INVOICE, _OLD_INVOICE], ids=["digital", "older"])
def test_invoice_texts_however_extracted_are_still_recognised(invoice: str) -> None:
    from dunning.archive.einvoice.pdftext import looks_like_einvoice

    for how, text in _variants(invoice).items():
        assert looks_like_einvoice(text) == _full_test(text), how
        if how not in ("spaced", "nul"):  # spread apart, a digit run is no number of its own
            assert looks_like_einvoice(text), how


_PIECES = [
    "发票号码", "发票号码：", "开票日期：", "2025年03月05日", "价税合计", "合计", "电子发票",
    "电子普通发票", "电子专用发票", "25332000000000000004", "12345678", "购买方", "名称：甲公司",
    "（小写）¥6000.00", "¥5309.73", "发", "票", "号", "码", "开", "期", "电", "日", "\u2f47",
    "\u3000", " ", "\x00", "\n", "１", "：", ":", "發票號碼", "電子", "条款",
]  # fmt: skip


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
@example(_INVOICE)
@example(_OLD_INVOICE)
@example("发 票 号 码：25332000000000000004 开 票 日 期：2025年3月5日 电 子 发 票 合 计")
def test_the_quick_refusal_agrees_with_the_full_test(text: str) -> None:
    from dunning.archive.einvoice.pdftext import looks_like_einvoice

    assert looks_like_einvoice(text) == _full_test(text)
