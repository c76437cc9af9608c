"""Signed receipts coming back: a scan carrying a letter's reference marks that letter signed."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

from dunning.errors import IngestError
from dunning.workflow.log import add_entry

# CS-2025-000123; OCR may read the dashes as en-dashes or put spaces around them.
_REF = re.compile(r"([A-Z]{1,6})\s*[-–—_]\s*(\d{4})\s*[-–—_]\s*(\d{6})")


def find_refs(text: str) -> list[str]:
    """Letter references in a text, normalised, in order of appearance, without repeats."""
    found: list[str] = []
    for match in _REF.finditer(text.upper()):
        ref = "-".join(match.groups())
        if ref not in found:
            found.append(ref)
    return found


def known_ref(conn: sqlite3.Connection, text: str) -> str | None:
    """The first reference in `text` that is a letter in the archive."""
    for ref in find_refs(text):
        if conn.execute("SELECT 1 FROM letters WHERE ref = ?", [ref]).fetchone():
            return ref
    return None


def sign_letter(conn: sqlite3.Connection, text: str, document_id: int, file_name: str) -> str:
    """Mark the letter named in a receipt's text signed; returns its reference.

    Raises IngestError when the text names no letter this desk sent.
    """
    ref = known_ref(conn, text)
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
    code = conn.execute("SELECT customer_code FROM letters WHERE ref = ?", [ref]).fetchone()[0]
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    conn.execute(
        "UPDATE letters SET status = 'signed', signed_document_id = ?, signed_at = ? WHERE ref = ?",
        [document_id, now, ref],
    )
    conn.execute("UPDATE documents SET customer_code = ? WHERE id = ?", [code, document_id])
    note = f"signed receipt for {ref} came back ({file_name}, document {document_id})"
    add_entry(conn, code, kind="receipt", note=note, letter_ref=ref)
    return ref
