"""The QR code PNG: pixel-for-pixel what segno itself draws for the same code."""

from __future__ import annotations

import io

import pytest
import segno
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image
from tooling import examples

from dunning.letters import qr
from dunning.letters.qr import BORDER, MASK, SCALE, _Affine, qr_png


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


def _segno_rows(text: str) -> list[bytes]:
    return [bytes(row) for row in segno.make(text, error="m", micro=False, mask=MASK).matrix]


# References as configured desks write them, and texts that must go through segno itself:
# all digits (numeric mode), lower case and Chinese (byte mode), empty pairs at the end.
_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:" + "az催"


@settings(max_examples=examples(200), deadline=None)
@given(
    st.one_of(
        st.text(alphabet=_CHARS[:45], min_size=1, max_size=40),  # the learnt form's
        st.text(alphabet=_CHARS, min_size=1, max_size=40),
    )
)
@example("DN-2025-000123")
@example("2025000123")  # numeric mode
@example("催款-2025-000001")  # byte mode
def test_every_code_is_segnos_module_for_module(text: str) -> None:
    fast = _Affine.rows_of(text)
    alphanumeric = all(char in _CHARS[:45] for char in text) and not text.isdigit()
    assert (fast is not None) == alphanumeric  # the learnt form serves every reference
    if fast is not None:
        assert fast == _segno_rows(text)
    ours = Image.open(io.BytesIO(qr_png(text))).convert("L")
    assert ours.size == ((len(_segno_rows(text)) + 2 * BORDER) * SCALE,) * 2


def test_a_length_whose_learnt_form_disagrees_with_segno_is_left_to_segno(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = qr._segno_matrix

    def off_by_one_module(text: str) -> tuple[int, int, tuple[object, object]]:
        matrix, width, shape = real(text)
        return (matrix ^ 1 if text.startswith(":") else matrix), width, shape

    monkeypatch.setattr(qr, "_segno_matrix", off_by_one_module)
    qr._affine.cache_clear()
    try:
        assert qr._affine(17) is None
        assert _Affine.rows_of("DN-2025-000123456") is None  # segno's own, then
    finally:
        qr._affine.cache_clear()


def test_one_code_is_segnos_and_a_pack_learns_the_form_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Learning a length's form costs dozens of codes: one letter never pays for it, a pack
    (`expect`) learns it at its first code."""
    from collections import Counter

    learnt: list[str] = []
    real = qr._segno_matrix

    def counted(text: str) -> tuple[int, int, tuple[object, object]]:
        learnt.append(text)
        return real(text)

    monkeypatch.setattr(qr, "_segno_matrix", counted)
    monkeypatch.setattr(qr, "_ASKED", Counter())
    qr._affine.cache_clear()
    qr_png.cache_clear()
    try:
        one = qr_png("ZZ-2030-000001")
        assert learnt == []  # segno made it, nothing learnt
        qr.expect(["ZZ-2030-000002", "ZZ-2030-000003"])
        two = qr_png("ZZ-2030-000002")
        assert len(learnt) > 70  # the form of 14 characters, learnt from segno
        assert two != one
        reference = io.BytesIO()
        segno.make("ZZ-2030-000002", error="m", micro=False, mask=MASK).save(
            reference, kind="png", scale=SCALE, border=BORDER
        )
        theirs = Image.open(io.BytesIO(reference.getvalue())).convert("L").tobytes()
        assert Image.open(io.BytesIO(two)).convert("L").tobytes() == theirs
    finally:
        qr._affine.cache_clear()
        qr_png.cache_clear()
