"""The QR code printed on every letter: it encodes the letter's reference, so a signed and
scanned return can be matched to its letter by a phone or a scanner."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Sequence
from functools import lru_cache

import segno

# The picture in each template that is swapped for the letter's QR code carries this alt text
# (Word: right-click → Edit Alt Text). A clerk may move or resize it, as long as the text stays.
QR_PICTURE_DESCR = "qr"
SCALE = 8
BORDER = 4
# segno tries all eight masks and writes PNG rows in pure Python: ~5 ms a letter. A fixed mask
# (every mask is valid; the choice only tunes contrast) and a direct PNG encoder make it ~0.3 ms.
MASK = 0


@lru_cache(maxsize=4096)
def qr_png(text: str) -> bytes:
    """A QR code PNG (black on white, 4-module quiet zone) encoding `text`."""
    code = segno.make(text, error="m", micro=False, mask=MASK)
    return _png(code.matrix, scale=SCALE, border=BORDER)


# A module's byte of the scanline: 0 (light) → 0xFF, anything else (dark) → 0x00.
_MODULE_BYTE = bytes([0xFF] + [0x00] * 255)


def _png(matrix: Sequence[Iterable[int]], *, scale: int, border: int) -> bytes:
    """A 1-bit greyscale PNG of a module matrix (1 = dark); `scale` must be 8.

    At 8 pixels a module every module is exactly one byte of the scanline: 0x00 dark, 0xFF light.
    """
    assert scale == 8, "one module per byte"
    width = len(matrix) + 2 * border
    light = b"\x00" + b"\xff" * width  # filter byte, then an all-light scanline
    quiet = b"\xff" * border
    rows = [light] * (border * scale)
    for modules in matrix:
        line = b"\x00" + quiet + bytes(modules).translate(_MODULE_BYTE) + quiet
        rows.extend([line] * scale)
    rows.extend([light] * (border * scale))
    size = width * scale
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
