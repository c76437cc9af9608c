"""The QR code printed on every letter: it encodes the letter's reference, so a signed and
scanned return can be matched to its letter by a phone or a scanner."""

from __future__ import annotations

import io
from functools import lru_cache

import segno

# The picture in each template that is swapped for the letter's QR code carries this alt text
# (Word: right-click → Edit Alt Text). A clerk may move or resize it, as long as the text stays.
QR_PICTURE_DESCR = "qr"


@lru_cache(maxsize=4096)
def qr_png(text: str) -> bytes:
    """A QR code PNG (black on white, 4-module quiet zone) encoding `text`."""
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=8, border=4)
    return out.getvalue()
