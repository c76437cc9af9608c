"""Delivery proofs and signed reply slips archived through the ingest pipeline, then recorded
on their letter (`letters.delivery` checks and records; this module adds the archiving)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlite_utils

from dunning.archive.sniff import sniff
from dunning.desk import Desk
from dunning.ingest.classify import DOCUMENT_TYPES
from dunning.ingest.pipeline import ingest_file
from dunning.letters.delivery import (
    REPLIES,
    Delivery,
    DeliveryError,
    check_delivered,
    check_reply,
    get_delivery,
    mark_delivered,
    record_reply,
)
from dunning.vocabulary import FILE_TYPES, title


def archive_evidence(desk: Desk, path: Path) -> int:
    """Archive a delivery proof (PDF or scan) through the ingest pipeline; its document id.

    The same file archived before is not stored twice: its existing document is returned.
    """
    if not path.is_file():
        raise DeliveryError(f"{path}：没有这个文件；请给出妥投证明的 PDF 或扫描件。")
    found = sniff(path)
    if found not in DOCUMENT_TYPES:
        raise DeliveryError(
            f"{path.name} 不是 PDF 或扫描图片（识别为 {title(FILE_TYPES, found)}）："
            "请把快递的妥投记录另存为 PDF 后重新提供。"
        )
    outcome = ingest_file(desk, path, kind="evidence")
    if outcome.document is None:
        raise DeliveryError(f"{path.name} 未能归档：{outcome.reason}")
    return outcome.document


def deliver(
    desk: Desk,
    db: sqlite_utils.Database,
    ref: str,
    *,
    on: dt.date,
    today: dt.date,
    evidence: Path | None = None,
) -> Delivery:
    """Check, archive the proof, then record the delivery: a refused step archives nothing."""
    check_delivered(get_delivery(db, ref), on=on, today=today)
    document = archive_evidence(desk, evidence) if evidence is not None else None
    return mark_delivered(db, ref, on=on, today=today, evidence_document=document)


def reply(
    desk: Desk,
    db: sqlite_utils.Database,
    ref: str,
    *,
    answer: str,
    on: dt.date,
    today: dt.date,
    evidence: Path | None = None,
) -> Delivery:
    """Check, archive the signed reply slip, then record it: a refused step archives nothing."""
    if answer not in REPLIES:
        raise DeliveryError(f"对账回执只能是 相符 或 不符，不是“{answer}”。")
    check_reply(get_delivery(db, ref), on=on, today=today)
    document = archive_evidence(desk, evidence) if evidence is not None else None
    return record_reply(db, ref, reply=answer, on=on, today=today, document=document)
