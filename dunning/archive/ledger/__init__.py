"""Ledger exports (CSV, XLSX, XLS, ET, ODS) read into rows and written into the archive.

files: opening CSV and XLSX (csvtext: the one CSV decoder) · header: which column is which
field · rows: the row types and the row accounting · tabular: invoice ledgers, payment lists,
customer lists · detail: detail ledgers with 借方/贷方/余额 · reader: read_ledger · importer:
writing a ledger into the archive.
"""

from __future__ import annotations

from dunning.archive.ledger.reader import read_ledger
from dunning.archive.ledger.rows import (
    CustomerRow,
    InvoiceRow,
    Ledger,
    LedgerKind,
    PaymentRow,
    RowCounts,
)

__all__ = [
    "CustomerRow",
    "InvoiceRow",
    "Ledger",
    "LedgerKind",
    "PaymentRow",
    "RowCounts",
    "read_ledger",
]
