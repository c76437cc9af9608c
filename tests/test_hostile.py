"""Hostile data and broken files (issue 14): nothing from a file becomes code, escapes the
desk, or hangs it. One test per case; the bomb cases measure peak memory in a subprocess."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import hostile_files as hf
import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tooling import examples

from dunning.archive.db import open_archive, write_transaction
from dunning.cli import main
from dunning.desk import Desk, init_desk
from dunning.ingest.pipeline import ingest_paths
from dunning.letters.pack import plan_pack, write_pack
from dunning.safenames import MAX_NAME_BYTES, safe_name
from dunning.textsafe import csv_value, xml_text
from dunning.workflow import set_status
from dunning.workflow.legal_xlsx import write_legal
from dunning.workflow.reports import legal_report, weekly_report
from dunning.workflow.weekly_xlsx import write_weekly

AS_OF = dt.date(2025, 6, 30)
FORMULA = '=HYPERLINK("http://evil.example/x","点我")'
# Peak resident memory allowed for one `ingest` of a hostile file, workers included; a healthy
# one-row ledger peaks at about 55 MB here (test_baseline_peak_of_a_healthy_ledger).
PEAK_CAP_MB = 150
TIME_CAP_S = 20


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def ledger(rows: list[tuple[str, str]]) -> str:
    lines = ["客户编号,客户名称,发票号码,开票日期,到期日,应收金额"]
    for n, (code, name) in enumerate(rows, start=1):
        lines.append(f"{code},{_csv_cell(name)},FP{n:04d},2025-01-05,2025-02-04,1000.00")
    return "\n".join(lines) + "\n"


def load(desk: Desk, tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    path = tmp_path / "台账.csv"
    path.write_text(ledger(rows), encoding="utf-8")
    report = ingest_paths(desk, [path])
    assert not report.of("failed"), report.of("failed")


def workbook_cells(path: Path) -> list[openpyxl.cell.cell.Cell]:
    wb = openpyxl.load_workbook(path)
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def assert_no_formula(path: Path) -> None:
    """No formula anywhere: not in openpyxl's reading, not as an <f> element in the XML."""
    assert all(cell.data_type != "f" for cell in workbook_cells(path))
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def write_reports(desk: Desk) -> tuple[Path, Path]:
    with open_archive(desk.db_path) as db:
        weekly = write_weekly(
            weekly_report(db, as_of=AS_OF, config=desk.config), desk.out / "weekly.xlsx"
        )
        legal = write_legal(
            legal_report(db, as_of=AS_OF, config=desk.config), desk.out / "legal.xlsx"
        )
    return weekly, legal


# -- text stays text ---------------------------------------------------------------------------


def test_a_formula_name_is_text_in_the_weekly_and_legal_reports(desk: Desk, tmp_path: Path) -> None:
    load(desk, tmp_path, [("C001", FORMULA), ("C002", "@SUM(A1:A9)"), ("C003", "+1+2")])
    with open_archive(desk.db_path) as db:
        set_status(db, "C001", "litigation", note="移交")
    for report in write_reports(desk):
        assert_no_formula(report)
        values = {cell.value for cell in workbook_cells(report)}
        assert FORMULA in values  # the clerk reads the name exactly as the ledger had it
    weekly_values = {c.value for c in workbook_cells(desk.out / "weekly.xlsx")}
    assert {"@SUM(A1:A9)", "+1+2"} <= weekly_values


def test_a_control_character_in_a_name_does_not_crash_a_report(desk: Desk, tmp_path: Path) -> None:
    load(desk, tmp_path, [("C001", "明远贸易")])
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        conn.execute(
            "UPDATE customers SET name = ? WHERE code = 'C001'", ["明远\x01\x0b贸易\ufffe"]
        )
    weekly, _ = write_reports(desk)
    assert "明远\ufffd\ufffd贸易\ufffd" in {c.value for c in workbook_cells(weekly)}


def test_a_formula_name_is_text_in_the_web_desks_customer_list_export(
    desk: Desk, tmp_path: Path
) -> None:
    from web_support import client

    load(desk, tmp_path, [("C001", FORMULA), ("C002", "@SUM(A1:A9)"), ("C003", "+1+2")])
    export = client(desk).get("/customers.xlsx")
    assert export.status_code == 200
    path = tmp_path / "customers.xlsx"
    path.write_bytes(export.content)
    assert_no_formula(path)
    assert {FORMULA, "@SUM(A1:A9)", "+1+2"} <= {cell.value for cell in workbook_cells(path)}


