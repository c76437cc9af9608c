"""The desk survives its own loss (issue 20): a missing or damaged archive, file modes, a moved
desk, backup and restore (killed mid-way too), and a backup taken while the web desk uploads."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.demo import build_demo
from dunning.desk import Desk, init_desk
from dunning.workflow.backup import backup_desk, restore_desk

REFUSAL = "restore the last backup with `dunning restore BACKUP`"


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    return build_demo(tmp_path_factory.mktemp("master") / "desk").desk


@pytest.fixture
def demo(demo_master: Desk, tmp_path: Path) -> Desk:
    root = tmp_path / "desk"
    shutil.copytree(demo_master.root, root)
    return Desk(root)


def run(runner: CliRunner, desk: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["--desk", str(desk), *args])
    return result.exit_code, result.stdout, result.stderr


def one_sentence(err: str) -> str:
    assert err.startswith("错误：") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


# -- 1. a deleted archive.db is no longer silently recreated empty ---------------------------------


@pytest.mark.parametrize("command", [["aging"], ["verify"], ["customers"], ["pack", "--dry-run"]])
def test_a_deleted_archive_is_refused_not_recreated(
    demo: Desk, runner: CliRunner, command: list[str]
) -> None:
    demo.db_path.unlink()
    code, out, err = run(runner, demo.root, *command)
    assert (code, out) == (1, "")
    one_sentence(err)
    assert f"{demo.db_path} is missing" in err and REFUSAL in err
    assert not demo.db_path.exists()  # nothing was created in its place


def test_a_new_desk_still_starts_empty(desk: Desk, runner: CliRunner) -> None:
    desk.db_path.unlink()  # no store, no letters: nothing to lose
    code, _, _ = run(runner, desk.root, "aging")
    assert code == 0 and desk.db_path.exists()


# -- 2. a truncated or zeroed archive: one sentence, never a traceback ----------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _zero(path: Path) -> None:
    path.write_bytes(bytes(path.stat().st_size))


def _zero_middle(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.seek(8 * 4096)
        fh.write(bytes(20 * 4096))


@pytest.mark.parametrize("damage", [_truncate, _zero, _zero_middle])
@pytest.mark.parametrize("command", ["aging", "verify"])
def test_a_damaged_archive_is_one_sentence(
    demo: Desk, runner: CliRunner, damage: object, command: str
) -> None:
    assert callable(damage)
    damage(demo.db_path)
    code, _, err = run(runner, demo.root, command)
    assert code == 1
    one_sentence(err)
    assert f"{demo.db_path} is damaged" in err and REFUSAL in err


# -- 3. archive.db, -wal, -shm and the secret are the owner's only --------------------------------


def test_the_archive_and_its_wal_files_are_created_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        desk = init_desk(tmp_path / "desk")
        with open_archive(desk.db_path) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO audit_log (at, user, action, detail) VALUES ('t','u','a','d')")
            db.execute("COMMIT")
            for name in ("archive.db", "archive.db-wal", "archive.db-shm"):
                mode = stat.S_IMODE((desk.root / name).stat().st_mode)
                assert mode == 0o600, (name, oct(mode))
    finally:
        os.umask(old)


def test_verify_reports_an_archive_others_can_read(desk: Desk, runner: CliRunner) -> None:
    assert run(runner, desk.root, "verify")[0] == 0
    desk.db_path.chmod(0o644)
    code, out, _ = run(runner, desk.root, "verify", "--json")
    assert code == 1
    problems = json.loads(out)["problems"]
    # SQLite gives -wal and -shm the database's mode: they are exposed with it.
    assert {(p["kind"], p["path"]) for p in problems} <= {
        ("exposed", n) for n in ("archive.db", "archive.db-wal", "archive.db-shm")
    }
    assert problems[0]["path"] == "archive.db"
    assert "chmod 600" in problems[0]["detail"]


# -- 4. a moved desk verifies clean (letters stored relative to the desk) ---------------------------


def test_a_moved_desk_verifies_clean(demo: Desk, runner: CliRunner, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "desk"
    moved.parent.mkdir()
    shutil.move(demo.root, moved)
    code, out, err = run(runner, moved, "verify", "--json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["ok"] and report["documents"] == 8


def test_absolute_letter_paths_of_an_old_desk_are_made_relative(
    demo: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    # As an archive from before the migration held them: absolute, then the desk moved.
    with open_archive(demo.db_path) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE letters SET pack_dir = '/old/place/desk/' || pack_dir")
        db.execute("UPDATE pack_runs SET pack_dir = '/old/place/desk/' || pack_dir")
        db.execute("DELETE FROM _migrations WHERE name = 'm019_relative_paths'")
        db.execute("COMMIT")
    moved = tmp_path / "moved"
    shutil.move(demo.root, moved)
    code, out, _ = run(runner, moved, "verify", "--json")
    assert code == 0 and json.loads(out)["ok"], out
    with open_archive(moved / "archive.db") as db:
        dirs = {r[0] for r in db.execute("SELECT pack_dir FROM letters")}
    assert dirs and all(d.startswith("out/") for d in dirs)


# -- backup and restore --------------------------------------------------------------------------


def _state(runner: CliRunner, root: Path) -> dict[str, object]:
    """What a clerk would compare: balances, letters, the log, the accounts."""
    out: dict[str, object] = {}
    for name, args in {
        "aging": ["aging", "--json"],
        "customer": ["customer", "C004", "--json"],
        "log": ["log", "list", "--json"],
        "users": ["user", "list", "--json"],
    }.items():
        code, text, err = run(runner, root, *args)
        assert code == 0, err
        out[name] = json.loads(text)
    with open_archive(root / "archive.db") as db:
        out["letters"] = db.execute(
            "SELECT ref, customer_code, pack_dir, files, status FROM letters ORDER BY ref"
        ).fetchall()
    return out


def test_backup_then_restore_elsewhere_verifies_clean_with_equal_balances(
    demo: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    assert (
        run(runner, demo.root, "log", "add", "C001", "--kind", "call", "--note", "备份前")[0] == 0
    )
    runner.invoke(main, ["--desk", str(demo.root), "user", "add", "mona", "--role", "manager"],
                  input="manager-pass-333\n")  # fmt: skip
    dest = tmp_path / "backup"
    code, out, err = run(runner, demo.root, "backup", str(dest), "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["documents"] == 8 and first["store_copied"] == 8 and first["out_copied"] > 0
    # Incremental: a second run copies no stored file again.
    second = json.loads(run(runner, demo.root, "backup", str(dest), "--json")[1])
    assert (second["store_copied"], second["store_kept"], second["out_copied"]) == (0, 8, 0)
    assert second["snapshot"] != first["snapshot"]

    target = tmp_path / "restored"
    code, out, err = run(runner, target, "restore", str(dest), "--json")
    assert code == 0, out + err
    restored = json.loads(out)
    assert restored["verify"]["ok"] and restored["documents"] == 8
    shutil.rmtree(demo.root)  # the original is gone: the restored desk stands on its own
    assert run(runner, target, "verify")[0] == 0
    assert stat.S_IMODE((target / "archive.db").stat().st_mode) == 0o600


def test_restore_answers_the_same_as_the_original(
    demo: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    before = _state(runner, demo.root)
    backup_desk(demo, tmp_path / "b")
    restore_desk(tmp_path / "b", tmp_path / "r")
    assert _state(runner, tmp_path / "r") == before


def test_restore_into_a_damaged_desk_sets_the_damaged_archive_aside(
    demo: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    before = _state(runner, demo.root)
    backup_desk(demo, tmp_path / "b")
    _zero(demo.db_path)
    assert run(runner, demo.root, "aging")[0] == 1
    code, out, err = run(runner, demo.root, "restore", str(tmp_path / "b"))
    assert code == 0, out + err
    assert "损坏的数据库已保留为 archive.db.damaged-" in out
    assert _state(runner, demo.root) == before
    # A working archive is never overwritten.
    code, _, err = run(runner, demo.root, "restore", str(tmp_path / "b"))
    assert code == 1 and "是一个正常使用中的数据库" in one_sentence(err)


def test_a_backup_inside_the_desk_is_refused(demo: Desk, runner: CliRunner) -> None:
    code, _, err = run(runner, demo.root, "backup", str(demo.root / "bk"))
    assert code == 1 and "工作台丢失时这份备份会一起丢失" in one_sentence(err)


def test_a_damaged_snapshot_is_refused_by_its_hash(demo: Desk, tmp_path: Path) -> None:
    result = backup_desk(demo, tmp_path / "b")
    snap = tmp_path / "b" / "snapshots" / result.snapshot / "archive.db"
    snap.chmod(0o600)
    with snap.open("r+b") as fh:
        fh.seek(5000)
        fh.write(b"\xff" * 16)
    code, _, err = run(CliRunner(), tmp_path / "r", "restore", str(tmp_path / "b"))
    assert code == 1 and "与备份时记录的校验值不符" in one_sentence(err)
    assert not (tmp_path / "r" / "archive.db").exists()


def _dunning(*args: str) -> list[str]:
    return [sys.executable, "-c", "from dunning.cli import main; main()", *args]


def test_backup_killed_at_any_moment_leaves_the_last_backup_whole(
    demo: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    dest = tmp_path / "b"
    backup_desk(demo, dest)
    # Make the next backup long enough to be caught mid-way: more letters to copy.
    for n in range(300):
        (demo.out / "extra").mkdir(exist_ok=True)
        (demo.out / "extra" / f"{n}.bin").write_bytes(os.urandom(64 * 1024))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed_mid_way = 0
    for delay in (0.3, 0.6, 0.9, 1.2):
        shutil.rmtree(dest / "out" / "extra", ignore_errors=True)
        proc = subprocess.Popen(
            _dunning("--desk", str(demo.root), "backup", str(dest)), env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_mid_way += proc.returncode == -signal.SIGKILL
        latest = (dest / "LATEST").read_text().strip()
        # LATEST always names a complete snapshot, and that snapshot restores.
        assert (dest / "snapshots" / latest / "manifest.json").is_file()
    assert killed_mid_way, "the backup always finished before the kill: make it slower"
    again = backup_desk(demo, dest)  # the next run clears what the kill left
    assert not list((dest / "snapshots").glob(".partial-*"))
    assert again.snapshot == (dest / "LATEST").read_text().strip()
    shutil.rmtree(demo.out / "extra")
    restored = restore_desk(dest, tmp_path / "r")
    assert restored.verify is not None and restored.verify.ok, restored.verify.to_json()


# -- init --rebuild ------------------------------------------------------------------------------


def test_init_rebuild_re_ingests_the_store_and_names_what_is_lost(
    demo: Desk, runner: CliRunner
) -> None:
    balances = run(runner, demo.root, "aging", "--json")[1]
    _zero(demo.db_path)
    code, out, err = run(runner, demo.root, "init", "--rebuild", str(demo.root), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert len(result["archived"]) == 8 and result["failed"] == []
    assert result["set_aside"].startswith("archive.db.damaged-")
    assert "催收记录（电话、上门、承诺付款）" in result["not_rebuilt"]
    assert result["letters_moved"] > 0  # the old letters are kept, out of verify's way
    assert (Path(result["kept_in"]) / "out").is_dir()
    assert run(runner, demo.root, "aging", "--json")[1] == balances
    code, out, _ = run(runner, demo.root, "verify", "--json")
    assert code == 0 and json.loads(out)["documents"] == 8


def test_init_rebuild_never_replaces_a_working_archive(demo: Desk, runner: CliRunner) -> None:
    code, _, err = run(runner, demo.root, "init", "--rebuild", str(demo.root))
    assert code == 1 and "是一个正常使用中的数据库" in one_sentence(err)


# -- the round trip: backup while the web desk takes uploads and log entries ------------------------


def test_backup_while_serve_uploads_then_restore_elsewhere(
    demo: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    import re
    import threading

    from starlette.testclient import TestClient

    from dunning.web.app import create_app

    runner.invoke(main, ["--desk", str(demo.root), "user", "add", "mona", "--role", "manager"],
                  input="manager-pass-333\n")  # fmt: skip
    web = TestClient(create_app(demo, watching=False, loopback_only=True),
                     base_url="http://127.0.0.1", client=("127.0.0.1", 50000))  # fmt: skip
    page = web.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    web.post("/login", data={"csrf": token.group(1), "name": "mona",
                             "password": "manager-pass-333"})  # fmt: skip
    found = re.search(r'name="csrf-token" content="([^"]+)"', web.get("/").text)
    assert found
    csrf = found.group(1)
    stop = threading.Event()
    written: list[int] = []

    def clerk_at_work() -> None:
        n = 0
        while not stop.is_set() and n < 40:
            n += 1
            entry = {"customer": "C001", "kind": "call", "note": f"第{n}次电话"}
            assert (
                web.post("/api/log", json=entry, headers={"X-CSRF-Token": csrf}).status_code == 200
            )
            ledger = (
                "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
                f"U{n:03d},上传公司{n},FPU{n:03d},2025-01-01,2025-02-01,{n}00\n"
            )
            files = {"files": (f"上传{n}.csv", ledger.encode(), "text/csv")}
            web.post("/inbox/upload", files=files, data={"csrf": csrf})
            written.append(n)

    worker = threading.Thread(target=clerk_at_work)
    worker.start()
    try:
        during = [backup_desk(demo, tmp_path / "during") for _ in range(3)]
    finally:
        stop.set()
        worker.join(timeout=120)
    assert written and during
    # Each snapshot taken mid-way is consistent on its own: it restores and verifies clean.
    mid = restore_desk(tmp_path / "during", tmp_path / "mid")
    assert mid.verify is not None and mid.verify.ok, mid.verify.to_json()

    def uploads_settled() -> bool:
        with open_archive(demo.db_path) as db:
            n = db.execute("SELECT count(*) FROM documents WHERE original_name LIKE '上传%'")
            return n.fetchone()[0] == len(written)

    deadline = time.monotonic() + 60
    while not uploads_settled():
        assert time.monotonic() < deadline, "the uploads were not ingested"
        time.sleep(0.1)
    before = _state(runner, demo.root)
    backup_desk(demo, tmp_path / "after")
    restore_desk(tmp_path / "after", tmp_path / "elsewhere")
    after = _state(runner, tmp_path / "elsewhere")
    assert after == before
    log = before["log"]
    assert isinstance(log, list) and sum(e["by"] == "mona" for e in log) == len(written)
    assert [u["name"] for u in before["users"]] == ["mona"]  # type: ignore[union-attr]


# -- adversarial: what a clerk may type -----------------------------------------------------------


def test_backup_onto_a_file_is_one_sentence(demo: Desk, runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "not-a-folder"
    target.write_text("x", encoding="utf-8")
    code, _, err = run(runner, demo.root, "backup", str(target / "sub"))
    assert code == 1 and "那里上一次完整的备份没有改变" in one_sentence(err)


def test_restore_from_a_folder_that_is_no_backup(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "random").mkdir()
    code, _, err = run(runner, tmp_path / "r", "restore", str(tmp_path / "random"))
    assert code == 1 and "不是 dunning 的备份" in one_sentence(err)
    assert not (tmp_path / "r" / "archive.db").exists()


def test_restore_an_older_snapshot_by_its_folder(
    demo: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    first = backup_desk(demo, tmp_path / "b")
    before = _state(runner, demo.root)
    assert run(runner, demo.root, "log", "add", "C001", "--kind", "call", "--note", "之后")[0] == 0
    backup_desk(demo, tmp_path / "b")
    snapshot = tmp_path / "b" / "snapshots" / first.snapshot
    code, out, err = run(runner, tmp_path / "r", "restore", str(snapshot))
    assert code == 0, out + err
    assert _state(runner, tmp_path / "r") == before  # the later log entry is not in it


def test_an_archive_that_is_a_folder_is_one_sentence(desk: Desk, runner: CliRunner) -> None:
    desk.db_path.unlink()
    desk.db_path.mkdir()
    code, _, err = run(runner, desk.root, "aging")
    assert code == 1
    one_sentence(err)


def test_originals_archived_after_the_backup_go_back_to_the_inbox(
    demo: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    backup_desk(demo, tmp_path / "b")
    later = tmp_path / "later.csv"
    later.write_text(
        "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
        "L001,后来公司,FPL001,2025-01-01,2025-02-01,777\n",
        encoding="utf-8",
    )
    assert run(runner, demo.root, "ingest", str(later))[0] == 0
    _zero(demo.db_path)
    code, out, err = run(runner, demo.root, "restore", str(tmp_path / "b"), "--json")
    assert code == 0, out + err
    result = json.loads(out)
    assert len(result["requeued"]) == 1 and result["verify"]["ok"]
    assert run(runner, demo.root, "ingest", str(demo.inbox))[0] == 0
    aging = json.loads(run(runner, demo.root, "aging", "--json")[1])
    assert {a["customer"]: a["balance"] for a in aging}["L001"] == "777.00"
    assert run(runner, demo.root, "verify")[0] == 0


def test_a_backup_folder_holding_the_desk_is_refused(demo: Desk, runner: CliRunner) -> None:
    code, _, err = run(runner, demo.root, "backup", str(demo.root.parent))
    assert code == 1 and "包含了工作台" in one_sentence(err)


def test_a_latest_pointing_outside_the_backup_is_refused(
    demo: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    backup_desk(demo, tmp_path / "b")
    elsewhere = backup_desk(demo, tmp_path / "other")
    (tmp_path / "b" / "LATEST").write_text(
        f"../../other/snapshots/{elsewhere.snapshot}\n", encoding="utf-8"
    )
    code, _, err = run(runner, tmp_path / "r", "restore", str(tmp_path / "b"))
    assert code == 1 and "指向的快照不完整或已不存在" in one_sentence(err)


def test_a_new_desk_keeps_its_originals_and_letters_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        desk = init_desk(tmp_path / "desk")
    finally:
        os.umask(old)
    for folder in (desk.store, desk.out, desk.failed):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
