"""Clerk-facing text is Chinese (issue 22): the letter templates, the web pages a clerk uses and
the output of the day's commands on the demo hold no English word outside a short allow-list
(codes, references, units, product names)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result
from pdf_factory import make_text_pdf
from web_support import client, copy_desk

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import PACKAGE_TEMPLATES, Desk, init_desk
from dunning.letters.context import CONTEXT_DOC
from dunning.letters.delivery import load_deliveries

# Words a clerk may read: product and format names, units, the brand.
ALLOWED = {
    "dunning", "EMS", "PDF", "XLSX", "Excel", "LibreOffice", "OCR", "QR", "CSV", "ZIP", "zip",
    "Word", "MB", "Content", "Length", "ingest", "inbox", "contracts", "toml", "xlsx", "pdf",
    "docx", "csv", "Noto", "Serif", "CJK", "SC", "clerk", "admin", "manager", "viewer",
    "SHA", "pdfium", "pdftotext", "rapidocr", "tesseract", "GBK",
}  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z']{2,}")
# Codes and references (C004, CS-2026-000001, FP202600012, HT-2026-0004), flags (--as-of),
# commands (`dunning pack`), file and folder names (台账.xlsx, failed/), addresses are not words.
_NOT_WORDS = re.compile(
    r"`[^`]*`|--[a-z-]+|[\w./-]+\.(?:xlsx|pdf|docx|csv|zip|toml|png)\b|https?://\S+"
    r"|\b[a-z]+/|\b[A-Z]{1,6}[-\w]*\d[-\w]*|\b\w*\d\w*\b"
)


def english_words(text: str) -> list[str]:
    plain = _NOT_WORDS.sub(" ", re.sub(r"\{[{%].*?[%}]\}", " ", text))
    return sorted({w for w in _WORD.findall(plain) if w not in ALLOWED})


def page_text(markup: str) -> str:
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", markup)
    body = re.sub(r"(?s)<!--.*?-->", " ", body)
    body = re.sub(r"<[^>]+>", " ", body)
    return html.unescape(body)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, plain_demo_template: Desk) -> Desk:
    return copy_desk(plain_demo_template, tmp_path_factory.mktemp("words") / "desk")


@pytest.mark.parametrize("template", sorted(p.name for p in PACKAGE_TEMPLATES.glob("*.docx")))
def test_letter_templates_are_chinese(template: str) -> None:
    document = docx.Document(str(PACKAGE_TEMPLATES / template))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs + section.footer.paragraphs]
        parts += [c.text for t in section.header.tables for r in t.rows for c in r.cells]
    assert english_words("\n".join(parts)) == []


def test_web_pages_are_chinese(demo: Desk) -> None:
    c = client(demo)
    with open_archive(demo.db_path) as db:
        ref = load_deliveries(db)[-1].ref
    pages = ["/", "/customers", "/customers/C004", "/letters", f"/letters/ref/{ref}",
             "/search?q=违约金", "/inbox", "/reports", "/visits"]  # fmt: skip
    found = {}
    for page in pages:
        response = c.get(page)
        assert response.status_code == 200, page
        words = english_words(page_text(response.text))
        if words:
            found[page] = words
    assert found == {}


DAY_COMMANDS = [
    ["today"],
    ["aging"],
    ["customers"],
    ["customer", "c004"],
    ["log", "list", "C004"],
    ["pack", "--dry-run"],
    ["search", "律师函"],
    ["limitation", "--within", "3650"],
    ["visit", "list"],
]


@pytest.mark.parametrize("args", DAY_COMMANDS, ids=" ".join)
def test_the_days_commands_speak_chinese(demo: Desk, args: list[str]) -> None:
    result = CliRunner().invoke(main, ["--desk", str(demo.root), *args])
    assert result.exit_code == 0, result.output
    assert english_words(result.stdout + result.stderr) == []


# The archive's commands: their text output (never --json, a stable contract) is Chinese too.
ARCHIVE_COMMANDS = [
    ["verify"],
    ["failed", "list"],
    ["failed", "retry"],
    ["show", "1"],
    ["show", "8"],
    ["templates", "list"],
    ["templates", "check"],
    ["user", "list"],
    ["ocr"],
]


@pytest.mark.parametrize("args", ARCHIVE_COMMANDS, ids=" ".join)
def test_the_archive_commands_speak_chinese(demo: Desk, args: list[str]) -> None:
    result = CliRunner().invoke(main, ["--desk", str(demo.root), *args])
    assert result.exit_code == 0, result.output
    assert english_words(result.stdout + result.stderr) == []


def test_ingest_and_watch_speak_chinese(demo: Desk, tmp_path: Path) -> None:
    """A duplicate, a failed file and their summaries; the archived line's label is a code."""
    runner = CliRunner()
    with open_archive(demo.db_path) as db:
        stored = db.execute("SELECT stored_path FROM documents WHERE id = 1").fetchone()[0]
    again = tmp_path / "回款明细.xlsx"  # the demo's first ledger, a second time
    again.write_bytes((demo.root / stored).read_bytes())
    bad = demo.inbox / "unknown.csv"  # from the inbox, so that it goes to failed/
    bad.write_text("甲,乙\n1,2\n", encoding="utf-8")
    result = runner.invoke(main, ["--desk", str(demo.root), "ingest", str(again), str(bad)])
    assert result.exit_code == 1, result.output
    assert (
        "重复 回款明细.xlsx：内容与已归档的文档 1 相同，未再归档" in result.stderr
        and "失败 unknown.csv：" in result.stderr
    )
    assert "已归档 0 个，重复 1 个，失败 1 个" in result.stdout
    said = result.stdout + "\n".join(
        line for line in result.stderr.splitlines() if not line.startswith("失败 ")
    )
    assert english_words(said) == []
    (demo.inbox / "unknown2.csv").write_text("甲,乙\n1,2\n", encoding="utf-8")
    watched = runner.invoke(main, ["--desk", str(demo.root), "watch", "--once", "--delay", "0"])
    assert watched.exit_code == 1 and "失败 unknown2.csv：" in watched.stderr
    listed = runner.invoke(main, ["--desk", str(demo.root), "failed", "list"])
    assert listed.stdout.split()[:3] == ["文件", "失败时间", "原因"]
    retried = runner.invoke(main, ["--desk", str(demo.root), "failed", "retry"])
    assert retried.stdout.startswith("已移回 ")
    assert english_words(retried.stdout) == []
    bad.unlink()
    (demo.inbox / "unknown2.csv").unlink()


