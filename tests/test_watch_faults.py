"""The real `dunning watch` process, killed at random points and raced by other commands.

Every file dropped must end archived exactly once (or in failed/ when it is meant to fail),
whatever moment the process dies at.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pdf_factory import make_image_png, make_text_pdf

from dunning.archive.db import open_archive
from dunning.desk import Desk, init_desk
from dunning.ingest.quarantine import ERROR_SUFFIX

pytestmark = pytest.mark.slow

HEADER = "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
LITTER = ("~$合同.docx", "x.tmp", ".~lock.台账.xlsx#")
KILLS = int(os.environ.get("DUNNING_FAULT_KILLS", "8"))
SEED = int(os.environ.get("DUNNING_FAULT_SEED", "20250301"))


def dunning(*args: str) -> list[str]:
    """The installed `dunning` script beside this interpreter, else the same entry point."""
    script = Path(sys.executable).with_name("dunning")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from dunning.cli import main; main()", *args]


class Dropper:
    """Drops unique small files the way a clerk's copy would land: write aside, rename in.

    With `mixed`, every fifth file is a contract PDF and every eleventh a scanned image (each
    made unique by bytes after its end marker, which readers ignore); the rest are ledgers.
    """

    def __init__(self, desk: Desk, staging: Path, *, mixed: bool = False) -> None:
        self.desk = desk
        self.staging = staging
        staging.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, str] = {}  # sha256 -> tag
        self.invoices = 0
        self.n = 0
        self.templates: dict[str, bytes] = {}
        if mixed:
            pdf = make_text_pdf(staging / "template.pdf", ["技术开发合同\n合同编号：HT-2025-0001"])
            png = make_image_png(staging / "template.png", "签收回执")
            self.templates = {".pdf": pdf.read_bytes(), ".png": png.read_bytes()}

    def _content(self, tag: str, rows: int) -> tuple[str, bytes]:
        if self.templates and self.n % 11 == 0:
            return ".png", self.templates[".png"] + tag.encode()
        if self.templates and self.n % 5 == 0:
            return ".pdf", self.templates[".pdf"] + f"\n%{tag}\n".encode()
        text = HEADER + "".join(
            f"C{i % 4:03d},客户{i % 4},{tag}-{i},2025-01-05,2025-02-04,{self.n}.{i:02d}\n"
            for i in range(rows)
        )
        self.invoices += rows
        return ".csv", text.encode("utf-8")

    def drop(self, *, folder: str = "ledgers", rows: int = 2) -> None:
        self.n += 1
        tag = f"K{self.n:05d}"
        suffix, data = self._content(tag, rows)
        if suffix != ".csv" and folder == "ledgers":
            folder = "contracts"
        aside = self.staging / f"{tag}{suffix}"
        aside.write_bytes(data)
        target = self.desk.inbox / folder / f"{tag}{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        aside.rename(target)
        self.files[hashlib.sha256(data).hexdigest()] = tag


def start_watch(desk: Desk, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            dunning(
                "--desk", str(desk.root), "watch", "--delay", "0.1", "--interval", "0.5", *extra
            ),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def archived_shas(desk: Desk) -> list[str]:
    db = open_archive(desk.db_path)
    try:
        return [row[0] for row in db.execute("SELECT sha256 FROM documents")]
    finally:
        db.conn.close()


def test_sigkill_at_random_points_archives_everything_once(tmp_path: Path) -> None:
    rng = random.Random(SEED)  # seeded: a failure replays the same kill points
    desk = init_desk(tmp_path / "desk")
    dropper = Dropper(desk, tmp_path / "staging", mixed=True)
    for n in range(240):
        dropper.drop(folder=("ledgers", "", "batch-a")[n % 3])
    bad = ["bad-1.csv", "bad-2.csv"]
    for name in bad:
        (desk.inbox / "ledgers" / name).write_text("这不是台账\n", encoding="utf-8")
    for name in LITTER:
        (desk.inbox / name).write_bytes(b"scratch")

    log = tmp_path / "watch.log"
    archived_at_kill = []
    for _ in range(KILLS):
        proc = start_watch(desk, log)
        deadline = time.monotonic() + rng.uniform(0.4, 2.5)
        while time.monotonic() < deadline:  # keep dropping while it works
            dropper.drop(folder=rng.choice(["ledgers", "", "batch-b"]))
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        archived_at_kill.append(len(archived_shas(desk)))

    drained = subprocess.run(
        dunning("--desk", str(desk.root), "watch", "--once", "--delay", "0.1"),
        capture_output=True,
        timeout=120,
    )
    stderr = log.read_text("utf-8", errors="replace") + drained.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr
    _check_everything_once(desk, dropper, bad)
    print(
        f"\nfault injection: {KILLS} SIGKILLs, {len(dropper.files)} good files + {len(bad)} bad;"
        f" archived when killed: {archived_at_kill};"
        f" finished after a kill: {stderr.count('（已归档）')}"
    )


def _check_everything_once(desk: Desk, dropper: Dropper, bad: list[str]) -> None:
    shas = archived_shas(desk)
    assert len(shas) == len(set(shas)), "a file was archived twice"
    assert set(shas) == set(dropper.files), "archived documents differ from the files dropped"
    db = open_archive(desk.db_path)
    try:
        invoices = db.execute("SELECT count(*) FROM invoices").fetchone()[0]
    finally:
        db.conn.close()
    assert invoices == dropper.invoices
    left = sorted(p.name for p in desk.inbox.rglob("*") if p.is_file())
    assert left == sorted(LITTER)
    failed = sorted(p.name for p in desk.failed.iterdir() if not p.name.endswith(ERROR_SUFFIX))
    assert failed == sorted(bad)
    _check_store(desk)


def _check_store(desk: Desk) -> None:
    """`dunning verify`, and the store against the documents table."""
    result = subprocess.run(
        dunning("--desk", str(desk.root), "verify"), capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    db = open_archive(desk.db_path)
    try:
        rows = list(db.execute("SELECT sha256, stored_path FROM documents"))
    finally:
        db.conn.close()
    stored = set()
    for sha, stored_path in rows:
        path = Path(stored_path)
        path = path if path.is_absolute() else desk.store / path
        if not path.exists():
            path = desk.root / stored_path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
        stored.add(path.resolve())
    in_store = {
        p.resolve() for p in desk.store.rglob("*") if p.is_file() and not p.name.startswith(".")
    }
    assert in_store == stored, "the store holds files no document points to"


def test_watcher_and_other_commands_share_the_database(tmp_path: Path) -> None:
    """Searches, aging and imports from another process while the watcher ingests."""
    desk = init_desk(tmp_path / "desk")
    dropper = Dropper(desk, tmp_path / "staging")
    for _ in range(150):
        dropper.drop()
    log = tmp_path / "watch.log"
    proc = start_watch(desk, log)
    base = ("--desk", str(desk.root))
    others = [
        dunning(*base, name, *args)
        for name, args in (("aging", ["--json"]), ("search", ["客户"]), ("customers", []))
    ]
    errors: list[str] = []
    try:
        for n in range(6):
            side = tmp_path / f"side-{n}.csv"
            side.write_text(
                HEADER + f"C009,旁路客户,SIDE-{n},2025-01-05,2025-02-04,10.00\n", "utf-8"
            )
            for cmd in [dunning(*base, "ingest", str(side)), *others]:
                result = subprocess.run(cmd, capture_output=True, timeout=60)
                if result.returncode != 0 or b"locked" in result.stderr:
                    errors.append(f"{cmd[-2:]}: {result.stderr.decode('utf-8', 'replace')}")
        assert wait_until(lambda: len(archived_shas(desk)) >= len(dropper.files) + 6, 60)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    watch_log = log.read_text("utf-8", errors="replace")
    assert code == 0, watch_log
    assert errors == []
    assert "locked" not in watch_log and "Traceback" not in watch_log
    assert "失败 " not in watch_log


def test_sigterm_finishes_and_exits_zero(tmp_path: Path) -> None:
    desk = init_desk(tmp_path / "desk")
    dropper = Dropper(desk, tmp_path / "staging")
    for _ in range(60):
        dropper.drop()
    log = tmp_path / "watch.log"
    proc = start_watch(desk, log)
    assert wait_until(lambda: len(archived_shas(desk)) > 0, 30)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert "SIGTERM" in log.read_text("utf-8")
    # Whatever was not reached stays in the inbox for the next run; nothing is half-done.
    left = [p for p in desk.inbox.rglob("*") if p.is_file()]
    assert len(archived_shas(desk)) + len(left) == len(dropper.files)
    assert os.listdir(desk.failed) == []
