"""The zip guard lives in `dunning.archive.zipguard` (every reader of the desk uses it, not
only the ingest); kept importable here."""

from __future__ import annotations

from dunning.archive.zipguard import (
    MAX_TEXT_RUN,
    ZipLimits,
    check_member_count,
    check_xml,
    check_zip,
)

__all__ = ["MAX_TEXT_RUN", "ZipLimits", "check_member_count", "check_xml", "check_zip"]
