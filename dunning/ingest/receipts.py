"""Signed receipts coming back: a scan carrying a letter's reference marks that letter signed."""

from __future__ import annotations

import sqlite3

from dunning.archive.contracts.extract import ExtractedText
from dunning.errors import IngestError
from dunning.letters.registry import find_refs, known_refs, mark_signed
from dunning.workflow.log import add_entry


def is_returned_receipt(conn: sqlite3.Connection, text: ExtractedText | None) -> bool:
    """A file dropped without a route is a signed receipt only when it is a scan (its text
    came from OCR) naming exactly one of our letters.

    A PDF with a text layer is a generated document (a pack, a letter quoted in the customer's
    reply), never proof of a signature; those go to inbox/receipts/ on purpose or not at all.
    """
    if text is None or text.ocr_pages == 0:
        return False
    return len(known_refs(conn, text.text)) == 1


def sign_letter(conn: sqlite3.Connection, text: str, document_id: int, file_name: str) -> str:
    """Mark the letter named in a receipt's text signed; returns its reference.

    Raises IngestError when the text names no letter this desk sent.
    """
    known = known_refs(conn, text)
    if len(known) > 1:
        raise IngestError(
            f"{file_name} names several letters ({', '.join(known)}): scan each signed receipt"
            " on its own and drop the scans again."
        )
    ref = known[0] if known else None
    if ref is None:
        refs = find_refs(text)
        if refs:
            raise IngestError(
                f"{file_name} names letter {refs[0]}, which this desk never sent: check the"
                " reference on the paper, or file the scan with the right desk."
            )
        raise IngestError(
            f"{file_name} shows no letter reference (like CS-2025-000123): scan the page that"
            " carries the reference number, or put the file in inbox/contracts/ if it is a contract."
        )
    code = mark_signed(conn, ref, document_id)
    conn.execute("UPDATE documents SET customer_code = ? WHERE id = ?", [code, document_id])
    note = f"signed receipt for {ref} came back ({file_name}, document {document_id})"
    add_entry(conn, code, kind="receipt", note=note, letter_ref=ref)
    return ref
