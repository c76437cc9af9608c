"""The pack's fast path (compiled templates, batches written by worker processes) prints what
plain docxtpl prints, letter for letter."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import PACK_AS_OF, PACK_CUSTOMERS
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader
from tooling import examples, require_slow, require_soffice

from dunning.archive.db import open_archive
from dunning.desk import Desk
from dunning.letters import pack as packing
from dunning.letters import pdf as pdf_tools
from dunning.letters.context import build_context
from dunning.letters.pack import Plan
from dunning.letters.pdf import convert_to_pdf
from dunning.letters.render import render_letter_plain


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        return {info.filename: package.read(info) for info in package.infolist()}


def _plain_letters(desk: Desk, plan: Plan, refs: dict[str, str]) -> dict[str, dict[str, bytes]]:
    """Each customer's letter documents rendered again by plain docxtpl from the plan the pack
    was written from, with the references it got: customer -> file name -> bytes."""
    as_of = dt.date.fromisoformat(PACK_AS_OF)
    found: dict[str, dict[str, bytes]] = {}
    with open_archive(desk.db_path) as db:
        for cand in plan.selected:
            level = packing._level(desk.config, cand)
            contracts = packing._contracts(db.conn, cand.customer.code, cand.aging)
            ref = refs[cand.customer.code]
            context = build_context(
                packing._letter_input(desk.config, as_of, cand, level, ref, contracts)
            )
            found[cand.customer.code] = {
                f"{packing.DOCUMENT_NAMES.get(d, d)}.docx": render_letter_plain(
                    packing.template_path(desk, d), context
                )
                for d in level.documents
                if d != "contract"
            }
    return found


def test_every_letter_of_a_parallel_pack_equals_plain_docxtpl(
    rendered_pack: tuple[Desk, Path, Plan],
) -> None:
    require_slow()  # 135 plain docxtpl renders: 15 s here
    desk, pack_dir, plan = rendered_pack
    manifest = json.loads((pack_dir / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest) == PACK_CUSTOMERS
    plain = _plain_letters(desk, plan, {m["customer"]: m["ref"] for m in manifest})
    compared = 0
    for letter in manifest:
        for file in letter["files"]:
            expected = plain[letter["customer"]].get(Path(file).name)
            if expected is None:
                continue
            written = _parts((pack_dir / file).read_bytes())
            reference = _parts(expected)
            assert list(written) == list(reference), file
            for member, data in reference.items():
                assert written[member] == data, f"{file}: {member} differs from docxtpl"
            compared += 1
    assert compared >= PACK_CUSTOMERS
    assert (
        "A&amp;B &lt;HK&gt; {{ 7*7 }} 贸易".encode()
        in _parts((pack_dir / manifest[0]["files"][0]).read_bytes())["word/document.xml"]
    )


def test_each_letter_has_its_own_folder_and_nothing_else_is_left(
    rendered_pack: tuple[Desk, Path, Plan],
) -> None:
    _desk, pack_dir, _plan = rendered_pack
    manifest = json.loads((pack_dir / "manifest.json").read_text(encoding="utf-8"))
    folders = {letter["customer"]: Path(letter["files"][0]).parts[0] for letter in manifest}
    assert len(set(folders.values())) == PACK_CUSTOMERS
    assert all(folder.startswith(code) for code, folder in folders.items())
    assert all((pack_dir / f).is_file() for letter in manifest for f in letter["files"])
    on_disk = {p.name for p in pack_dir.iterdir() if p.is_dir()}
    assert on_disk == set(folders.values())


def _letter_docx(path: Path, line: str) -> Path:
    document = docx.Document()
    document.add_paragraph(line)
    document.save(str(path))
    return path


def test_a_big_batch_is_split_between_two_libreoffice_runs_and_keeps_its_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_soffice()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "letters"
    folder.mkdir()
    # One more than the split point, and the same file name in two folders, as packs have.
    docs = [_letter_docx(folder / f"{n:02d}.docx", f"第{n}封 LETTER-{n:02d}") for n in range(8)]
    (folder / "again").mkdir()
    docs.append(_letter_docx(folder / "again" / "00.docx", "第8封 LETTER-08"))
    pdfs = convert_to_pdf(docs)
    assert pdfs == [doc.with_suffix(".pdf") for doc in docs]
    for n, pdf in enumerate(pdfs):
        assert f"LETTER-{n:02d}" in PdfReader(pdf).pages[0].extract_text()
    (profile,) = (tmp_path / "cache" / "dunning").iterdir()
    assert (profile / "user").is_dir()  # made once, copied for each run from now on
    again = convert_to_pdf(docs[:1])
    assert "LETTER-00" in PdfReader(again[0]).pages[0].extract_text()


def test_a_profile_others_can_write_to_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    planted = tmp_path / "cache" / "dunning" / "lo-profile-office"
    (planted / "user").mkdir(parents=True)
    planted.chmod(0o777)
    soffice = str(tmp_path / "office" / "program" / "soffice")
    assert pdf_tools._profile_template(soffice, tmp_path, 5.0) is None
    planted.chmod(0o700)
    assert pdf_tools._profile_template(soffice, tmp_path, 5.0) == planted


def _table_template(path: Path, *, drop_grid_columns: int, merge: bool) -> Path:
    """A template whose table has merged cells and, optionally, a grid narrower than its rows
    (a template Word saved half-edited): the cases where docxtpl's fix_tables acts."""
    document = docx.Document()
    document.add_paragraph("{{ customer_name }}")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"{{{{ cells[{r}][{c}] }}}}"
    if merge:
        table.cell(1, 0).merge(table.cell(1, 1))
    grid = table._tbl.tblGrid
    for column in list(grid)[:drop_grid_columns]:
        grid.remove(column)
    document.save(str(path))
    return path


