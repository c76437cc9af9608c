"""What in the inbox is a document to ingest, and what is someone else's scratch file.

The rules themselves live in `dunning.ingest.classify`, shared with `dunning ingest`.
"""

from __future__ import annotations

from dunning.ingest.classify import candidate_files, is_ignored_name
from dunning.ingest.classify import is_ignored_below as is_ignored

__all__ = ["candidate_files", "is_ignored", "is_ignored_name"]
