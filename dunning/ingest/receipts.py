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
            f"{file_name} 上有多个函件编号（{'、'.join(known)}）：请把每份签回的回执单独扫描后"
            "重新放入。"
        )
    ref = known[0] if known else None
    if ref is None:
        refs = find_refs(text)
        if refs:
            raise IngestError(
                f"{file_name} 上的函件编号 {refs[0]} 不是本工作台发出的：请核对纸面上的编号，"
                "或交给正确的工作台归档。"
            )
        raise IngestError(
            f"{file_name} 上没有函件编号（如 CS-2025-000123）：请扫描印有编号的那一页；"
            "如果是合同，请放入 inbox/contracts/。"
        )
    code = mark_signed(conn, ref, document_id)
    conn.execute("UPDATE documents SET customer_code = ? WHERE id = ?", [code, document_id])
    note = f"函件 {ref} 的签收回执已签回（{file_name}，文档 {document_id}）"
    add_entry(conn, code, kind="receipt", note=note, letter_ref=ref)
    return ref
