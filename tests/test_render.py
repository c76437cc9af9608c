"""Letters from the default templates: content, escaping, fast path == docxtpl, checks, PDF."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tooling import examples, require_soffice

from dunning.config import default_config
from dunning.letters.checks import check_template
from dunning.letters.context import (
    CONTEXT_DOC,
    ContractInfo,
    CustomerInfo,
    EvidenceItem,
    LetterInput,
    OpenItem,
    build_context,
)
from dunning.letters.pdf import soffice_path
from dunning.letters.qr import qr_png
from dunning.letters.render import (
    TemplateError,
    compiled_template,
    render_letter,
    render_letter_plain,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "dunning" / "templates"
NAMES = ["statement", "reminder", "demand", "final", "lawyer", "receipt", "visit", "evidence"]
HOSTILE = "A&B <HK> {{ 7*7 }} 贸易有限公司"
HOSTILE_INVOICE = "FP<1>&{{ x }}"
REF = "CS-2025-000123"


def letter(customer: str = HOSTILE, *, address: str = "广东省深圳市南山区科技园1号") -> LetterInput:
    cfg = default_config()
    items = [
        OpenItem(HOSTILE_INVOICE, "HT-2025-001", dt.date(2025, 6, 1), dt.date(2025, 7, 1),
                 Decimal("5000.00"), Decimal("1000.00"), Decimal("4000.00"), 152),
        OpenItem("FP1002", "HT-2025-007", dt.date(2025, 9, 1), dt.date(2025, 10, 1),
                 Decimal("12409.02"), Decimal("0"), Decimal("12409.02"), 60),
        OpenItem("FP1003", "HT-2025-007", dt.date(2025, 11, 10), dt.date(2025, 12, 10),
                 Decimal("3000.00"), Decimal("0"), Decimal("3000.00"), 0),
    ]  # fmt: skip
    return LetterInput(
        ref=REF,
        level=2,
        level_name="demand",
        level_title="催款函",
        as_of=dt.date(2025, 11, 30),
        deadline=dt.date(2025, 12, 10),
        customer=CustomerInfo("C0042", customer, address, "陈经理", "0755-12345678"),
        company=cfg.company,
        bank=cfg.bank,
        signatory=cfg.signatory,
        lawyer={"firm": "北京示例律师事务所"},
        contracts=[ContractInfo("HT-2025-001", dt.date(2025, 1, 5), Decimal("80000"))],
        items=items,
        total_open=Decimal("19409.02"),
        total_overdue=Decimal("16409.02"),
        credit=Decimal("0"),
        aging={
            "未到期": Decimal("3000.00"),
            "31-60天": Decimal("12409.02"),
            "91天以上": Decimal("4000.00"),
        },
        evidence=[
            EvidenceItem(
                f"发票（{HOSTILE_INVOICE}）",
                "HT-2025-001，2025年1月5日签订",
                "双方存在买卖合同关系",
                "档案 7",
            ),
        ],
    )


@pytest.fixture(scope="module")
def context() -> dict[str, Any]:
    return build_context(letter())


def texts(data: bytes) -> list[str]:
    """Every paragraph of body, tables and headers, as python-docx reads them."""
    document = docx.Document(io.BytesIO(data))
    out = [p.text for p in document.paragraphs]
    for table in document.tables:
        out += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        out += [p.text for p in section.header.paragraphs]
        for table in section.header.tables:
            out += [cell.text for row in table.rows for cell in row.cells]
    return out


EXPECTED = {
    "statement": [HOSTILE, REF, "19,409.02", "壹万玖仟肆佰零玖元零贰分", "16,409.02",
                  "壹万陆仟肆佰零玖元零贰分", "2025年11月30日", "2025年12月10日", HOSTILE_INVOICE,
                  "2025-06-01", "152", "未到期", "91天以上", "1202 0000 0000 0000 000", "相符",
                  "不符"],
    "reminder": [HOSTILE, REF, "19,409.02", "16,409.02", "壹万陆仟肆佰零玖元零贰分",
                 "2025年12月10日", "HT-2025-001", "2025年1月5日", "张会计"],
    "demand": [HOSTILE, REF, "19,409.02", "16,409.02", "壹万玖仟肆佰零玖元零贰分",
               "2025年12月10日", "逾期付款违约金", "HT-2025-001", "2025年1月5日",
               "中国工商银行杭州文三路支行"],
    "final": [HOSTILE, REF, "16,409.02", "壹万陆仟肆佰零玖元零贰分", "2025年12月10日",
              "依法提起诉讼", "逾期付款违约金", "HT-2025-001"],
    "lawyer": [HOSTILE, REF, "北京示例律师事务所", "王明律师", "16,409.02",
               "壹万陆仟肆佰零玖元零贰分", "依法提起诉讼", "2025年12月10日", "2025年11月30日"],
    "receipt": [HOSTILE, REF, "19,409.02", "壹万玖仟肆佰零玖元零贰分", "催款函", "C0042"],
    "visit": [HOSTILE, REF, "19,409.02", "壹万玖仟肆佰零玖元零贰分", "HT-2025-001",
              "广东省深圳市南山区科技园1号"],
    "evidence": [HOSTILE, REF, "19,409.02", "壹万玖仟肆佰零玖元零贰分", HOSTILE_INVOICE,
                 "双方存在买卖合同关系", "档案 7", "买卖合同纠纷"],
}  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_letter_prints_its_data(name: str, context: dict[str, Any]) -> None:
    printed = "\n".join(texts(render_letter(TEMPLATES / f"{name}.docx", context)))
    printed = printed.replace("\u2060", "")  # word joiners keep numbers whole (issue 22)
    for expected in EXPECTED[name]:
        assert expected in printed, f"{name}: {expected!r} missing"
    assert "{{" not in printed.replace("{{ 7*7 }}", "").replace("{{ x }}", "")
    assert "{%" not in printed
    assert "49" not in printed  # the hostile {{ 7*7 }} was not evaluated


def test_hostile_name_prints_literally_in_rows_and_paragraphs(context: dict[str, Any]) -> None:
    document = docx.Document(io.BytesIO(render_letter(TEMPLATES / "statement.docx", context)))
    assert any(HOSTILE in p.text for p in document.paragraphs)
    items = document.tables[1]
    assert [row.cells[0].text for row in items.rows][1:4] == [HOSTILE_INVOICE, "FP1002", "FP1003"]
    reply = document.tables[-1]
    assert any(HOSTILE in cell.text for row in reply.rows for cell in row.cells)


def test_statement_lists_every_item_and_aging_bucket(context: dict[str, Any]) -> None:
    document = docx.Document(io.BytesIO(render_letter(TEMPLATES / "statement.docx", context)))
    items, aging = document.tables[1], document.tables[2]
    assert len(items.rows) == 1 + 3 + 1  # header, three invoices, total
    assert [c.text for c in items.rows[2].cells] == [
        "FP1002", "HT-2025-007", "2025-09-01", "2025-10-01", "12,409.02", "0.00", "12,409.02",
        "60",
    ]  # fmt: skip
    assert [row.cells[0].text for row in aging.rows] == [
        "账龄区间", "未到期", "31-60天", "91天以上", "合计",
    ]  # fmt: skip
    assert aging.rows[-1].cells[1].text == "19,409.02"


def test_credit_paragraph_only_when_there_is_credit() -> None:
    template = TEMPLATES / "statement.docx"
    without = "\n".join(texts(render_letter(template, build_context(letter()))))
    credited = build_context(LetterInput(**{**letter().__dict__, "credit": Decimal("500.00")}))
    with_credit = "\n".join(texts(render_letter(template, credited)))
    assert "未核销" not in without
    assert "抵减后应付余额为人民币18,909.02元" in with_credit


def test_qr_code_replaces_the_placeholder(context: dict[str, Any]) -> None:
    with zipfile.ZipFile(io.BytesIO(render_letter(TEMPLATES / "demand.docx", context))) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        assert [z.read(n) for n in media] == [qr_png(REF)]


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        return {info.filename: package.read(info) for info in package.infolist()}


@pytest.mark.parametrize("name", NAMES)
def test_fast_path_equals_docxtpl(name: str, context: dict[str, Any]) -> None:
    template = TEMPLATES / f"{name}.docx"
    fast, plain = (
        _parts(render_letter(template, context)),
        _parts(render_letter_plain(template, context)),
    )
    assert list(fast) == list(plain)
    for member in plain:
        assert fast[member] == plain[member], f"{name}: {member} differs"
    assert texts(render_letter(template, context)) == texts(render_letter_plain(template, context))


def test_fast_path_equals_docxtpl_with_line_breaks_in_data() -> None:
    context = build_context(letter(address="第一行\n第二行\t楼"))
    template = TEMPLATES / "visit.docx"
    fast = _parts(render_letter(template, context))
    assert fast == _parts(render_letter_plain(template, context))
    assert b"<w:br/>" in fast["word/document.xml"]


def test_compiled_template_is_rebuilt_when_the_file_changes(
    tmp_path: Path, context: dict[str, Any]
) -> None:
    template = tmp_path / "letter.docx"
    _write_docx(template, ["第一版 {{ customer.code }}"])
    assert compiled_template(template) is compiled_template(template)
    assert "第一版 C0042" in texts(render_letter(template, context))
    _write_docx(template, ["第二版，内容更长一些 {{ customer.code }}"])
    assert "第二版，内容更长一些 C0042" in texts(render_letter(template, context))


def _write_docx(path: Path, paragraphs: list[str | list[str]]) -> None:
    """A template; a list item is one paragraph written as several runs."""
    document = docx.Document()
    for paragraph in paragraphs:
        p = document.add_paragraph()
        for run in [paragraph] if isinstance(paragraph, str) else paragraph:
            p.add_run(run)
    document.save(str(path))


def test_templated_document_properties_match_docxtpl(
    tmp_path: Path, context: dict[str, Any]
) -> None:
    template = tmp_path / "props.docx"
    document = docx.Document()
    document.add_paragraph("{{ customer.code }}")
    document.core_properties.title = "对账单 {{ ref }}"
    document.save(str(template))
    fast = _parts(render_letter(template, context))
    assert fast == _parts(render_letter_plain(template, context))
    assert docx.Document(io.BytesIO(render_letter(template, context))).core_properties.title == (
        f"对账单 {REF}"
    )


@pytest.mark.parametrize("render", [render_letter, render_letter_plain])
def test_undefined_variable_is_an_error_naming_it(
    render: Any, tmp_path: Path, context: dict[str, Any]
) -> None:
    template = tmp_path / "typo.docx"
    _write_docx(template, ["致 {{ customer.name }}", "金额 {{ totl_open }}"])
    with pytest.raises(TemplateError, match=r"typo\.docx：变量 'totl_open' 不存在"):
        render(template, context)


@pytest.mark.parametrize("render", [render_letter, render_letter_plain])
def test_syntax_error_names_file_and_tag(
    render: Any, tmp_path: Path, context: dict[str, Any]
) -> None:
    template = tmp_path / "broken.docx"
    _write_docx(template, ["正常段落", "{% if has_credit %}没有结束"])
    with pytest.raises(TemplateError, match=r"broken\.docx") as caught:
        render(template, context)
    if render is render_letter:
        assert "{% if has_credit %}" in caught.value.tag


@pytest.mark.parametrize("name", NAMES)
def test_default_templates_pass_the_check(name: str) -> None:
    assert check_template(TEMPLATES / f"{name}.docx", set(CONTEXT_DOC)) == []


def test_check_finds_unknown_variable_full_width_braces_and_split_tag(tmp_path: Path) -> None:
    template = tmp_path / "edited.docx"
    _write_docx(
        template,
        [
            "致 {{ customer.nmae }} {{ balance_owing }}",
            "金额 ｛｛ total_open ｝｝ 元",
            ["截至 {{ as_", "of }}"],
        ],
    )
    problems = check_template(template, set(CONTEXT_DOC))
    assert {p.file for p in problems} == {"edited.docx"}
    kinds = {p.problem[:4] for p in problems}
    assert kinds == {"未知变量", "未知字段", "全角花括", "标签被拆"}
    assert {p.tag for p in problems if p.problem.startswith("未知")} == {
        "customer.nmae",
        "{{ balance_owing }}",
    }


def test_check_finds_syntax_error(tmp_path: Path) -> None:
    template = tmp_path / "syntax.docx"
    _write_docx(template, ["{{ customer.name }", "{% if has_credit %}"])
    problems = check_template(template, set(CONTEXT_DOC))
    assert problems and problems[0].problem.startswith("语法错误")
    assert "customer.name" in problems[0].tag or "has_credit" in problems[0].tag


def test_check_unknown_top_level_variable(tmp_path: Path) -> None:
    template = tmp_path / "unknown.docx"
    _write_docx(
        template,
        [
            "{{ customer.name }} {{ balance_owing }}",
            "{% for i in items %}{{ i.amout }}{% endfor %}",
        ],
    )
    problems = check_template(template, set(CONTEXT_DOC))
    assert sorted(p.tag for p in problems) == ["i.amout", "{{ balance_owing }}"]


# --- print-ready output through LibreOffice -------------------------------------------------


def _soffice() -> str:
    require_soffice()
    found = soffice_path()
    assert found is not None
    return found


def test_pdf_of_statement_and_demand(tmp_path: Path, context: dict[str, Any]) -> None:
    soffice = _soffice()
    from pypdf import PdfReader

    for name in ("statement", "demand"):
        (tmp_path / f"{name}.docx").write_bytes(render_letter(TEMPLATES / f"{name}.docx", context))
    subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to",
         "pdf", "--outdir", str(tmp_path), str(tmp_path / "statement.docx"),
         str(tmp_path / "demand.docx")],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    for name in ("statement", "demand"):
        reader = PdfReader(tmp_path / f"{name}.pdf")
        text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
        for expected in (REF, "19,409.02", "壹万玖仟肆佰零玖元零贰分", "2025年12月10日"):
            assert expected in text, f"{name}.pdf: {expected!r} missing"
        assert "A&B<HK>{{7*7}}" in text


def _docxtpl_after_render(xml: str) -> str:
    """DocxTemplate.render_xml_part's steps after Jinja, as docxtpl writes them."""
    from docxtpl import DocxTemplate

    xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    return str(DocxTemplate(io.BytesIO()).resolve_listing(xml))


# Pieces of what Jinja may leave: escaped braces, paragraph breaks, listing characters, text.
_PIECES = ["{", "}", "%", "_", "\n", "\t", "\a", "\f", "<w:p ", "<w:p>", "<w:pPr>", "</w:p>",
           "<w:r>", "</w:r>", "<w:t>", "</w:t>", "a", "甲"]  # fmt: skip


@settings(max_examples=examples(500), deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
@example("<w:p><w:r><w:t>甲\a乙</w:t></w:r></w:p>")  # a listing character alone in the part
@example("<w:p><w:r><w:t>\f</w:t></w:r></w:p>")
def test_after_render_is_docxtpls_post_processing(xml: str) -> None:
    from dunning.letters.render import after_render

    assert after_render(xml) == _docxtpl_after_render(xml)