def test_letter_steps_speak_chinese(demo: Desk, tmp_path: Path) -> None:
    with open_archive(demo.db_path) as db:
        ref = load_deliveries(db)[-1].ref
    runner = CliRunner()
    for args in (["letter", "sent", ref, "--via", "ems", "--tracking", "EMS1"],
                 ["letter", "sent", ref, "--via", "ems", "--tracking", "EMS1"],
                 ["letter", "delivered", ref],
                 ["letter", "sent", ref, "--via", "ems", "--on", "2999-01-01"]):  # fmt: skip
        result = runner.invoke(main, ["--desk", str(demo.root), *args])
        assert english_words(result.stdout + result.stderr) == [], args


def test_the_walker_finds_english() -> None:
    assert english_words("客户 C004 is overdue (CS-2026-000001)") == ["overdue"]
    assert english_words("用 `dunning pack --dry-run` 看看 台账.xlsx") == []


def test_an_archived_ledger_is_told_in_chinese(tmp_path: Path) -> None:
    desk = init_desk(tmp_path / "desk")
    ledger = tmp_path / "应收台账.csv"
    ledger.write_text(
        "客户编号,客户名称,发票号码,开票日期,应收金额\n"
        "C001,甲公司,FP1,2025-01-10,100.00\n\n合计,,,,100.00\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--desk", str(desk.root), "ingest", str(ledger)])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "已归档 应收台账.csv（文档 1）：发票台账（读取 3 行：导入 1 行，跳过空行 1 行，"
        "跳过合计行 1 行；新增 1 条，更新 0 条）\n"
    )
    assert english_words(result.stdout + result.stderr) == []


def test_an_archived_contract_is_told_in_chinese(tmp_path: Path) -> None:
    desk = init_desk(tmp_path / "desk")
    contract = desk.inbox / "contracts" / "合同.pdf"
    make_text_pdf(contract, ["技术开发合同\n合同编号：HT-2025-0001"])
    result = CliRunner().invoke(main, ["--desk", str(desk.root), "ingest", str(desk.inbox)])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("已归档 合同.pdf（文档 1）：合同 HT-2025-0001"), result.stderr
    assert english_words(result.stdout + result.stderr) == []


def said_by(result: Result) -> str:
    """What a clerk reads of a command's answer: its output, and the sentence after `Error:`
    (click's own `Usage:` and `Try …` lines around a usage error are not the desk's)."""
    errors = [
        line.removeprefix("Error:")
        for line in result.stderr.splitlines()
        if not line.startswith(("Usage:", "Try "))
    ]
    return result.stdout + "\n".join(errors)