def test_pack_manifest_csv_neutralises_formulas_json_and_letters_keep_them(
    desk: Desk, tmp_path: Path
) -> None:
    load(desk, tmp_path, [("C001", FORMULA), ("-C2", "-10+20")])
    with open_archive(desk.db_path) as db:
        result = write_pack(
            desk, db, plan_pack(db, desk.config, allow_no_address=True, as_of=AS_OF)
        )
    assert result.pack_dir is not None
    with (result.pack_dir / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_code = {csv_value(r["customer"]): r for r in rows}
    assert by_code["C001"]["name"] == "'" + FORMULA
    assert by_code["-C2"]["customer"] == "'-C2" and by_code["-C2"]["name"] == "'-10+20"
    assert csv_value(by_code["-C2"]["name"]) == "-10+20"
    listed = json.loads((result.pack_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {letter["name"] for letter in listed} == {FORMULA, "-10+20"}
    import docx

    statement = next(result.pack_dir.glob("C001*/对账单-statement.docx"))
    text = "\n".join(
        c.text for t in docx.Document(str(statement)).tables for r in t.rows for c in r.cells
    )
    text += "\n".join(p.text for p in docx.Document(str(statement)).paragraphs)
    assert FORMULA in text


@pytest.fixture(scope="module")
def property_desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    root = tmp_path_factory.mktemp("property")
    desk = init_desk(root / "desk")
    load(desk, root, [("C001", "甲"), ("C002", "乙")])
    with open_archive(desk.db_path) as db:
        set_status(db, "C002", "litigation", note="移交")
    return desk


NAMES = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=NAMES)
def test_property_reports_hold_any_name_as_text(property_desk: Desk, name: str) -> None:
    desk = property_desk
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        conn.execute("UPDATE customers SET name = ?", [name])
    for report in write_reports(desk):
        assert_no_formula(report)
        assert xml_text(name) in {c.value for c in workbook_cells(report)}


@settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=NAMES)
def test_property_pack_folders_and_manifests_for_any_name(property_desk: Desk, name: str) -> None:
    """Both customers get the same arbitrary name: their folders must still be two, inside."""
    desk = property_desk
    before = set(desk.root.parent.iterdir())
    with open_archive(desk.db_path) as db:
        with write_transaction(db) as conn:
            conn.execute("UPDATE customers SET name = ?, status = 'active'", [name])
            conn.execute("DELETE FROM collection_log")
            conn.execute("DELETE FROM letters")
        result = write_pack(
            desk, db, plan_pack(db, desk.config, allow_no_address=True, as_of=AS_OF)
        )
    assert result.pack_dir is not None and len(result.letters) == 2
    assert set(desk.root.parent.iterdir()) == before  # nothing written beside the desk
    folders = [p for p in result.pack_dir.iterdir() if p.is_dir()]
    assert len(folders) == 2
    for path in result.pack_dir.rglob("*"):
        assert path.resolve().is_relative_to(result.pack_dir.resolve())
        assert len(path.name.encode()) <= 255
    listed = json.loads((result.pack_dir / "manifest.json").read_text(encoding="utf-8"))
    assert [letter["name"] for letter in listed] == [name, name]
    with (result.pack_dir / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [csv_value(r["name"]) for r in rows] == [name, name]
    for row in rows:  # no field a spreadsheet would run
        for field in ("ref", "customer", "name", "level_name", "files"):
            assert not row[field].startswith(("=", "+", "-", "@", "\t", "\r")), row


# -- names never become paths ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../escape", "..", "CON", "nul.txt", "COM1", "a:b", "x/y\\z", "tab\there", "\u202efdp.exe"],
)
def test_safe_name_is_one_harmless_component(name: str) -> None:
    cleaned = safe_name(name)
    assert "/" not in cleaned and "\\" not in cleaned and ":" not in cleaned
    assert cleaned not in {".", ".."} and not cleaned.startswith(".")
    assert cleaned.split(".")[0].upper() not in {"CON", "NUL", "COM1"}
    assert all(ch.isprintable() for ch in cleaned)


def test_a_300_character_name_and_colliding_names_never_fail_the_pack(
    desk: Desk, tmp_path: Path
) -> None:
    long_name = "杭州" * 150  # 300 characters, 900 bytes of UTF-8
    rows = [("C001", long_name), ("C002", long_name + "乙"), ("K/1", "B"), ("K:1", "B")]
    load(desk, tmp_path, [*rows, ("../..", "CON")])
    with open_archive(desk.db_path) as db:
        result = write_pack(
            desk, db, plan_pack(db, desk.config, allow_no_address=True, as_of=AS_OF)
        )
    assert result.pack_dir is not None and len(result.letters) == 5
    folders = sorted(p.name for p in result.pack_dir.iterdir() if p.is_dir())
    assert len(folders) == 5
    assert all(len(f.encode()) <= MAX_NAME_BYTES for f in folders)
    for path in result.pack_dir.rglob("*"):
        assert path.resolve().is_relative_to(result.pack_dir.resolve())
    assert not (desk.root / "CON").exists() and not (desk.out / "CON").exists()


def test_two_codes_that_clean_to_one_folder_get_two_folders(desk: Desk, tmp_path: Path) -> None:
    load(desk, tmp_path, [("A/1", "同名公司"), ("A:1", "同名公司")])
    with open_archive(desk.db_path) as db:
        result = write_pack(
            desk, db, plan_pack(db, desk.config, allow_no_address=True, as_of=AS_OF)
        )
    assert result.pack_dir is not None
    folders = sorted(p.name for p in result.pack_dir.iterdir() if p.is_dir())
    assert folders == ["A_1 同名公司", "A_1 同名公司 (2)"]
    files = {f for letter in result.letters for f in letter.files}
    assert all((result.pack_dir / f).is_file() for f in files) and len(files) == 6


def test_quarantine_of_long_names_never_fails(desk: Desk) -> None:
    name = "坏" * 80 + ".csv"  # 243 bytes: a suffix or ".error.txt" would pass 255
    for folder in (desk.inbox, desk.inbox / "ledgers"):
        (folder / name).write_text("nonsense\n", encoding="utf-8")
    report = ingest_paths(desk, [desk.inbox])
    assert len(report.of("failed")) == 2
    kept = sorted(p.name for p in desk.failed.iterdir())
    assert len(kept) == 4 and all(len(n.encode()) <= 255 for n in kept)
    assert not any(p.is_file() for p in desk.inbox.rglob("*"))


# -- the inbox takes only regular files inside it ----------------------------------------------


def _plant(desk: Desk) -> dict[str, Path]:
    planted = {
        "passwd.csv": desk.inbox / "ledgers" / "passwd.csv",
        "etc": desk.inbox / "etc",
        "loop.pdf": desk.inbox / "loop.pdf",
        "fifo.csv": desk.inbox / "fifo.csv",
    }
    planted["passwd.csv"].symlink_to("/etc/passwd")
    planted["etc"].symlink_to("/etc", target_is_directory=True)
    planted["loop.pdf"].symlink_to(planted["loop.pdf"])
    os.mkfifo(planted["fifo.csv"])
    return planted


def test_links_and_fifos_in_the_inbox_are_quarantined_never_followed(
    desk: Desk, runner: CliRunner
) -> None:
    planted = _plant(desk)
    result = runner.invoke(main, ["--desk", str(desk.root), "watch", "--once", "--delay", "0"])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    for name in planted:
        assert not os.path.lexists(planted[name]), name
        assert os.path.lexists(desk.failed / name), name
        note = (desk.failed / f"{name}.error.txt").read_text(encoding="utf-8")
        assert "是符号链接" in note or "是命名管道（FIFO）" in note, note
    assert os.path.islink(desk.failed / "passwd.csv")  # the link moved, not its target
    assert Path("/etc/passwd").is_file()
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
    listed = json.loads(
        runner.invoke(main, ["--desk", str(desk.root), "failed", "list", "--json"]).stdout
    )
    assert {entry["name"] for entry in listed} == set(planted)


def test_a_device_in_the_inbox_is_never_read(desk: Desk) -> None:
    device = desk.inbox / "zero.csv"
    try:
        os.mknod(device, 0o600 | 0o020000, os.makedev(1, 5))  # a character device: /dev/zero
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here: {exc}")
    started = time.monotonic()
    (outcome,) = ingest_paths(desk, [desk.inbox]).outcomes
    assert time.monotonic() - started < 10
    assert outcome.status == "failed" and "是设备，不是普通文件" in (outcome.reason or "")
    assert os.path.lexists(desk.failed / "zero.csv")


def test_ingest_of_named_links_follows_none_and_copies_nothing(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    inside = desk.inbox / "ledgers" / "planted.csv"
    inside.symlink_to("/etc/passwd")
    outside = tmp_path / "outside.csv"
    outside.symlink_to("/etc/passwd")
    result = runner.invoke(
        main, ["--desk", str(desk.root), "ingest", str(inside), str(outside), "--json"]
    )
    assert result.exit_code == 1
    failed = json.loads(result.stdout)["failed"]
    assert len(failed) == 2 and all("是符号链接" in f["reason"] for f in failed)
    assert os.path.islink(desk.failed / "planted.csv")
    assert os.path.islink(outside)  # a path outside the desk stays where it is
    passwd = Path("/etc/passwd").read_bytes()
    for path in desk.failed.iterdir():
        if not path.is_symlink():
            assert path.read_bytes() != passwd
    assert (desk.failed / "outside.csv.error.txt").is_file()
    assert not (desk.failed / "outside.csv").exists()


def test_failed_retry_never_leaves_the_inbox(desk: Desk, runner: CliRunner) -> None:
    bad = desk.inbox / "ledgers" / "坏.csv"
    bad.write_text("nonsense\n", encoding="utf-8")
    ingest_paths(desk, [desk.inbox])
    note = desk.failed / "坏.csv.error.txt"
    for forged in ("inbox/../../escaped.csv", "/tmp/escaped.csv", "inbox/../store/x.csv"):
        note.write_text(f"bad\n\nsource: {forged}\n", encoding="utf-8")
        result = runner.invoke(main, ["--desk", str(desk.root), "failed", "retry", "坏.csv"])
        assert result.exit_code == 0, result.output
        assert (desk.inbox / "坏.csv").is_file(), forged
        assert not (desk.root.parent / "escaped.csv").exists()
        assert not Path("/tmp/escaped.csv").exists()
        (desk.inbox / "坏.csv").rename(desk.failed / "坏.csv")
    note.write_text("bad\n\nsource: inbox/ledgers/坏.csv\n", encoding="utf-8")
    runner.invoke(main, ["--desk", str(desk.root), "failed", "retry", "坏.csv"])
    assert bad.is_file()  # a genuine inbox subfolder is still honoured


@pytest.mark.slow  # seconds of real processes or big files
def test_a_full_disk_during_ingest_loses_nothing(desk: Desk) -> None:
    """RLIMIT_FSIZE makes every write past 256 KB fail, as a full disk does."""
    big_bad = desk.inbox / "big-bad.csv"
    big_bad.write_text("x" * 600_000 + "\n", encoding="utf-8")
    from pdf_factory import make_text_pdf

    good = make_text_pdf(
        desk.inbox / "contracts" / "合同.pdf", ["合同编号：HT-1 " + "甲方乙方" * 20]
    )
    with good.open("ab") as fh:
        fh.write(b"%" + b"0" * 600_000 + b"\n")  # padding after %%EOF keeps the PDF valid
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))\n"
        "from dunning.cli import main\n"
        "main(['--desk', sys.argv[1], 'ingest', sys.argv[1] + '/inbox'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(desk.root)], capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1
    assert (desk.failed / "big-bad.csv").stat().st_size > 600_000  # moved whole, not copied
    assert (desk.failed / "big-bad.csv.error.txt").read_text(encoding="utf-8").strip()
    assert good.is_file(), done.stderr  # not archived, not lost: still in the inbox
    assert "请清理出一些磁盘空间" in done.stderr
    assert "已归档 0 个" in done.stdout + done.stderr  # the summary still comes
    verified = CliRunner().invoke(main, ["--desk", str(desk.root), "verify"])
    assert verified.exit_code == 0, verified.output