@pytest.mark.parametrize(("drop", "merge"), [(0, False), (0, True), (1, False), (2, True)])
def test_tables_the_fast_path_fixes_equal_docxtpl(tmp_path: Path, drop: int, merge: bool) -> None:
    from dunning.letters.render import render_letter

    template = _table_template(tmp_path / "t.docx", drop_grid_columns=drop, merge=merge)
    context = {
        "customer_name": "A&B <HK>",
        "cells": [[f"{r}-{c}" for c in range(3)] for r in range(3)],
    }
    fast, plain = (
        _parts(render_letter(template, context)),
        _parts(render_letter_plain(template, context)),
    )
    assert fast["word/document.xml"] == plain["word/document.xml"]
    assert fast == plain


_WNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@st.composite
def _tables(draw: st.DrawFn, depth: int = 0) -> str:
    """A w:tbl as docxtpl may meet it: a grid (or none), rows of cells, some merged
    (gridSpan), now and then a table nested in a cell."""
    grid = draw(st.one_of(st.none(), st.integers(0, 5)))
    parts = ["<w:tbl>"]
    if grid is not None:
        parts.append("<w:tblGrid>" + '<w:gridCol w:w="1000"/>' * grid + "</w:tblGrid>")
    for _ in range(draw(st.integers(0, 4))):
        parts.append("<w:tr>")
        for _ in range(draw(st.integers(0, 6))):
            span = draw(st.integers(1, 3))
            props = f'<w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>' if span > 1 else ""
            inner = draw(_tables(depth + 1)) if depth == 0 and draw(st.integers(0, 9)) == 0 else ""
            parts.append(f"<w:tc>{props}<w:p/>{inner}</w:tc>")
        parts.append("</w:tr>")
    return "".join(parts) + "</w:tbl>"


def _needs_fix_per_row(table: etree._Element) -> bool:
    """The rule as first written, a Python step per row: the oracle for the XPath one."""
    w = f"{{{_WNS}}}"
    grid = table.find(w + "tblGrid")
    if grid is None:
        return True
    columns = len(grid.findall(w + "gridCol"))
    widest = 0
    for row in table.iter(w + "tr"):
        cells = len(row.findall(w + "tc"))
        if cells > columns:
            return True
        spans = row.iterfind(f"{w}tc/{w}tcPr/{w}gridSpan")
        widest = max(widest, cells + sum(int(s.get(w + "val")) - 1 for s in spans))
    return widest < columns


@settings(max_examples=examples(500), deadline=None)
@given(_tables())
def test_the_table_check_says_when_docxtpl_would_change_a_table(table: str) -> None:
    from dunning.letters.render import _DOCXTPL, _table_needs_fix

    body = f'<w:body xmlns:w="{_WNS}">{table}</w:body>'
    tables = list(etree.fromstring(body).iter(f"{{{_WNS}}}tbl"))  # nested ones too
    needs = [_table_needs_fix(t) for t in tables]
    assert needs == [_needs_fix_per_row(t) for t in tables]
    if not any(needs):  # then docxtpl's own pass leaves the body exactly as it is
        assert etree.tostring(_DOCXTPL.fix_tables(body)) == etree.tostring(etree.fromstring(body))
