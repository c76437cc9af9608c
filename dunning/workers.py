"""Run a function over many items in long-lived worker processes, each item under a time limit.

One pathological PDF can make pypdf spin for minutes or exhaust memory; here it costs one
worker process, which is killed and replaced, while the other items carry on. Workers stay
alive across items (and across `WorkerPool.run` calls) because starting a process and
importing pypdf costs far more than reading a typical contract.

How workers start (`start_method="auto"`): when this process has exactly one OS thread, a
plain fork (about 5 ms, pypdf already imported); otherwise the 'forkserver' context, because
forking a threaded process (the watcher runs threads) can copy a lock some other thread
holds. A forkserver costs about 150 ms once per process (interpreter start plus importing
pypdf, which `preload` does once in the server), then about 15 ms per worker. With
forkserver or spawn the caller's main module is imported again in each worker, so it needs
the usual `if __name__ == "__main__":` guard. Even a single item goes through a worker:
that is the only way to enforce the time limit.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any, Generic, Literal, TypeVar

from dunning.errors import IngestError
from dunning.procs import die_with_parent

T = TypeVar("T")
R = TypeVar("R")

_DEFAULT_PRELOAD = ("dunning.archive.contracts.extract",)
StartMethod = Literal["auto", "fork", "forkserver", "spawn"]


def _single_threaded() -> bool:
    """Whether this process has one OS thread (Linux: counted by the kernel, not by Python)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


class WorkerTimeout(IngestError):
    """An item took longer than the time limit; its worker was killed."""


class WorkerCrash(IngestError):
    """The worker process died while handling an item (segfault, out of memory, exit)."""


