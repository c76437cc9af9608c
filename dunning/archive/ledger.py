"""Ledger files (CSV/XLSX exports) read into plain rows: invoices, payments, customers.

INTERFACE STUB — the parsing is being written; the dataclasses and `read_ledger` signature
are the contract the import (dunning.archive.ledger_import) builds on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

LedgerKind = Literal["invoices", "payments", "customers"]


@dataclass(frozen=True)
class InvoiceRow:
    row: int  # the row number the clerk sees in Excel (1-based, header rows counted)
    customer_code: str | None
    customer_name: str | None
    contract_no: str | None
    invoice_no: str
    invoice_date: dt.date
    due_date: dt.date | None  # None: the import applies the desk's default terms
    amount: Decimal
    received: Decimal  # 已收金额 already applied to this invoice; 0 when the column is absent


@dataclass(frozen=True)
class PaymentRow:
    row: int
    customer_code: str | None
    customer_name: str | None
    paid_on: dt.date
    amount: Decimal
    invoice_ref: str | None
    payment_no: str | None


@dataclass(frozen=True)
class CustomerRow:
    row: int
    code: str | None
    name: str | None
    address: str | None = None
    contact: str | None = None
    phone: str | None = None
    credit_grade: str | None = None
    salesperson: str | None = None


@dataclass
class Ledger:
    kind: LedgerKind
    sheet: str | None  # XLSX sheet name, None for CSV
    header_row: int  # 1-based
    columns: dict[str, str]  # our field name -> the header as written in the file
    invoices: list[InvoiceRow] = field(default_factory=list)
    payments: list[PaymentRow] = field(default_factory=list)
    customers: list[CustomerRow] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.invoices) + len(self.payments) + len(self.customers)


def read_ledger(path: Path) -> Ledger:
    """Read a CSV or XLSX ledger export; raises IngestError listing every bad row."""
    raise NotImplementedError
