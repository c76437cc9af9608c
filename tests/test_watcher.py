"""The watched inbox: write completion, ignore rules, catch-up, robustness, CLI."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from watchdog.events import FileCreatedEvent

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.pipeline import Outcome, ingest_file
from dunning.ingest.quarantine import ERROR_SUFFIX
from dunning.watcher import (
    FileStabilityTracker,
    Watcher,
    WatchSettings,
    candidate_files,
    is_ignored_name,
)
from dunning.watcher import service as watcher_service

DELAY = 0.3  # stability delay in tests: short, but longer than the slow writer's pauses
HEADER = "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"


# -- helpers ---------------------------------------------------------------------------------


def ledger_text(tag: str, rows: int = 3) -> str:
    """A small UTF-8 ledger; `tag` makes its invoice numbers (and so the file) unique."""
    lines = [
        f"C{n % 3:03d},杭州{n % 3}号贸易有限公司,{tag}-{n:04d},2025-01-05,2025-02-04,{100 + n}.50\n"
        for n in range(rows)
    ]
    return HEADER + "".join(lines)


def write_ledger(path: Path, tag: str, rows: int = 3) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ledger_text(tag, rows), encoding="utf-8")
    return path


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.05)


def count(desk: Desk, table: str) -> int:
    db = open_archive(desk.db_path)
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        db.conn.close()


def inbox_files(desk: Desk) -> list[Path]:
    return sorted(p for p in desk.inbox.rglob("*") if p.is_file())


class Recorder:
    """Collects outcomes and notices from the watcher's callbacks (list.append is atomic)."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self.notices: list[str] = []

    def of(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]


@contextmanager
def running(
    desk: Desk,
    *,
    ingest: Callable[[Desk, Path], Outcome] | None = None,
    rescan: float = 60.0,
    polling: bool = False,
) -> Iterator[tuple[Watcher, Recorder]]:
    """A watcher in a thread, stopped (and checked to have stopped) on exit."""
    rec = Recorder()
    settings = WatchSettings(stability_delay_s=DELAY, rescan_interval_s=rescan, polling=polling)
    extra = {} if ingest is None else {"ingest": ingest}
    watcher = Watcher(
        desk, settings, on_outcome=rec.outcomes.append, on_notice=rec.notices.append, **extra
    )
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,))
    thread.start()
    try:
        wait_for(watcher.observer_alive, 10, "the observer to start")
        yield watcher, rec
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the watcher did not stop"


def fake_ingest(seen: list[tuple[str, bytes]]) -> Callable[[Desk, Path], Outcome]:
    """Records what it was given and removes it from the inbox, like the pipeline."""

    def ingest(desk: Desk, path: Path) -> Outcome:
        seen.append((path.name, path.read_bytes()))
        path.unlink()
        return Outcome(path, "archived", document=len(seen), kind="ledger", label=path.name)

    return ingest


# -- ignore rules and the scan ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "~$合同.docx",
        ".~lock.台账.xlsx#",
        "x.tmp",
        "X.TMP",
        "a.pdf.part",
        "b.xlsx.crdownload",
        ".hidden.csv",
        "Thumbs.db",
        "desktop.ini",
        "台账.csv.error.txt",
    ],
)
def test_litter_is_ignored(name: str) -> None:
    assert is_ignored_name(name)


@pytest.mark.parametrize("name", ["台账.csv", "HT-2025-0001.pdf", "scan.tmp.pdf", "lock.xlsx"])
def test_documents_are_not_ignored(name: str) -> None:
    assert not is_ignored_name(name)