# -- broken and malicious files: quarantined, bounded in time and memory -----------------------

_MEASURE = """
import json, resource, sys, time
from pathlib import Path
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths
started = time.monotonic()
report = ingest_paths(Desk(Path(sys.argv[1])), [Path(sys.argv[2])])
status = Path("/proc/self/status").read_text()
hwm = int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1])
print(json.dumps({
    "outcomes": [[o.status, o.reason] for o in report.outcomes],
    "seconds": time.monotonic() - started,
    # VmHWM, not RUSAGE_SELF: Linux carries ru_maxrss across exec, so RUSAGE_SELF would
    # report pytest's own size; the workers are waited for, so RUSAGE_CHILDREN covers them.
    "peak_kb": max(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
}))
"""


def ingest_measured(desk: Desk, path: Path) -> tuple[str, str, float]:
    """Ingest one file in a fresh process; (status, reason, peak MB of it and its workers)."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(desk.root), str(path)],
        capture_output=True,
        text=True,
        timeout=TIME_CAP_S * 3,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    ((status, reason),) = result["outcomes"]
    peak_mb = result["peak_kb"] / 1024
    print(f"\n{path.name}: {status}, peak {peak_mb:.0f} MB, {result['seconds']:.2f} s: {reason}")
    assert peak_mb < PEAK_CAP_MB, f"{path.name} peaked at {peak_mb:.0f} MB"
    assert result["seconds"] < TIME_CAP_S
    return status, reason or "", peak_mb


def _quarantined(desk: Desk, path: Path, *words: str) -> None:
    status, reason, _ = ingest_measured(desk, path)
    assert status == "failed", reason
    for word in words:
        assert word in reason, reason
    note = (desk.failed / f"{path.name}.error.txt").read_text(encoding="utf-8")
    assert note.startswith(reason.split(":")[0])
    assert (desk.failed / path.name).is_file() and not path.exists()


def test_baseline_peak_of_a_healthy_ledger(desk: Desk) -> None:
    path = hf.write_xlsx(desk.inbox / "ledgers" / "healthy.xlsx")
    status, reason, _ = ingest_measured(desk, path)
    assert status == "archived", reason


@pytest.mark.slow  # seconds of real processes or big files
def test_xlsx_with_a_200_mb_shared_string(desk: Desk) -> None:
    path = hf.giant_shared_string_xlsx(desk.inbox / "ledgers" / "bomb.xlsx", 200)
    assert path.stat().st_size < 300_000
    _quarantined(desk, path, "200 MB", "未打开")


def test_xlsx_with_one_cell_longer_than_excel_allows(desk: Desk) -> None:
    path = hf.giant_shared_string_xlsx(desk.inbox / "ledgers" / "long-cell.xlsx", 20)
    _quarantined(desk, path, "超过 32,767 个字符")


def test_xlsx_with_thousands_of_parts(desk: Desk) -> None:
    path = hf.many_members_xlsx(desk.inbox / "ledgers" / "parts.xlsx", 3000)
    _quarantined(desk, path, "个部件", "压缩炸弹")


@pytest.mark.slow  # seconds of real processes or big files
def test_docx_zip_bomb_is_refused_unopened(desk: Desk, tmp_path: Path) -> None:
    path = desk.inbox / "report.docx"  # 100 MB of XML in 100 KB: refused by type, never inflated
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(100):
                member.write(b"<w:t>" + b"A" * (1024 * 1024))
    _quarantined(desk, path, "识别为 Word 文档", "没有可归档的内容")


@pytest.mark.slow  # seconds of real processes or big files
def test_a_zip_with_more_members_than_its_end_record_can_count(desk: Desk) -> None:
    path = desk.inbox / "ledgers" / "members.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        for n in range(70_000):  # past 65,535: the count needs zip64
            z.writestr(f"p/{n}", b"")
    _quarantined(desk, path, "超过 65,534 个部件")


def test_xlsx_with_an_external_entity(desk: Desk) -> None:
    _quarantined(desk, hf.xxe_xlsx(desk.inbox / "ledgers" / "xxe.xlsx"), "DTD", "未打开")


def test_xlsx_with_billion_laughs(desk: Desk) -> None:
    path = hf.billion_laughs_xlsx(desk.inbox / "ledgers" / "laughs.xlsx")
    _quarantined(desk, path, "实体膨胀攻击")


def test_xlsx_whose_dimension_claims_a_million_rows_is_read_by_its_real_rows(desk: Desk) -> None:
    path = hf.million_row_dimension_xlsx(desk.inbox / "ledgers" / "dimension.xlsx")
    status, reason, _ = ingest_measured(desk, path)
    assert status == "archived", reason
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT count(*) FROM invoices").fetchone()[0] == 1


def test_png_signature_without_image_data(desk: Desk) -> None:
    path = hf.signature_only_png(desk.inbox / "contracts" / "扫描件.pdf")
    _quarantined(desk, path, "损坏")


def test_truncated_png(desk: Desk) -> None:
    whole = hf.pixel_bomb_png(desk.root / "small.png", side=400)
    data = whole.read_bytes()
    path = desk.inbox / "contracts" / "truncated.png"
    path.write_bytes(data[: len(data) // 2])
    whole.unlink()
    _quarantined(desk, path, "损坏")


@pytest.mark.slow  # seconds of real processes or big files
def test_30000_by_30000_png(desk: Desk) -> None:
    path = hf.pixel_bomb_png(desk.inbox / "contracts" / "huge.png")
    _quarantined(desk, path, "图像太大", "未解码")


def test_pdf_with_a_cyclic_page_tree(desk: Desk) -> None:
    _quarantined(desk, hf.cyclic_pdf(desk.inbox / "contracts" / "cyclic.pdf"), "损坏")


def test_pdf_with_an_absurd_page_count_is_read_by_its_real_pages(desk: Desk) -> None:
    path = hf.absurd_count_pdf(desk.inbox / "contracts" / "count.pdf")
    status, reason, _ = ingest_measured(desk, path)
    assert status == "archived", reason
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT pages FROM documents").fetchone()[0] == 1


def test_pdf_with_10000_pages(desk: Desk) -> None:
    path = hf.many_pages_pdf(desk.inbox / "contracts" / "thick.pdf")
    _quarantined(desk, path, "有 10000 页", "超过合同 500 页的上限")


# -- a read-only desk --------------------------------------------------------------------------


def _read_only(desk: Desk, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dunning` with the desk bind-mounted read-only in a private mount namespace."""
    import shlex

    root = shlex.quote(str(desk.root))
    command = " ".join(shlex.quote(a) for a in args)
    script = (
        f"mount --bind {root} {root} && mount -o remount,bind,ro {root} && exec"
        f" {shlex.quote(sys.executable)} -c 'from dunning.cli import main; main()'"
        f" --desk {root} {command}"
    )
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow  # seconds of real processes or big files
def test_a_read_only_desk_reads_and_refuses_writes_in_one_sentence(
    desk: Desk, tmp_path: Path
) -> None:
    load(desk, tmp_path, [("C001", "杭州明远贸易有限公司")])
    (desk.inbox / "ledgers" / "new.csv").write_text(ledger([("C009", "新客户")]), encoding="utf-8")
    probe = _read_only(desk, "aging")
    if "Operation not permitted" in probe.stderr or "unshare" in probe.stderr:
        pytest.skip(f"no private mount namespace here: {probe.stderr.strip()}")
    for reading in (["aging"], ["customers"], ["customer", "C001"], ["search", "杭州"], ["verify"]):
        done = _read_only(desk, *reading)
        assert done.returncode == 0, (reading, done.stderr)
    assert "杭州明远" in _read_only(desk, "customers").stdout
    for writing in (
        ["set-status", "C001", "disputed"],
        ["log", "add", "C001", "--kind", "call", "--note", "打过电话"],
        ["report", "weekly"],
        ["ingest", str(desk.inbox)],
        ["pack", "--allow-no-address", "--as-of", "2025-06-30"],
    ):
        done = _read_only(desk, *writing)
        assert done.returncode == 1, (writing, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) <= 2, done.stderr
        assert "只读" in done.stderr or "read-only" in done.stderr.lower(), done.stderr
    assert (desk.inbox / "ledgers" / "new.csv").is_file()  # nothing lost
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT status FROM customers").fetchone()[0] == "active"


