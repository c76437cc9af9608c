"""The collection workflow: customer status, the collection log and the weekly/legal reports."""

from __future__ import annotations

from dunning.workflow.log import (
    KINDS,
    LogEntry,
    PromiseStatus,
    add_entry,
    list_entries,
    promise_status,
    record_entry,
)
from dunning.workflow.status import STATUSES, StatusChange, set_status

__all__ = [
    "KINDS",
    "STATUSES",
    "LogEntry",
    "PromiseStatus",
    "StatusChange",
    "add_entry",
    "list_entries",
    "promise_status",
    "record_entry",
    "set_status",
]
