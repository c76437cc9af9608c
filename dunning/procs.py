"""Child processes die with their parent: PDF readers, render workers and LibreOffice.

A `pack` or `ingest` killed with -9 runs no cleanup of its own; on Linux the kernel can still
send each child a signal when its parent dies (prctl PR_SET_PDEATHSIG), so no worker and no
`soffice.bin` outlives the command. Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., Any] | None:
    # Looked up once, in the parent: between fork and exec nothing may load a library.
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., Any] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PRCTL = _load_prctl()


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when its parent exits (Linux only).

    Safe as a `preexec_fn` (between fork and exec: the setting survives exec) and at the start
    of a worker process. If the parent is already gone, exit at once.
    """
    if _PRCTL is None:
        return
    parent = os.getppid()
    _PRCTL(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def alive(pid: int) -> bool:
    """Whether a process `pid` exists on this machine (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
