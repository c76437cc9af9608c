"""What happens to a document once OCR has read its last page.

At ingest a scan has no text yet, so its contract number, customer, amount and signing date
are unknown, and a scan dropped into `inbox/` itself cannot yet be told to be a signed
receipt. Both are decided here, in the transaction that commits the last page.
"""

from __future__ import annotations

import json
import sqlite3

from dunning.archive.contracts.meta import extract_meta, link_contract, record_contract
from dunning.config import Config
from dunning.ingest.receipts import sign_letter
from dunning.letters.registry import known_refs


def finish_document(conn: sqlite3.Connection, document_id: int, text: str, config: Config) -> None:
    """Receipt check, then contract details, for a document whose pages are all read."""
    row = conn.execute(
        "SELECT kind, contract_no, customer_code, original_name, meta FROM documents WHERE id = ?",
        [document_id],
    ).fetchone()
    if row is None:
        return
    kind, contract_no, customer, name, meta_raw = row
    meta = json.loads(meta_raw or "{}")
    if kind != "contract":
        return
    if _is_returned_receipt(conn, text, meta):
        conn.execute("UPDATE documents SET kind = 'receipt' WHERE id = ?", [document_id])
        sign_letter(conn, text, document_id, name)
        return
    if contract_no is None or customer is None:
        _complete_contract(conn, document_id, text, name, meta, config)


def _is_returned_receipt(conn: sqlite3.Connection, text: str, meta: dict[str, object]) -> bool:
    """Same rule as at ingest: a scan not routed to inbox/contracts/, read by OCR, naming
    exactly one of our letters (archives made before the OCR queue count as routed)."""
    if meta.get("routed", True) or not meta.get("ocr_pages"):
        return False
    return len(known_refs(conn, text)) == 1


def _complete_contract(
    conn: sqlite3.Connection,
    document_id: int,
    text: str,
    name: str,
    meta: dict[str, object],
    config: Config,
) -> None:
    """Contract number, customer, amount and date from the OCR'd text, linked to the ledger."""
    found = extract_meta(text, name)
    own = config.company.get("name", "")
    link = link_contract(conn, found, own_company=own)
    meta.update(
        parties=[list(p) for p in found.parties],
        amount=str(found.amount) if found.amount is not None else None,
        signed_on=found.signed_on.isoformat() if found.signed_on else None,
    )
    conn.execute(
        "UPDATE documents SET contract_no = COALESCE(contract_no, ?),"
        " customer_code = COALESCE(customer_code, ?), meta = ? WHERE id = ?",
        [link.contract_no, link.customer_code, json.dumps(meta, ensure_ascii=False), document_id],
    )
    record_contract(conn, found, link, document_id, own_company=own)
