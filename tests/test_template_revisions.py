"""Templates edited with Track Changes on, with comments, or saved as .doc (issue 20, case 6):
`templates check` names them, a pack refuses them, and no deleted text ever reaches a letter."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_pack import AS_OF, LEDGER, MASTER

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.errors import DunningError
from dunning.ingest.pipeline import ingest_paths
from dunning.letters.pack import plan_pack, write_pack
from dunning.letters.render import compile_template

NOTE = "内部备注：此客户老板难缠，可考虑直接起诉。"
TRACKED = (
    '<w:p><w:del w:id="901" w:author="clerk" w:date="2025-06-01T00:00:00Z"><w:r>'
    f"<w:delText>{NOTE}</w:delText></w:r></w:del>"
    '<w:ins w:id="902" w:author="clerk" w:date="2025-06-01T00:00:00Z"><w:r>'
    "<w:t>感谢贵司一直以来的合作。</w:t></w:r></w:ins></w:p>"
)
IN_A_TAG = (
    "<w:t>{{ customer.</w:t></w:r>"
    '<w:ins w:id="903" w:author="clerk"><w:r><w:t>name</w:t></w:r></w:ins>'
    "<w:r><w:t> }}</w:t></w:r>"
)
COMMENT = (
    '<w:p><w:commentRangeStart w:id="0"/><w:r><w:t>请于收函后付款。</w:t></w:r>'
    '<w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p>'
)


@pytest.fixture
def loaded(desk: Desk, tmp_path: Path) -> Desk:
    (tmp_path / "ledger.csv").write_text(LEDGER, encoding="utf-8")
    (tmp_path / "master.csv").write_text(MASTER, encoding="utf-8")
    assert not ingest_paths(desk, [tmp_path / "ledger.csv", tmp_path / "master.csv"]).of("failed")
    return desk


def edit_document(path: Path, edit: object) -> None:
    """Rewrite word/document.xml of the .docx at `path` with `edit(xml) -> xml`."""
    assert callable(edit)
    with zipfile.ZipFile(path) as src:
        members = {i.filename: src.read(i) for i in src.infolist()}
    members["word/document.xml"] = edit(members["word/document.xml"].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)


def after_title(fragment: str) -> object:
    return lambda xml: xml.replace(
        "付款提醒函</w:t></w:r></w:p>", "付款提醒函</w:t></w:r></w:p>" + fragment, 1
    )


def check(runner: CliRunner, desk: Desk) -> tuple[int, list[dict[str, str]]]:
    result = runner.invoke(main, ["--desk", str(desk.root), "templates", "check", "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_a_tracked_deletion_is_named_and_the_pack_refused(
    loaded: Desk,
    runner: CliRunner,
) -> None:
    edit_document(loaded.templates / "reminder.docx", after_title(TRACKED))
    code, problems = check(runner, loaded)
    assert code == 1
    assert [p["file"] for p in problems] == ["reminder.docx"]
    assert "中有未接受的修订" in problems[0]["problem"]
    assert "插入 1 处、删除 1 处" in problems[0]["problem"]
    assert problems[0]["tag"].startswith("内部备注")
    with open_archive(loaded.db_path) as db:
        with pytest.raises(DunningError, match="中有未接受的修订"):
            write_pack(loaded, db, plan_pack(db, loaded.config, as_of=AS_OF))
        assert db.execute("SELECT count(*) FROM letters").fetchone()[0] == 0


def test_a_tracked_change_inside_a_tag_names_track_changes_not_a_split_tag(
    loaded: Desk,
    runner: CliRunner,
) -> None:
    edit_document(
        loaded.templates / "reminder.docx",
        lambda xml: xml.replace("<w:t>{{ customer.name }}</w:t></w:r>", IN_A_TAG, 1),
    )
    code, problems = check(runner, loaded)
    assert code == 1
    assert any("中有未接受的修订" in p["problem"] for p in problems)
    assert not any("标签被拆" in p["problem"] for p in problems)


def test_comments_are_named(loaded: Desk, runner: CliRunner) -> None:
    edit_document(loaded.templates / "reminder.docx", after_title(COMMENT))
    code, problems = check(runner, loaded)
    assert code == 1
    assert ["中有批注：批注会随每封函件发出" in p["problem"] for p in problems] == [True]


@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_a_template_saved_as_doc_or_wps_is_named_not_silently_ignored(
    loaded: Desk,
    runner: CliRunner,
    suffix: str,
) -> None:
    (loaded.templates / "reminder.docx").unlink()
    (loaded.templates / f"reminder{suffix}").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(512))
    code, problems = check(runner, loaded)
    assert code == 1
    assert problems == [
        {
            "file": f"reminder{suffix}",
            "tag": f"reminder{suffix}",
            "problem": f"保存成了 {suffix} 格式，本工作台不读取这种格式（实际使用的是内置模板）："
            "请在 Word 或 WPS 中打开，另存为“Word 文档 (*.docx)”",
        }
    ]
    with (
        open_archive(loaded.db_path) as db,
        pytest.raises(DunningError, match=rf"保存成了 \{suffix} 格式"),
    ):
        write_pack(loaded, db, plan_pack(db, loaded.config, as_of=AS_OF))


def test_rendering_accepts_revisions_even_when_nothing_checked_first(
    loaded: Desk,
    tmp_path: Path,
) -> None:
    """The second lock: a template that skipped the check still never prints the deletion."""
    template = tmp_path / "reminder.docx"
    template.write_bytes((loaded.templates / "reminder.docx").read_bytes())
    edit_document(template, after_title(TRACKED + COMMENT))
    compiled = compile_template(template)
    source = compiled.body._dunning_source  # type: ignore[attr-defined]  # the compiled body, as Jinja sees it
    assert NOTE not in source
    assert "感谢贵司一直以来的合作" in source  # the insertion is kept
    assert "<w:ins" not in source and "<w:del" not in source
    assert "commentReference" not in source and "commentRange" not in source
    assert "请于收函后付款" in source  # the commented text itself stays
