"""The QR code PNG: pixel-for-pixel what segno itself draws for the same code."""

from __future__ import annotations

import io

import segno
from PIL import Image

from dunning.letters.qr import BORDER, MASK, SCALE, qr_png


def test_qr_png_matches_segno_pixel_for_pixel() -> None:
    for ref in ("CS-2025-000123", "CS-2026-999999", "X-1"):
        ours = Image.open(io.BytesIO(qr_png(ref))).convert("L")
        reference = io.BytesIO()
        segno.make(ref, error="m", micro=False, mask=MASK).save(
            reference, kind="png", scale=SCALE, border=BORDER
        )
        theirs = Image.open(io.BytesIO(reference.getvalue())).convert("L")
        assert ours.size == theirs.size
        assert ours.tobytes() == theirs.tobytes()
