"""E-invoices (数电发票 and older 电子发票): readers, the archive's `einvoices` table, linking to
the ledger, and what they change in a customer's balance (SPEC §12).

Readers: the 数电 XML (`xmlread`), the OFD (`ofd`), a PDF e-invoice's text layer (`pdftext`),
and the 电子税务局's 全量发票查询 export (`listing`). `registry` owns the tables and the links;
`effects` is what accounts read: 作废 invoices not owed, 红字 invoices as credit notes.
"""

from __future__ import annotations

from dunning.archive.einvoice.model import EInvoice, EInvoiceFile

__all__ = ["EInvoice", "EInvoiceFile"]
