"""The watched inbox: every file dropped in is archived once, whatever else happens.

Three threads, each with one job:
- the observer (watchdog) turns filesystem events into *hints*: paths worth a look;
- the worker drains hints into a `FileStabilityTracker` and, one file at a time, hands files
  that have gone quiet to the ingest pipeline;
- the caller's thread supervises: it rescans the inbox now and then (events get lost) and
  restarts the observer if it died.
Events are only ever hints, so a lost event costs a rescan interval, never a file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from dunning.config import Config
from dunning.desk import Desk
from dunning.ingest.pipeline import Outcome, Pipeline, parse_pool
from dunning.ingest.quarantine import quarantine
from dunning.watcher.inbox import candidate_files, is_ignored
from dunning.watcher.ocr_drain import BackgroundOcr
from dunning.watcher.stability import FileStabilityTracker
from dunning.workers import WorkerPool

log = logging.getLogger(__name__)

Ingest = Callable[[Desk, Path], Outcome]
OutcomeCallback = Callable[[Outcome], None]
NoticeCallback = Callable[[str], None]

# Events that may mean "a file is here or has changed"; deletions and opens mean nothing to us.
_HINT_EVENTS = frozenset({"created", "modified", "moved", "closed", "attrib"})


@dataclass(frozen=True)
class WatchSettings:
    stability_delay_s: float = 2.0  # unchanged size and mtime for this long = written
    rescan_interval_s: float = 60.0  # catch-up scan for events the observer lost
    polling: bool = False  # PollingObserver: for SMB/NFS and mounts inotify cannot see
    polling_timeout_s: float = 1.0  # how often the PollingObserver walks the inbox
    supervise_s: float = 1.0  # how often the observer's health is checked
    max_attempts: int = 3  # unexpected errors on one file before it is quarantined

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        delay: float | None = None,
        interval: float | None = None,
        polling: bool = False,
    ) -> WatchSettings:
        return cls(
            stability_delay_s=config.stability_delay_s if delay is None else delay,
            rescan_interval_s=config.rescan_interval_s if interval is None else interval,
            polling=polling,
        )

    @property
    def poll_s(self) -> float:
        """How often the worker re-stats tracked files: a few polls per stability delay."""
        return max(0.02, min(0.25, self.stability_delay_s / 8))


class _InboxEvents(FileSystemEventHandler):
    """Turns events into hints. Must never raise: an exception here kills the observer."""

    def __init__(self, hint: Callable[[Path], None]) -> None:
        super().__init__()
        self._hint = hint

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            if event.event_type not in _HINT_EVENTS:
                return
            # A rename inside the inbox (copy-then-rename) matters by its destination only.
            raw = event.dest_path if event.event_type == "moved" else event.src_path
            if raw:
                self._hint(Path(os.fsdecode(raw)))
        except Exception:
            log.exception("inbox event %r could not be queued; the next rescan will see it", event)


class Watcher:
    """Archives every file dropped into a desk's inbox, once; `run` until a stop event."""

    def __init__(
        self,
        desk: Desk,
        settings: WatchSettings | None = None,
        *,
        ingest: Ingest | None = None,
        on_outcome: OutcomeCallback | None = None,
        on_notice: NoticeCallback | None = None,
    ) -> None:
        self.desk = desk
        self.inbox = desk.inbox
        self.settings = settings or WatchSettings.from_config(desk.config)
        self._given_ingest = ingest  # tests inject failures here
        self._warm_pool: WorkerPool | None = None  # started by run(), handed to the pipeline
        self._pipeline_now: Pipeline | None = None
        self._ingest: Ingest | None = ingest
        self._on_outcome = on_outcome or _log_outcome
        self._on_notice = on_notice or log.info
        self._tracker = FileStabilityTracker(self.settings.stability_delay_s)
        self._hints: set[Path] = set()
        self._hints_lock = threading.Lock()
        self._attempts: dict[Path, int] = {}
        self.observer: BaseObserver | None = None
        self.observer_kind = ""

    # -- hints: the only state shared between threads ------------------------------------

    def hint(self, path: Path) -> None:
        """Something may have happened at `path`; the worker will look. Thread-safe."""
        if not is_ignored(path, self.inbox):
            with self._hints_lock:
                self._hints.add(path)

    def rescan(self) -> None:
        """Hint every candidate file in the inbox: the catch-up for lost events."""
        found = list(candidate_files(self.inbox))
        with self._hints_lock:
            self._hints.update(found)

    def _drain_hints(self) -> None:
        with self._hints_lock:
            hints, self._hints = self._hints, set()
        for hinted in sorted(hints):
            # A folder dropped in whole is one event: walk it. Its files may not exist yet
            # or be half-copied; events and rescans will bring the rest.
            for path in candidate_files(self.inbox, hinted):
                self._tracker.track(path)

    # -- the worker ------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None) -> list[Outcome]:
        """Archive what is in the inbox now, once each file has gone quiet; in this thread."""
        stop = stop or threading.Event()
        outcomes: list[Outcome] = []
        self.rescan()
        self._drain_hints()
        with self._pipeline():
            while len(self._tracker) and not stop.is_set():
                outcomes.extend(self._take_stable(stop))
                if len(self._tracker):
                    stop.wait(self.settings.poll_s)
        return outcomes

    @contextmanager
    def _pipeline(self) -> Iterator[None]:
        """One ingest pipeline for as long as this thread takes files.

        Its database connection and its PDF worker processes live across files: a connection
        per file made SQLite checkpoint and delete the WAL at every close (~15 ms a file), and
        a worker pool per file would pay process start-up each time.
        """
        if self._given_ingest is not None:
            yield
            return
        pipeline = Pipeline(self.desk, pool=self._warm_pool)
        self._warm_pool = None  # the pipeline owns it now, and closes it
        self._ingest = lambda _desk, path: pipeline.ingest_file(path)
        self._pipeline_now = pipeline
        try:
            yield
        finally:
            self._ingest = None
            self._pipeline_now = None
            pipeline.close()

    def _work(self, stop: threading.Event) -> None:
        ocr = BackgroundOcr(self.desk, self._notice)
        try:
            with self._pipeline():
                self._work_loop(stop, ocr)
        finally:
            ocr.close()

    def _work_loop(self, stop: threading.Event, ocr: BackgroundOcr) -> None:
        while not stop.is_set():
            try:
                self._drain_hints()
                self._take_stable(stop)
                # Files first; while none is waiting, scanned pages are read one at a time.
                if not len(self._tracker) and ocr.step():
                    continue
            except Exception:
                # Only a bug gets here (files are guarded one by one); keep watching.
                log.exception("watcher worker loop failed; continuing")
            stop.wait(self.settings.poll_s)

    def _take_stable(self, stop: threading.Event) -> list[Outcome]:
        stable = self._tracker.poll()
        if self._pipeline_now is not None and len(stable) > 1:
            batch = self._take_batch(stable, stop)
            if batch is not None:
                return batch
        outcomes = []
        for path in stable:
            if stop.is_set():
                break
            # The list is from one poll; a long batch gives a writer time to start again.
            if not self._tracker.still_stable(path):
                continue
            outcomes.append(self._finish(path, self._take(path)))
        return outcomes

    def _take_batch(self, stable: list[Path], stop: threading.Event) -> list[Outcome] | None:
        """Many quiet files at once: the pipeline parses them on both cores, commits each.

        A stop ends the batch after the file being committed; the rest stay in the inbox.
        None when the batch broke on a bug: the files are then taken one by one.
        """
        assert self._pipeline_now is not None
        paths = [p for p in stable if self._tracker.still_stable(p)]
        outcomes: list[Outcome] = []
        try:
            self._pipeline_now.ingest_many(
                paths,
                progress=lambda o: outcomes.append(self._finish(o.file, o)),
                stop=stop.is_set,
            )
        except Exception:
            log.exception("batch ingest failed; taking the files one by one")
            return None
        return outcomes

    def _finish(self, path: Path, outcome: Outcome) -> Outcome:
        self._tracker.forget(path)
        self._report(outcome)
        return outcome

    def _take(self, path: Path) -> Outcome:
        """Ingest one file; an unexpected error is an outcome too, never the end of the loop."""
        try:
            assert self._ingest is not None, "files are only taken inside _pipeline()"
            outcome = self._ingest(self.desk, path)
        except Exception as exc:
            log.debug("ingest of %s raised", path, exc_info=True)
            return self._unexpected(path, exc)
        self._attempts.pop(path, None)
        return outcome

    def _unexpected(self, path: Path, exc: Exception) -> Outcome:
        attempts = self._attempts.get(path, 0) + 1
        self._attempts[path] = attempts
        why = f"unexpected error: {type(exc).__name__}: {exc}"
        if not path.exists():
            self._attempts.pop(path, None)
            return Outcome(path, "failed", reason=f"{why} (the file is no longer in the inbox)")
        if attempts < self.settings.max_attempts:
            # Often passing (a locked database, a full disk): leave it for the next rescan.
            return Outcome(path, "failed", reason=f"{why} (attempt {attempts}; left in the inbox)")
        self._attempts.pop(path, None)
        try:
            quarantine(self.desk, path, f"{why}\nIt failed {attempts} times; see the log.")
        except OSError as move_error:
            return Outcome(path, "failed", reason=f"{why}; could not quarantine: {move_error}")
        return Outcome(path, "failed", reason=f"{why} (moved to failed/ after {attempts} tries)")

    def _report(self, outcome: Outcome) -> None:
        try:
            self._on_outcome(outcome)
        except Exception:
            log.exception("reporting the outcome for %s failed", outcome.file)

    def _notice(self, message: str) -> None:
        try:
            self._on_notice(message)
        except Exception:
            log.exception("notice could not be delivered: %s", message)

    # -- the supervisor ----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Watch until `stop` is set; then finish the current file and return.

        Sets `stop` itself when it returns early (an error), so the worker never outlives it.
        """
        self.inbox.mkdir(parents=True, exist_ok=True)
        if self._given_ingest is None and self._warm_pool is None:
            # The parsing workers start now, before the observer's threads: a process with
            # one thread forks them directly (no fork server, which a kill during its start-up
            # leaves printing a traceback), and the first files dropped are parsed at once.
            self._warm_pool = parse_pool(self.desk)
            self._warm_pool.start()
        try:
            # Observer first, scan second: a file landing in between is seen by one or the other.
            self._start_observer()
            self.rescan()
            worker = self._start_worker(stop)
            try:
                worker = self._supervise(stop, worker)
            finally:
                stop.set()
                worker.join()
                self._stop_observer()
        finally:
            if self._warm_pool is not None:  # never handed to a pipeline
                self._warm_pool.close()
                self._warm_pool = None

    def _supervise(self, stop: threading.Event, worker: threading.Thread) -> threading.Thread:
        interval = self.settings.rescan_interval_s
        next_rescan = time.monotonic() + interval
        while not stop.wait(min(self.settings.supervise_s, interval)):
            if not worker.is_alive():
                self._notice("归档进程意外停止，正在重新启动")
                worker = self._start_worker(stop)
            if not self.observer_alive():
                self._notice("收件箱监视意外停止，正在重新启动")
                self._stop_observer()
                self._start_observer()
                self.rescan()  # whatever happened while it was down
            if time.monotonic() >= next_rescan:
                self.rescan()
                next_rescan = time.monotonic() + interval
        return worker

    def _start_worker(self, stop: threading.Event) -> threading.Thread:
        # Daemon: a second Ctrl-C must be able to end the process mid-file; the pipeline is
        # crash-safe, so the next run finishes that file.
        worker = threading.Thread(
            target=self._work, args=(stop,), name="dunning-ingest", daemon=True
        )
        worker.start()
        return worker

    def observer_alive(self) -> bool:
        """The observer thread and every emitter under it are running."""
        observer = self.observer
        return (
            observer is not None
            and observer.is_alive()
            and all(emitter.is_alive() for emitter in observer.emitters)
        )

    def _start_observer(self) -> None:
        if not self.settings.polling:
            try:
                self.observer = self._launch(Observer())
                return
            except OSError as exc:
                self._notice(
                    f"无法用 inotify 监视 {self.inbox}（{exc}），改为定时扫描。"
                    "调高 fs.inotify.max_user_watches，或用 --polling 不再提示。"
                )
        self.observer = self._launch(PollingObserver(timeout=self.settings.polling_timeout_s))

    def _launch(self, observer: BaseObserver) -> BaseObserver:
        observer.schedule(_InboxEvents(self.hint), str(self.inbox), recursive=True)
        observer.start()
        # "inotify", "polling", "fsevents": what the clerk needs to know about missed events.
        self.observer_kind = type(observer).__name__.removesuffix("Observer").lower()
        self._notice(
            f"正在监视 {self.inbox}（{self.observer_kind}；文件 "
            f"{self.settings.stability_delay_s:g} 秒不变后归档；每 "
            f"{self.settings.rescan_interval_s:g} 秒重新扫描）"
        )
        return observer

    def _stop_observer(self) -> None:
        observer, self.observer = self.observer, None
        if observer is None:
            return
        try:
            observer.stop()
            if observer.is_alive():
                observer.join(timeout=5)
        except Exception:
            log.exception("the inbox observer did not stop cleanly")


def _log_outcome(outcome: Outcome) -> None:
    log.info("%s %s: %s", outcome.status, outcome.file, outcome.label or outcome.reason or "")
