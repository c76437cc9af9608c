"""One inbox watcher per desk: `serve` and `watch` hold an flock on the desk's lock file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from dunning.desk import Desk
from dunning.errors import DunningError

LOCK_NAME = ".dunning-watch.lock"  # a dotfile: never taken for a document by `ingest .`


class DeskBusyError(DunningError):
    """Another `dunning serve` or `dunning watch` is already running on this desk."""


class DeskLock:
    """Held while a process watches the desk's inbox; the OS drops it if the process dies."""

    def __init__(self, desk: Desk) -> None:
        self.path: Path = desk.root / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> DeskLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise DeskBusyError(
                f"another `dunning serve` or `dunning watch` (pid {holder}) is already"
                f" running on {self.path.parent}; stop it first."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DeskLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