def test_the_demo_summary_speaks_chinese(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("演示工作台：")
    assert "已归档 8 个文件" in result.stdout and "函件包：" in result.stdout
    # The commands it suggests are code to copy, not words.
    told = "\n".join(line for line in said_by(result).splitlines() if " --desk " not in line)
    assert english_words(told.replace(str(tmp_path / "demo"), "")) == []


def test_the_template_variables_are_described_in_chinese(demo: Desk) -> None:
    result = CliRunner().invoke(main, ["--desk", str(demo.root), "templates", "list", "--context"])
    assert result.exit_code == 0, result.output
    described = result.stdout.split("模板变量", 1)[1].splitlines()[1:]
    assert len(described) == len(CONTEXT_DOC)
    assert described[0] == f"  ref: {CONTEXT_DOC['ref']}"
    # Variable names (`ref:`) and their fields (`.account_no`) are what the clerk types in Word.
    texts = [re.sub(r"\.\w+", " ", line.split(":", 1)[1]) for line in described]
    assert {i: english_words(t) for i, t in enumerate(texts) if english_words(t)} == {}


def test_verify_tells_each_problem_in_chinese(demo: Desk, tmp_path: Path) -> None:
    desk = copy_desk(demo, tmp_path / "desk")
    with open_archive(desk.db_path) as db:
        gone, changed = (
            desk.root / r[0]
            for r in db.execute("SELECT stored_path FROM documents ORDER BY id LIMIT 2")
        )
        letter = load_deliveries(db)[-1]
    gone.unlink()
    changed.chmod(0o644)
    changed.write_bytes(b"altered")
    (changed.parent / "stray.bin").write_bytes(b"no document")
    pack = next(p for p in desk.out.iterdir() if p.is_dir())
    (pack / "stray.docx").write_bytes(b"not a letter")
    desk.db_path.chmod(0o644)
    result = CliRunner().invoke(main, ["--desk", str(desk.root), "verify"])
    assert result.exit_code == 1, result.output
    assert len(result.stdout.splitlines()) >= 6, result.stdout
    as_json = CliRunner().invoke(main, ["--desk", str(desk.root), "verify", "--json"])
    problems = json.loads(as_json.stdout)["problems"]
    assert {p["kind"] for p in problems} >= {"missing", "altered", "unrecorded", "exposed"}
    told = said_by(result)
    for path in sorted({p["path"] for p in problems}, key=len, reverse=True):
        told = told.replace(path, " ")  # the files named are not words
    assert english_words(told.replace(str(desk.root), " ")) == [], letter.ref
    assert english_words("\n".join(p["detail"] for p in problems)) == []


REFUSED_COMMANDS = [
    (["log", "add", "C004", "--kind", "call", "--note", "  "], "内容为空"),
    (["log", "add", "C004", "--kind", "promise", "--note", "承诺", "--promise-amount", "100",
      "--promise-date", "2020-01-01"], "早于记录当天"),
    (["case", "stage", "99999", "filed"], "没有案件“99999”"),
    (["case", "cost", "1", "lawyer", "0"], "费用金额必须大于零"),
    (["case", "stage", "C004", "filed", "--on", "2999-01-01"], "在今天之后"),
    (["init", "."], "已经是工作台"),
    (["pack", "--level", "9", "--dry-run"], "--level 只能是 1 到 4"),
    (["bank", "review", "--accept"], "请写明要处理的到账编号"),
    (["letter", "sent", "--via", "ems"], "请给出一个函件编号或 --from 文件"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "sentence"), REFUSED_COMMANDS, ids=[" ".join(a[:3]) for a, _ in REFUSED_COMMANDS]
)
def test_a_refused_command_says_why_in_chinese(
    demo: Desk, args: list[str], sentence: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo.root)
    result = CliRunner().invoke(main, ["--desk", str(demo.root), *args])
    assert result.exit_code in (1, 2), result.output
    assert sentence in result.stderr
    assert english_words(said_by(result).replace(str(demo.root), "")) == []


def test_templates_check_names_each_problem_in_chinese(demo: Desk, tmp_path: Path) -> None:
    desk = copy_desk(demo, tmp_path / "desk")
    path = desk.templates / "reminder.docx"
    document = docx.Document(str(path))
    for text in (
        "致 {{ customer.nmae }}",
        "欠款 {{ balance_owing }}",
        "金额 ｛｛ total_open ｝｝ 元",
    ):
        document.add_paragraph(text)
    split = document.add_paragraph("截至 ")
    split.add_run("{{ as_")
    split.add_run("of }}").bold = True
    document.save(str(path))
    result = CliRunner().invoke(main, ["--desk", str(desk.root), "templates", "check"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("reminder.docx：")]
    kinds = {line.split("：")[1][:4] for line in lines}
    assert kinds == {"全角花括", "标签被拆", "未知字段", "未知变量"}
    # What the clerk typed (the quoted tags, the fields of a variable) is not the desk's words.
    problems = "\n".join(line.split("：", 1)[1] for line in lines)
    told = re.sub(r"'[^']*'|（位置：.*?）$|\.\w+", " ", problems, flags=re.M)
    assert english_words(told) == []
