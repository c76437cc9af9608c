"""The watched inbox: observer, write completion, catch-up scans, one ingest worker."""

from __future__ import annotations

from dunning.watcher.inbox import candidate_files, is_ignored, is_ignored_name
from dunning.watcher.service import Watcher, WatchSettings
from dunning.watcher.stability import FileStabilityTracker, Signature, signature

__all__ = [
    "FileStabilityTracker",
    "Signature",
    "WatchSettings",
    "Watcher",
    "candidate_files",
    "is_ignored",
    "is_ignored_name",
    "signature",
]