# -- queries, ids and dates from the user ------------------------------------------------------


@pytest.fixture
def searchable(desk: Desk, tmp_path: Path) -> Desk:
    load(desk, tmp_path, [("C001", "杭州明远贸易有限公司"), ("C002", 'A"B (OR) *NEAR-^')])
    return desk


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "*",
        "NEAR(",
        "OR",
        "-",
        "^",
        "(",
        ")",
        "a OR b",
        'A"B',
        "(OR)",
        "NEAR-^",
        "x" * 10_000,
        "杭" * 10_000,
    ],
)
def test_search_with_fts_syntax_is_literal(searchable: Desk, runner: CliRunner, query: str) -> None:
    result = runner.invoke(main, ["--desk", str(searchable.root), "search", query, "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    if query in ('A"B', "(OR)", "NEAR-^", '"', "*", "^", "(", ")", "-"):
        assert hits, query  # the literal characters are in C002's name
    if len(query) == 10_000:
        assert hits == []


def test_empty_search_is_one_sentence(searchable: Desk, runner: CliRunner) -> None:
    for args in (["search", ""], ["search", "   "]):
        result = runner.invoke(main, ["--desk", str(searchable.root), *args])
        assert result.exit_code != 0
        assert "Traceback" not in result.output and "搜索内容为空" in result.stderr


@pytest.mark.parametrize("doc_id", ["0", "-1", "99999999999999999999999", "abc", "1e3", "٣"])
def test_show_and_open_with_odd_ids(searchable: Desk, runner: CliRunner, doc_id: str) -> None:
    for command in (["show"], ["open", "--path"]):
        result = runner.invoke(main, ["--desk", str(searchable.root), *command, "--", doc_id])
        assert result.exit_code in (1, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        # (click words a bad argument itself: `Error: Invalid value …` before our sentence)
        errors = [
            line for line in result.stderr.splitlines() if line.startswith(("错误：", "Error:"))
        ]
        # One sentence, 文档, that points at `dunning search` for the document numbers.
        assert len(errors) == 1 and "`dunning search`" in errors[0], result.stderr
        assert "文档" in errors[0], result.stderr
    assert runner.invoke(main, ["--desk", str(searchable.root), "show", "1"]).exit_code == 0


def test_year_9999_is_a_bad_row_and_a_usage_error(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    path = tmp_path / "far.csv"
    path.write_text(
        "客户编号,发票号码,开票日期,到期日,应收金额\nC1,F1,2025-01-01,9999-12-31,100\n",
        encoding="utf-8",
    )
    (outcome,) = ingest_paths(desk, [path]).outcomes
    assert outcome.status == "failed"
    note = (desk.failed / "far.csv.error.txt").read_text(encoding="utf-8")
    assert "第 2 行「到期日」'9999-12-31'" in note
    for args in (
        ["pack", "--allow-no-address", "--as-of", "9999-12-31"],
        ["aging", "--as-of", "9999-12-31"],
    ):
        result = runner.invoke(main, ["--desk", str(desk.root), *args])
        assert result.exit_code == 2, result.output
        assert "超出范围" in result.stderr and "Traceback" not in result.output


# -- templates stay sandboxed ------------------------------------------------------------------


def plant_tag(template: Path, tag: str) -> None:
    """Put `tag` right after {{ customer.name }} in the same Word run of the template."""
    with zipfile.ZipFile(template) as z:
        parts = {info.filename: z.read(info) for info in z.infolist()}
    xml = parts["word/document.xml"].decode("utf-8")
    assert "{{ customer.name }}" in xml
    tag_xml = tag.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    parts["word/document.xml"] = xml.replace(
        "{{ customer.name }}", "{{ customer.name }}" + tag_xml, 1
    ).encode("utf-8")
    with zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


@pytest.mark.parametrize(
    ("tag", "words"),
    [
        ("{{ ''.__class__.__mro__ }}", ["__class__", "__mro__"]),
        ("{{ cycler.__init__.__globals__ }}", ["__init__", "__globals__"]),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            ["range"],
        ),
        (
            "{% for i in range(9000) %}{% for j in range(9000) %}x{% endfor %}{% endfor %}",
            ["循环超过"],
        ),
        ("{{ 'x' * 10**8 }}", ["乘到"]),
        ("{{ 7 ** 123456789 }}", ["乘方"]),
        ("{% for i in range(5000) %}{{ 'x' * 999999 }}{% endfor %}", ["函件内容超过"]),
    ],
)
def test_a_hostile_template_fails_with_a_sentence_naming_template_and_tag(
    desk: Desk, tmp_path: Path, runner: CliRunner, tag: str, words: list[str]
) -> None:
    import tracemalloc

    load(desk, tmp_path, [("C001", "杭州明远贸易有限公司")])
    plant_tag(desk.templates / "reminder.docx", tag)
    tracemalloc.start()
    started = time.monotonic()
    result = runner.invoke(
        main, ["--desk", str(desk.root), "pack", "--allow-no-address", "--as-of", "2025-06-30"]
    )
    seconds = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\n{tag[:40]}: {seconds:.2f} s, peak {peak / 2**20:.1f} MB traced")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("错误：")]
    assert error.startswith("错误：reminder.docx"), error
    assert "附近）" in error or "某个标签输出" in error, error
    assert any(w in error for w in words), error
    assert seconds < 15 and peak < 200 * 2**20
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT count(*) FROM letters").fetchone()[0] == 0
    assert not any(desk.out.iterdir())


def test_the_sandbox_itself_refuses_an_attribute_walk_at_render_time(tmp_path: Path) -> None:
    """Even a template that skipped `templates check` cannot reach Python internals."""
    import docx

    from dunning.letters.render import TemplateError, render_letter

    template = tmp_path / "walk.docx"
    document = docx.Document()
    document.add_paragraph("付款通知")
    document.add_paragraph("{{ cycler.__init__.__globals__ }}")
    document.save(str(template))
    with pytest.raises(TemplateError) as caught:
        render_letter(template, {})
    message = str(caught.value)
    assert message.startswith("walk.docx：访问了不安全的属性 '__init__'"), message
    assert "cycler.__init__.__globals__" in message  # the paragraph holding the tag


def test_templates_check_names_attribute_walks_and_huge_loops(
    desk: Desk, runner: CliRunner
) -> None:
    plant_tag(desk.templates / "reminder.docx", "{{ ''.__class__.__mro__ }}")
    plant_tag(desk.templates / "demand.docx", "{% for i in range(100000) %}{% endfor %}")
    result = runner.invoke(main, ["--desk", str(desk.root), "templates", "check"])
    assert result.exit_code == 1, result.output
    assert "reminder.docx" in result.output and "__class__" in result.output
    assert "demand.docx" in result.output and "range(100000)" in result.output


def test_rendering_holds_no_write_lock(desk: Desk, tmp_path: Path) -> None:
    """While letters render, another command can write (set-status used to hit 'locked')."""
    load(desk, tmp_path, [("C001", "甲公司"), ("C002", "乙公司")])
    wrote: list[bool] = []

    def meanwhile() -> None:
        with open_archive(desk.db_path) as other:
            other.conn.execute("PRAGMA busy_timeout = 200")
            set_status(other, "C002", "disputed", note="while the pack renders")
        wrote.append(True)

    with open_archive(desk.db_path) as db:
        plan = plan_pack(db, desk.config, allow_no_address=True, as_of=AS_OF)
        result = write_pack(desk, db, plan, progress=meanwhile)
    assert wrote == [True, True]
    # C002 became disputed before registration: planned again, it gets no letter.
    assert [letter.customer for letter in result.letters] == ["C001"]
    assert any("C002" in note for note in result.notes)
    assert [p.name for p in result.pack_dir.iterdir() if p.is_dir()] == ["C001 甲公司"]  # type: ignore[union-attr]


# -- concurrency, killed runs, PDFs all or nothing ---------------------------------------------

DUNNING = [sys.executable, "-c", "from dunning.cli import main; main()"]


def many_customers(desk: Desk, tmp_path: Path, count: int) -> None:
    load(desk, tmp_path, [(f"C{n:03d}", f"客户{n:03d}有限公司") for n in range(1, count + 1)])


def slow_down_rendering(desk: Desk) -> None:
    """A legal but slow template (about 50 ms a letter), so a run can be caught mid-way."""
    plant_tag(desk.templates / "statement.docx", "{% for i in range(9000) %}{% endfor %}")


def letters_in(desk: Desk) -> list[tuple[str, str]]:
    with open_archive(desk.db_path) as db:
        return db.execute("SELECT ref, customer_code FROM letters ORDER BY ref").fetchall()


@pytest.mark.slow  # seconds of real processes or big files
def test_two_packs_at_once_send_each_customer_one_letter(desk: Desk, tmp_path: Path) -> None:
    many_customers(desk, tmp_path, 12)
    slow_down_rendering(desk)
    args = [
        *DUNNING,
        "--desk",
        str(desk.root),
        "pack",
        "--allow-no-address",
        "--as-of",
        "2025-06-30",
        "--json",
    ]
    runs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    letters = letters_in(desk)
    assert sorted(code for _, code in letters) == [f"C{n:03d}" for n in range(1, 13)]
    assert len({ref for ref, _ in letters}) == 12
    sent = [json.loads(out)["letters"] for out, _ in outputs]
    print(
        "\nletters per run:",
        [len(s) for s in sent],
        [json.loads(out)["notes"][:1] for out, _ in outputs],
    )
    assert sum(len(s) for s in sent) == 12  # together, not each
    verified = subprocess.run(
        [*DUNNING, "--desk", str(desk.root), "verify"], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(p) for p in text.split()]
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow  # seconds of real processes or big files
def test_a_pack_killed_mid_way_is_reported_repaired_and_its_numbers_not_reused(
    desk: Desk, tmp_path: Path
) -> None:
    many_customers(desk, tmp_path, 60)  # 40 or more: rendered in worker processes
    slow_down_rendering(desk)
    args = [
        *DUNNING,
        "--desk",
        str(desk.root),
        "pack",
        "--allow-no-address",
        "--as-of",
        "2025-06-30",
    ]
    run = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(desk.out.glob("*/*/*.docx"))) < 6:
        time.sleep(0.02)
    workers = _children(run.pid)
    run.kill()
    run.wait()
    assert workers, "the pack rendered in worker processes"
    gone_by = time.monotonic() + 10
    while time.monotonic() < gone_by and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers), "workers outlived the killed pack"
    assert letters_in(desk) == []  # nothing registered half-way
    assert list(desk.out.glob("*/*/*.docx")), "the kill came after some letters were written"
    verified = subprocess.run(
        [*DUNNING, "--desk", str(desk.root), "verify"], capture_output=True, text=True
    )
    assert verified.returncode == 1 and "未登记的函件文件：" in verified.stdout, verified.stdout
    again = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert any("中断" in note for note in result["notes"]), result["notes"]
    assert "中断" in again.stderr
    refs = sorted(letter["ref"] for letter in result["letters"])
    assert len(refs) == 60 and refs[0] > "CS-2025-000060"  # the killed run's numbers are burnt
    verified = subprocess.run(
        [*DUNNING, "--desk", str(desk.root), "verify"], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout


@pytest.mark.slow  # seconds of real processes or big files
def test_a_full_disk_during_pack_is_one_sentence_and_leaves_nothing(
    desk: Desk, tmp_path: Path
) -> None:
    many_customers(desk, tmp_path, 3)
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))\n"
        "from dunning.cli import main\n"
        "main(['--desk', sys.argv[1], 'pack', '--as-of', '2025-06-30'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(desk.root)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("错误：")]
    assert "磁盘空间" in error, error
    assert letters_in(desk) == []
    assert not list(desk.out.rglob("*.docx"))
    verified = CliRunner().invoke(main, ["--desk", str(desk.root), "verify"])
    assert verified.exit_code == 0, verified.output


