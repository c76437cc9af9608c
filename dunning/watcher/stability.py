"""Write completion: a file is finished when its size and mtime stop changing for a while."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Signature:
    """What a poll sees of a file; any change means someone is still writing it."""

    size: int
    mtime_ns: int


def signature(path: Path) -> Signature | None:
    """The file's current signature, or None when it is gone or a folder.

    Links, FIFOs and devices get one too (of the thing itself, never followed): the pipeline
    refuses them and moves them to failed/, instead of their sitting in the inbox for ever.
    """
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    return Signature(st.st_size, st.st_mtime_ns)


@dataclass
class _Seen:
    signature: Signature
    since: float  # when this signature was first seen


class FileStabilityTracker:
    """Tracks candidate files and says which have been unchanged for `delay` seconds.

    Not thread-safe: one worker owns it. Paths are kept in the order they were first seen, so
    a batch dropped at once is archived in roughly the order it arrived.
    """

    def __init__(self, delay: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.delay = delay
        self._clock = clock
        self._seen: dict[Path, _Seen] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, path: object) -> bool:
        return path in self._seen

    def track(self, path: Path) -> None:
        """Start watching `path`; a path already tracked keeps its clock."""
        if path in self._seen:
            return
        sig = signature(path)
        if sig is not None:
            self._seen[path] = _Seen(sig, self._clock())

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def poll(self) -> list[Path]:
        """Re-stat every tracked file; returns those unchanged for the delay, oldest first.

        Vanished files are dropped; a changed file restarts its clock. Stable files stay
        tracked until `forget` so a caller can re-check them right before taking them.
        """
        now = self._clock()
        stable = []
        for path, seen in list(self._seen.items()):
            sig = signature(path)
            if sig is None:
                del self._seen[path]
            elif sig != seen.signature:
                self._seen[path] = _Seen(sig, now)
            elif now - seen.since >= self.delay:
                stable.append(path)
        return stable

    def still_stable(self, path: Path) -> bool:
        """A last look right before ingesting: the file is still the one that went quiet."""
        seen = self._seen.get(path)
        return seen is not None and signature(path) == seen.signature
