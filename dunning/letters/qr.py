"""The QR code printed on every letter: it encodes the letter's reference, so a signed and
scanned return can be matched to its letter by a phone or a scanner."""

from __future__ import annotations

import logging
import struct
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import segno

log = logging.getLogger(__name__)

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
    """A QR code PNG (black on white, 4-module quiet zone) encoding `text`: the code segno
    makes (`segno.make(text, error="m", micro=False, mask=MASK)`), drawn module for module."""
    rows = _Affine.rows_of(text) if _worth_learning(len(text)) else None
    if rows is None:
        rows = _rows(_code(text).matrix)
    return _png(rows, scale=SCALE, border=BORDER)


def _code(text: str, mode: str | None = None) -> segno.QRCode:
    """segno's code for `text` (its own choice of mode unless `mode`)."""
    return segno.make(text, error="m", micro=False, mask=MASK, mode=mode)


def expect(texts: Iterable[str]) -> None:
    """Many codes of these texts' lengths are coming (a pack's references): learn the form of
    each length now (a worker forked next inherits it), not after `LEARN_AFTER` codes."""
    for text in {len(text): text for text in texts}.values():
        _ASKED[len(text)] = max(_ASKED[len(text)], LEARN_AFTER)
        _Affine.rows_of(text)


# Learning a length's form takes about 5.5 segno codes per character (~20 ms for a reference):
# worth it for a pack, not for one letter. Lengths asked for more often than this learn it.
LEARN_AFTER = 32
_ASKED: Counter[int] = Counter()


def _worth_learning(length: int) -> bool:
    _ASKED[length] += 1
    return _ASKED[length] > LEARN_AFTER


def _rows(matrix: Sequence[Sequence[int]]) -> list[bytes]:
    """Each row of a module matrix as bytes, a module a byte: 1 dark, 0 light."""
    return [bytes(row) for row in matrix]


# --- references without segno's per-code Python loops ------------------------------------
#
# A reference such as DN-2025-000123 is encoded in alphanumeric mode. For one length, segno
# gives every such text the same version, error level and mask (fixed above), so its matrix is
# an affine function of the data bits over GF(2): the bits are written, the Reed-Solomon
# codewords are linear in them, interleaving and placement move them, the mask and the format
# information are constants. So the matrix of any text of that length is the matrix of
# "000…" XOR the change each data bit makes on its own, and those changes are learnt once per
# length from segno itself, then checked against segno on one more text of that length.

_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {char: value for value, char in enumerate(_ALPHANUMERIC)}
_PAIR_BITS, _SINGLE_BITS = 11, 6  # two characters as 45a+b in 11 bits, a last odd one in 6


@dataclass(frozen=True)
class _Affine:
    """The matrices of every alphanumeric text of one length: `base` XOR one `basis` entry for
    each data bit set. A matrix is an int, bit (row * width + column) from the top."""

    width: int
    base: int
    basis: tuple[int, ...]  # per data bit: each pair's 11 bits low first, then a last char's 6

    @staticmethod
    def rows_of(text: str) -> list[bytes] | None:
        """The module rows of `text`'s code, or None when segno itself must make it (a text
        that is not purely alphanumeric, or all digits, which segno encodes as numbers)."""
        if not text or text.isdigit() or not all(char in _VALUE for char in text):
            return None
        affine = _affine(len(text))
        return affine.rows(affine.matrix(text)) if affine is not None else None

    def matrix(self, text: str) -> int:
        matrix, bit = self.base, 0
        for value, bits in _values(text):
            for k in range(bits):
                if value >> k & 1:
                    matrix ^= self.basis[bit + k]
            bit += bits
        return matrix

    def rows(self, matrix: int) -> list[bytes]:
        width = self.width
        text = f"{matrix:0{width * width}b}".encode("ascii").translate(_DIGIT_MODULE)
        return [text[i : i + width] for i in range(0, width * width, width)]


_DIGIT_MODULE = bytes.maketrans(b"01", b"\x00\x01")


def _values(text: str) -> list[tuple[int, int]]:
    """The alphanumeric data of `text`: (value, bit count) per pair and a last odd character."""
    values = [
        (_VALUE[text[i]] * 45 + _VALUE[text[i + 1]], _PAIR_BITS) for i in range(0, len(text) - 1, 2)
    ]
    if len(text) % 2:
        values.append((_VALUE[text[-1]], _SINGLE_BITS))
    return values


def _segno_matrix(text: str) -> tuple[int, int, tuple[object, object]]:
    """segno's code for `text` in alphanumeric mode: (matrix as an int, width, (version, error))."""
    code = _code(text, mode="alphanumeric")
    bits = "".join("".join("1" if m else "0" for m in row) for row in code.matrix)
    return int(bits, 2), len(code.matrix), (code.version, code.error)


@lru_cache(maxsize=64)
def _affine(length: int) -> _Affine | None:
    """The affine map for texts of `length` characters, learnt from segno; None (segno for
    each of them) if it does not reproduce segno on a text of that length."""
    layout = [bits for _, bits in _values("0" * length)]
    zeros = [0] * len(layout)
    base, width, shape = _segno_matrix("0" * length)
    basis = []
    for position, bits in enumerate(layout):
        for k in range(bits):
            values = zeros.copy()
            values[position] = 1 << k
            matrix, _, same = _segno_matrix(_chars(values, layout))
            if same != shape:
                return None
            basis.append(matrix ^ base)
    affine = _Affine(width, base, tuple(basis))
    probe = (_ALPHANUMERIC[::-1] * (length // len(_ALPHANUMERIC) + 1))[:length]  # ": . / - …"
    if affine.matrix(probe) != _segno_matrix(probe)[0]:
        log.warning("QR codes of %d characters come from segno: the fast form disagreed", length)
        return None
    return affine


def _chars(values: list[int], layout: list[int]) -> str:
    """The text whose alphanumeric data are `values` (each of `layout`'s bit count)."""
    chars = []
    for value, bits in zip(values, layout, strict=True):
        if bits == _PAIR_BITS:
            chars += [_ALPHANUMERIC[value // 45], _ALPHANUMERIC[value % 45]]
        else:
            chars.append(_ALPHANUMERIC[value])
    return "".join(chars)


# --- the PNG --------------------------------------------------------------------------------

# A module's byte of the scanline: 0 (light) → 0xFF, anything else (dark) → 0x00.
_MODULE_BYTE = bytes([0xFF] + [0x00] * 255)


def _png(rows: Sequence[bytes], *, scale: int, border: int) -> bytes:
    """A 1-bit greyscale PNG of module rows (a byte a module, nonzero = dark); `scale` must
    be 8.

    At 8 pixels a module every module is exactly one byte of the scanline: 0x00 dark, 0xFF light.
    """
    assert scale == 8, "one module per byte"
    width = len(rows) + 2 * border
    light = b"\x00" + b"\xff" * width  # filter byte, then an all-light scanline
    quiet = b"\xff" * border
    scanlines = [light] * (border * scale)
    for modules in rows:
        line = b"\x00" + quiet + modules.translate(_MODULE_BYTE) + quiet
        scanlines.extend([line] * scale)
    scanlines.extend([light] * (border * scale))
    size = width * scale
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(scanlines), 6))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