def test_scan_walks_subfolders_and_skips_hidden_ones(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for rel in ["a.csv", "ledgers/b.csv", "batch/deep/c.pdf", ".git/d.csv", "batch/~$e.docx"]:
        (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
        (inbox / rel).write_bytes(b"x")
    found = {p.relative_to(inbox).as_posix() for p in candidate_files(inbox)}
    assert found == {"a.csv", "ledgers/b.csv", "batch/deep/c.pdf"}


# -- write completion ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_tracker_waits_for_the_delay_and_restarts_on_change(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker = FileStabilityTracker(2.0, clock=clock)
    path = tmp_path / "a.csv"
    path.write_bytes(b"part")
    tracker.track(path)
    clock.now = 1.9
    assert tracker.poll() == []
    with path.open("ab") as fh:
        fh.write(b" more")
    clock.now = 3.0
    assert tracker.poll() == []  # changed: the clock restarts at 3.0
    clock.now = 4.9
    assert tracker.poll() == []
    clock.now = 5.0
    assert tracker.poll() == [path]
    assert tracker.still_stable(path)


def test_tracker_drops_vanished_files_and_tracks_once(tmp_path: Path) -> None:
    clock = FakeClock()
    tracker = FileStabilityTracker(1.0, clock=clock)
    path = tmp_path / "a.csv"
    path.write_bytes(b"x")
    tracker.track(path)
    clock.now = 0.9
    tracker.track(path)  # a second hint must not restart the clock
    clock.now = 1.0
    assert tracker.poll() == [path]
    path.unlink()
    assert not tracker.still_stable(path)
    assert tracker.poll() == []
    assert len(tracker) == 0


@pytest.mark.slow  # seconds of real processes or big files
def test_slow_writer_is_taken_whole(desk: Desk) -> None:
    text = ledger_text("SLOW", rows=60).encode("utf-8")
    target = desk.inbox / "ledgers" / "slow.csv"
    with running(desk) as (_, rec):
        with target.open("wb") as fh:
            # ~3 s of writing in 30 chunks, each pause shorter than the stability delay.
            step = len(text) // 30 + 1
            for start in range(0, len(text), step):
                fh.write(text[start : start + step])
                fh.flush()
                time.sleep(0.1)
        wait_for(lambda: len(rec.outcomes) == 1, what="the slow file")
    assert rec.outcomes[0].status == "archived", rec.outcomes
    assert count(desk, "invoices") == 60
    db = open_archive(desk.db_path)
    (sha,) = db.execute("SELECT sha256 FROM documents").fetchone()
    db.conn.close()
    assert sha == hashlib.sha256(text).hexdigest()


def test_copy_then_rename_and_move_in(desk: Desk, tmp_path: Path) -> None:
    outside = write_ledger(tmp_path / "elsewhere" / "moved.csv", "MOVE")
    with running(desk) as (_, rec):
        part = write_ledger(desk.inbox / "ledgers" / "renamed.csv.part", "RENAME")
        time.sleep(DELAY * 3)  # the .part file must be left alone however long it sits
        assert rec.outcomes == []
        part.rename(part.with_name("renamed.csv"))
        outside.rename(desk.inbox / "moved.csv")
        wait_for(lambda: len(rec.outcomes) == 2, what="two files")
    assert {o.status for o in rec.outcomes} == {"archived"}
    assert count(desk, "documents") == 2
    assert inbox_files(desk) == []


def test_files_present_at_start_are_archived(desk: Desk) -> None:
    for n in range(5):
        write_ledger(desk.inbox / "ledgers" / f"start-{n}.csv", f"START{n}")
    write_ledger(desk.inbox / "auto.csv", "AUTO")  # classified by content
    with running(desk) as (_, rec):
        wait_for(lambda: len(rec.outcomes) == 6, what="six files")
    assert [o.status for o in rec.outcomes] == ["archived"] * 6
    assert count(desk, "documents") == 6
    assert inbox_files(desk) == []


def test_litter_stays_untouched(desk: Desk) -> None:
    litter = ["~$合同.docx", ".~lock.台账.xlsx#", "x.tmp", "a.pdf.part", "Thumbs.db", ".hidden"]
    with running(desk) as (_, rec):
        for name in litter:
            (desk.inbox / name).write_bytes(b"scratch")
        write_ledger(desk.inbox / "ledgers" / "real.csv", "REAL")
        wait_for(lambda: len(rec.outcomes) == 1, what="the real file")
        time.sleep(DELAY * 2)  # give the litter every chance to be (wrongly) taken
    assert len(rec.outcomes) == 1
    assert sorted(p.name for p in inbox_files(desk)) == sorted(litter)
    assert list(desk.failed.iterdir()) == []


def test_folder_dropped_whole(desk: Desk, tmp_path: Path) -> None:
    batch = tmp_path / "批次 2025-03"
    for n in range(4):
        write_ledger(batch / f"ledger-{n}.csv", f"BATCH{n}")
    write_ledger(batch / "sub" / "deeper.csv", "DEEP")
    with running(desk) as (_, rec):
        batch.rename(desk.inbox / batch.name)
        wait_for(lambda: len(rec.outcomes) == 5, what="the folder's five files")
    assert [o.status for o in rec.outcomes] == ["archived"] * 5
    assert inbox_files(desk) == []


# -- failures, duplicates, robustness --------------------------------------------------------


def test_bad_file_is_quarantined_and_the_watcher_goes_on(desk: Desk) -> None:
    with running(desk) as (_, rec):
        (desk.inbox / "ledgers" / "broken.csv").write_text("这不是台账\n1,2\n", encoding="utf-8")
        (desk.inbox / "empty.pdf").write_bytes(b"")
        wait_for(lambda: len(rec.outcomes) == 2, what="two failures")
        write_ledger(desk.inbox / "ledgers" / "good.csv", "GOOD")
        wait_for(lambda: len(rec.outcomes) == 3, what="the good file")
    assert [o.status for o in rec.outcomes] == ["failed", "failed", "archived"]
    assert all(o.reason for o in rec.of("failed"))
    failed = sorted(p.name for p in desk.failed.iterdir())
    assert failed == sorted(
        ["broken.csv", "broken.csv" + ERROR_SUFFIX, "empty.pdf", "empty.pdf" + ERROR_SUFFIX]
    )


def test_duplicate_is_reported_with_the_original(desk: Desk) -> None:
    text = ledger_text("DUP")
    with running(desk) as (_, rec):
        (desk.inbox / "ledgers" / "first.csv").write_text(text, encoding="utf-8")
        wait_for(lambda: len(rec.outcomes) == 1, what="the first copy")
        (desk.inbox / "ledgers" / "second.csv").write_text(text, encoding="utf-8")
        wait_for(lambda: len(rec.outcomes) == 2, what="the second copy")
    first, second = rec.outcomes
    assert first.status == "archived"
    assert second.status == "duplicate"
    assert second.document == first.document
    assert count(desk, "documents") == 1
    assert inbox_files(desk) == []


def test_a_file_left_by_a_crash_after_commit_is_finished_not_duplicated(desk: Desk) -> None:
    path = write_ledger(desk.inbox / "ledgers" / "crash.csv", "CRASH")
    data = path.read_bytes()
    assert ingest_file(desk, path).status == "archived"
    path.write_bytes(data)  # as if the process died between the commit and the unlink
    with running(desk) as (_, rec):
        wait_for(lambda: len(rec.outcomes) == 1, what="the leftover file")
    assert rec.outcomes[0].status == "archived"
    assert count(desk, "documents") == 1
    assert inbox_files(desk) == []
    assert list(desk.failed.iterdir()) == []


def test_an_exploding_file_does_not_stop_the_watcher(desk: Desk) -> None:
    seen: list[tuple[str, bytes]] = []
    recorder = fake_ingest(seen)

    def ingest(d: Desk, path: Path) -> Outcome:
        if path.name == "bomb.csv":
            raise RuntimeError("pipeline bug")
        return recorder(d, path)

    # A short rescan interval brings the bomb back until it is quarantined.
    with running(desk, ingest=ingest, rescan=0.2) as (_, rec):
        (desk.inbox / "bomb.csv").write_text("x", encoding="utf-8")
        wait_for(lambda: (desk.failed / "bomb.csv").exists(), what="the bomb in failed/")
        (desk.inbox / "after.csv").write_text("y", encoding="utf-8")
        wait_for(lambda: [name for name, _ in seen] == ["after.csv"], what="the next file")
    bombs = [o for o in rec.outcomes if o.file.name == "bomb.csv"]
    assert len(bombs) == WatchSettings().max_attempts
    assert "pipeline bug" in (desk.failed / ("bomb.csv" + ERROR_SUFFIX)).read_text("utf-8")


def test_event_handler_never_raises() -> None:
    def hint(path: Path) -> None:
        raise RuntimeError("boom")

    # Logged, not raised: an exception here would kill the observer thread.
    watcher_service._InboxEvents(hint).dispatch(FileCreatedEvent("/tmp/x.csv"))


def test_dead_observer_is_restarted(desk: Desk) -> None:
    seen: list[tuple[str, bytes]] = []
    with running(desk, ingest=fake_ingest(seen)) as (watcher, rec):
        first = watcher.observer
        assert first is not None
        first.stop()  # as if a handler had raised: the thread ends silently
        wait_for(lambda: watcher.observer is not first and watcher.observer_alive(), 10)
        # The rescan interval is 60 s: only a live observer can see this file in time.
        (desk.inbox / "after-restart.csv").write_text("z", encoding="utf-8")
        wait_for(lambda: len(seen) == 1, what="the file after the restart")
    assert any("正在重新启动" in n for n in rec.notices)


def test_inotify_failure_falls_back_to_polling(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    class Exhausted(watcher_service.Observer):  # type: ignore[misc, valid-type]
        def start(self) -> None:
            raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(watcher_service, "Observer", Exhausted)
    seen: list[tuple[str, bytes]] = []
    with running(desk, ingest=fake_ingest(seen)) as (watcher, rec):
        assert watcher.observer_kind == "polling"
        (desk.inbox / "polled.csv").write_text("p", encoding="utf-8")
        wait_for(lambda: len(seen) == 1, what="the polled file")
    assert any("inotify watch limit" in n for n in rec.notices)


def test_stop_finishes_the_current_file(desk: Desk) -> None:
    started, release = threading.Event(), threading.Event()
    seen: list[tuple[str, bytes]] = []
    recorder = fake_ingest(seen)

    def slow_ingest(d: Desk, path: Path) -> Outcome:
        started.set()
        release.wait(10)
        return recorder(d, path)

    rec = Recorder()
    watcher = Watcher(
        desk,
        WatchSettings(stability_delay_s=DELAY),
        ingest=slow_ingest,
        on_outcome=rec.outcomes.append,
    )
    for n in range(3):
        (desk.inbox / f"f{n}.csv").write_text(str(n), encoding="utf-8")
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,))
    thread.start()
    assert started.wait(10)
    stop.set()
    release.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(seen) == 1 and len(rec.outcomes) == 1  # the one in hand, and no more
    assert len(inbox_files(desk)) == 2


# -- the command line ------------------------------------------------------------------------


def test_watch_once(runner: CliRunner, desk: Desk) -> None:
    for n in range(3):
        write_ledger(desk.inbox / "ledgers" / f"once-{n}.csv", f"ONCE{n}")
    (desk.inbox / "x.tmp").write_bytes(b"scratch")
    result = runner.invoke(main, ["--desk", str(desk.root), "watch", "--once", "--delay", "0.2"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("已归档 ") == 3
    assert [p.name for p in inbox_files(desk)] == ["x.tmp"]
    assert count(desk, "documents") == 3


def test_watch_once_json_lines(runner: CliRunner, desk: Desk) -> None:
    write_ledger(desk.inbox / "ledgers" / "good.csv", "JSON")
    (desk.inbox / "ledgers" / "bad.csv").write_text("nonsense\n", encoding="utf-8")
    args = ["--desk", str(desk.root), "watch", "--once", "--delay", "0.1", "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 1  # like `dunning ingest`: something failed
    records = [json.loads(line) for line in result.stdout.splitlines()]
    by_status = {r["status"]: r for r in records}
    assert set(by_status) == {"archived", "failed"}
    assert by_status["archived"]["document"] == 1
    assert by_status["failed"]["reason"]


def test_failed_list_and_retry(runner: CliRunner, desk: Desk) -> None:
    bad = desk.inbox / "ledgers" / "台账.csv"
    bad.write_text("nonsense\n", encoding="utf-8")
    base = ["--desk", str(desk.root)]
    runner.invoke(main, [*base, "watch", "--once", "--delay", "0"])
    listed = runner.invoke(main, [*base, "failed", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    (entry,) = json.loads(listed.stdout)
    assert entry["name"] == "台账.csv" and entry["reason"]
    assert "台账.csv" in runner.invoke(main, [*base, "failed", "list"]).stdout

    retried = runner.invoke(main, [*base, "failed", "retry", "台账.csv"])
    assert retried.exit_code == 0, retried.output
    assert bad.exists()  # back in inbox/ledgers/, where it came from
    assert not any(desk.failed.iterdir())
    missing = runner.invoke(main, [*base, "failed", "retry", "nope.csv"])
    assert missing.exit_code == 1
    assert "nope.csv" in missing.stderr


def test_watch_commands_have_examples(runner: CliRunner) -> None:
    for args in (["watch"], ["failed"], ["failed", "list"], ["failed", "retry"]):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.stdout
