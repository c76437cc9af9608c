"""Clerk-facing text is Chinese (issue 22): the letter templates, the web pages a clerk uses and
the output of the day's commands on the demo hold no English word outside a short allow-list
(codes, references, units, product names)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from web_support import client, demo_desk

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import PACKAGE_TEMPLATES, Desk
from dunning.letters.delivery import load_deliveries

# Words a clerk may read: product and format names, units, the brand.
ALLOWED = {
    "dunning", "EMS", "PDF", "XLSX", "Excel", "LibreOffice", "OCR", "QR", "CSV", "ZIP", "zip",
    "Word", "MB", "Content", "Length", "ingest", "inbox", "contracts", "toml", "xlsx", "pdf",
    "docx", "csv", "Noto", "Serif", "CJK", "SC", "clerk", "admin", "manager", "viewer",
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
def demo(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    return demo_desk(tmp_path_factory.mktemp("words") / "desk", hostile=False)


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


def test_letter_steps_speak_chinese(demo: Desk, tmp_path: Path) -> None:
    with open_archive(demo.db_path) as db:
        ref = load_deliveries(db)[-1].ref
    runner = CliRunner()
    for args in (["letter", "sent", ref, "--via", "ems", "--tracking", "EMS1"],
                 ["letter", "sent", ref, "--via", "ems", "--tracking", "EMS1"],
                 ["letter", "delivered", ref],
                 ["letter", "sent", ref, "--via", "ems", "--on", "2999-01-01"]):  # fmt: skip
        result = runner.invoke(main, ["--desk", str(demo.root), *args])
        assert english_words(result.stdout + result.stderr.replace("Error:", "")) == [], args


def test_the_walker_finds_english() -> None:
    assert english_words("客户 C004 is overdue (CS-2026-000001)") == ["overdue"]
    assert english_words("用 `dunning pack --dry-run` 看看 台账.xlsx") == []