def _worker_main(conn: Connection, memory_limit_bytes: int | None) -> None:
    """Loop in the worker: receive (fn, item), send back ("ok", result) or ("error", exc)."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop. A parent
    # killed with -9 decides nothing: the kernel then ends this worker with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    # Everything inherited from the parent is long-lived: keep the collector from walking it
    # (which also copies every shared page of a forked worker) on each full collection.
    gc.freeze()
    if memory_limit_bytes is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if task is None:
            return
        fn, item = task
        try:
            reply: tuple[str, object] = ("ok", fn(item))
        except Exception as exc:
            reply = ("error", exc)
        try:
            conn.send(reply)
        except OSError:
            return  # the parent died (killed, say) while we worked: nobody to answer
        except Exception as exc:
            # The result or exception would not pickle: report that instead of dying.
            try:
                conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
            except OSError:
                return


@dataclass
class _Worker(Generic[T]):
    process: BaseProcess
    conn: Connection
    # Items sent and not yet answered, oldest first: the first is being worked on (within
    # `deadline`), the others wait in the pipe.
    queue: deque[T] = field(default_factory=deque)
    deadline: float = 0.0
    fn: Callable[[T], Any] | None = None  # what the queued items are for


class WorkerPool:
    """A fixed set of worker processes, reused across `run` calls until `close`."""

    def __init__(
        self,
        *,
        workers: int = 2,
        timeout_s: float,
        memory_limit_bytes: int | None = None,
        preload: Sequence[str] = _DEFAULT_PRELOAD,
        start_method: StartMethod = "auto",
        depth: int = 1,
    ) -> None:
        """`depth`: items sent to a worker ahead of its answers. At 2 the next item waits in
        the pipe, so a worker goes straight on while the caller handles the last result (and
        the time limit of an item starts when its predecessor's answer is read). Only for
        small items (a few KB): a big one would not fit the pipe and would wait for the
        worker, which may itself be waiting to send its answer."""
        self.size = max(1, workers)
        self.depth = max(1, depth)
        self.timeout_s = timeout_s
        self.memory_limit_bytes = memory_limit_bytes
        self.start_method = start_method
        self._preload = list(preload)
        self._workers: list[_Worker[Any]] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R | Exception]]:
        """Yield (item, result or exception) in completion order; `fn` must be picklable.

        `items` is read lazily, an item ahead for each busy worker: a generator that does
        work to make each item (the letter pack prepares a batch of letters) then does it while
        the workers are busy with the previous ones, not before they start.
        """
        source = iter(items)
        ahead: deque[T] = deque()

        def pending(at_least: int = 1) -> bool:
            if len(ahead) < at_least:
                ahead.extend(itertools.islice(source, at_least - len(ahead)))
            return bool(ahead)

        busy: list[_Worker[T]] = []

        def feed(worker: _Worker[T]) -> None:
            while len(worker.queue) < self.depth and pending():
                self._assign(worker, fn, ahead.popleft())
            if worker.queue and worker not in busy:
                busy.append(worker)

        try:
            while pending() and len(self._workers) < self.size:
                self._workers.append(self._start())
                feed(self._workers[-1])
            for worker in self._workers:
                feed(worker)
            while busy:
                pending(len(busy))  # make the next items while the workers run
                self._wait(busy)
                finished = []
                for worker in list(busy):
                    while (outcome := self._collect(worker)) is not None:
                        finished.append(outcome)
                        # Feed the worker before the caller handles the result (archiving
                        # it takes a while): extraction and archiving then overlap.
                        feed(worker)
                        if not worker.queue:
                            busy.remove(worker)
                            break
                yield from finished
        finally:
            # The caller stopped early: a late reply must not reach the next run's items.
            for worker in busy:
                worker.queue.clear()
                self._replace(worker, self._crash())

    def start(self) -> None:
        """Start every worker now rather than at the first `run`: a long-lived caller (the
        watcher) then takes its first files without waiting for process start-up."""
        while len(self._workers) < self.size:
            self._workers.append(self._start())

    def close(self) -> None:
        """Stop every worker: politely first, then by force."""
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        for worker in self._workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers.clear()

    def _context(self) -> ForkContext | ForkServerContext | SpawnContext:
        """Decided per worker start: a replacement may start after the caller began threads."""
        method = self.start_method
        if method == "auto":
            fork_ok = sys.platform == "linux" and _single_threaded()
            method = "fork" if fork_ok else "forkserver"
        if method == "fork":
            return multiprocessing.get_context("fork")
        if method == "spawn":
            return multiprocessing.get_context("spawn")
        ctx = multiprocessing.get_context("forkserver")
        # Only takes effect if this process has not started its fork server yet.
        ctx.set_forkserver_preload(self._preload)
        return ctx

    def _start(self) -> _Worker[Any]:
        ctx = self._context()
        parent, child = ctx.Pipe(duplex=True)
        process = ctx.Process(
            target=_worker_main, args=(child, self.memory_limit_bytes), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process=process, conn=parent)

    def _assign(self, worker: _Worker[T], fn: Callable[[T], R], item: T) -> None:
        worker.queue.append(item)
        if len(worker.queue) == 1:
            worker.deadline = time.monotonic() + self.timeout_s
        self._send(worker, fn, item)

    def _send(self, worker: _Worker[T], fn: Callable[[T], R], item: T) -> None:
        worker.fn = fn
        # If the worker died while idle, _collect notices and reports this item as crashed.
        with contextlib.suppress(OSError, ValueError):
            worker.conn.send((fn, item))

    def _wait(self, busy: list[_Worker[T]]) -> None:
        if not busy:
            return
        timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
        waitables: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        wait(waitables, timeout=timeout)

    def _collect(self, worker: _Worker[T]) -> tuple[T, Any] | None:
        """The oldest item's outcome, or None while it is still running within its time."""
        if not worker.queue:
            return None
        item = worker.queue[0]
        if worker.conn.poll():
            try:
                _status, value = worker.conn.recv()
            except (EOFError, OSError):
                return item, self._replace(worker, self._crash())
            worker.queue.popleft()
            worker.deadline = time.monotonic() + self.timeout_s  # the next one starts now
            return item, value
        if not worker.process.is_alive():
            return item, self._replace(worker, self._crash())
        if time.monotonic() >= worker.deadline:
            return item, self._replace(worker, self._timeout())
        return None

    def _replace(self, worker: _Worker[T], error: IngestError) -> IngestError:
        """Kill a worker (hung or dead) and put a fresh one in its place; the items that
        waited behind the one it failed on go to the fresh one, in order."""
        worker.process.kill()
        worker.process.join()
        worker.conn.close()
        fresh = self._start()
        worker.process, worker.conn = fresh.process, fresh.conn
        if worker.queue:
            worker.queue.popleft()
        worker.deadline = time.monotonic() + self.timeout_s
        for waiting in worker.queue:
            assert worker.fn is not None  # set when they were sent
            self._send(worker, worker.fn, waiting)
        return error

    def _timeout(self) -> WorkerTimeout:
        return WorkerTimeout(
            f"读取超过 {self.timeout_s:g} 秒，已停止：文件可能已损坏或格外复杂；"
            "请打印为新的 PDF 后重新放入。"
        )

    def _crash(self) -> WorkerCrash:
        return WorkerCrash(
            "读取时读取程序崩溃（文件已损坏或内存不足）：请向发送方要一份新的，"
            "或打印为新的 PDF 后重新放入。"
        )


def run_isolated(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int = 2,
    timeout_s: float,
    memory_limit_bytes: int | None = None,
    start_method: StartMethod = "auto",
    depth: int = 1,
) -> Iterator[tuple[T, R | Exception]]:
    """Run `fn` over `items` in a fresh pool, yielding (item, result or exception) as they end."""
    with WorkerPool(
        workers=workers,
        timeout_s=timeout_s,
        memory_limit_bytes=memory_limit_bytes,
        start_method=start_method,
        depth=depth,
    ) as pool:
        yield from pool.run(fn, items)
