"""Commands over the receivables: ingest, aging, customers, customer."""

from __future__ import annotations