def test_verify_reports_a_registered_letter_whose_file_is_gone(desk: Desk, tmp_path: Path) -> None:
    many_customers(desk, tmp_path, 2)
    with open_archive(desk.db_path) as db:
        result = write_pack(
            desk, db, plan_pack(db, desk.config, allow_no_address=True, as_of=AS_OF)
        )
    assert result.pack_dir is not None
    gone = result.pack_dir / result.letters[0].files[0]
    gone.unlink()
    verified = CliRunner().invoke(main, ["--desk", str(desk.root), "verify"])
    assert verified.exit_code == 1
    assert f"函件 {result.letters[0].ref} 已登记，但此文件不见了" in verified.stdout


def test_pack_pdf_is_all_or_nothing_when_libreoffice_fails(
    desk: Desk, tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    many_customers(desk, tmp_path, 3)
    fake = tmp_path / "bin" / "soffice"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    result = runner.invoke(
        main,
        ["--desk", str(desk.root), "pack", "--allow-no-address", "--as-of", "2025-06-30", "--pdf"],
    )
    assert result.exit_code == 1, result.output
    assert "LibreOffice 无法转换" in result.stderr and "Traceback" not in result.output
    assert letters_in(desk) == []
    assert not any(desk.out.iterdir())
    again = runner.invoke(
        main,
        ["--desk", str(desk.root), "pack", "--allow-no-address", "--as-of", "2025-06-30", "--json"],
    )
    assert again.exit_code == 0, again.output
    refs = [letter["ref"] for letter in json.loads(again.stdout)["letters"]]
    assert refs == ["CS-2025-000004", "CS-2025-000005", "CS-2025-000006"]  # 1-3 were burnt


def test_a_child_started_by_dunning_dies_with_it() -> None:
    script = (
        "import subprocess, sys, time\n"
        "from dunning.procs import die_with_parent\n"
        "child = subprocess.Popen(['sleep', '60'], preexec_fn=die_with_parent)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.kill()
        parent.wait()
    gone_by = time.monotonic() + 5
    while time.monotonic() < gone_by and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def _libreoffice_of(pid: int) -> list[int]:
    """LibreOffice processes (launcher or soffice.bin) working for dunning process `pid`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if f"dunning-lo-{pid}-".encode() in cmdline and _alive(int(proc.name)):
            found.append(int(proc.name))
    return found


def test_libreoffice_dies_with_a_killed_pdf_pack(desk: Desk, tmp_path: Path) -> None:
    """Killed as soon as LibreOffice starts: nothing of it may run on (the launcher used to
    leave soffice.bin behind when its parent died before soffice.bin had started)."""
    from tooling import require_soffice

    require_soffice()
    many_customers(desk, tmp_path, 3)
    args = [
        *DUNNING,
        "--desk",
        str(desk.root),
        "pack",
        "--allow-no-address",
        "--as-of",
        "2025-06-30",
        "--pdf",
    ]
    run = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None and not _libreoffice_of(run.pid):
        time.sleep(0.01)
    run.kill()
    run.wait()
    time.sleep(2)  # time for a launcher to start soffice.bin, had it outlived its parent
    gone_by = time.monotonic() + 10
    while time.monotonic() < gone_by and _libreoffice_of(run.pid):
        time.sleep(0.05)
    assert not _libreoffice_of(run.pid), "LibreOffice outlived the killed pack"
    assert letters_in(desk) == []
    import tempfile

    from dunning.letters.pdf import remove_stale_work_folders

    leftovers = list(Path(tempfile.gettempdir()).glob(f"dunning-lo-{run.pid}-*"))
    remove_stale_work_folders()
    assert not any(p.exists() for p in leftovers)


def test_libreoffice_work_folders_of_killed_runs_are_removed() -> None:
    import tempfile

    from dunning.letters.pdf import WORK_PREFIX, remove_stale_work_folders

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{dead.pid}-"))
    mine = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))
    try:
        removed = remove_stale_work_folders()
        assert stale in removed and not stale.exists()
        assert mine.exists()
    finally:
        mine.rmdir()
