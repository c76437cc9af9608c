"""Chinese page text: normalisation for search, and a score that spots garbled extraction.

Normalisation decisions (search must pass queries through `normalize_text` too):

- Whitespace between two CJK characters is removed: pypdf spaces out CJK glyphs and breaks
  lines mid-phrase. A line break survives only after a sentence or field terminator
  (。！？；： and closing brackets) or as a paragraph break (a blank line), so form fields
  such as "（甲方）\\n山东省商业部" keep their boundary.
- Full-width Latin letters, digits and ASCII symbols fold to half-width (ＨＴ－２０２５ →
  HT-2025) so contract numbers and amounts match what clerks type. The full-width forms that
  are ordinary Chinese punctuation (，：；！？（）) are kept: folding them would turn every
  Chinese sentence into ASCII punctuation and make "甲方：" unsearchable as typed.
- Other compatibility characters that broken PDF fonts emit (Kangxi radicals such as ⽇,
  CJK compatibility ideographs, Latin ligatures) are folded with NFKC. Circled numbers and
  squared units (①, ㎡) are left alone: NFKC would turn them into plain digits ("m2").
- Control characters and zero-width characters are dropped; runs of spaces collapse to one.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

_TERMINATORS = frozenset("。！？；：）】》」』〉!?;:")
# Full-width forms that are real Chinese punctuation and therefore kept as they are.
_KEPT_FULLWIDTH = frozenset("，：；！？（）")
# Ranges whose NFKC form is safe to index (see the module docstring).
_FOLD_RANGES = (
    (0xFF01, 0xFF5E),  # full-width ASCII
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals (⽇ → 日)
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x2F800, 0x2FA1F),
    (0xFB00, 0xFB06),  # Latin ligatures (ﬁ)
    (0xFF61, 0xFFEE),  # half-width katakana and forms
)
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_SPACE_LIKE = "\t\f\v\u00a0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x1c-\x1e\x85]")
_SPACES = re.compile(r" {2,}")
_LINE_EDGES = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# A whitespace run with a CJK character on each side; group 1 is the run itself.
_CJK_CLASS = (
    "\u2e80-\u2fdf\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u3200-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe4f\uff01-\uff60\U00020000-\U0003134f"
)
_CJK_GAP = re.compile(f"(?<=[{_CJK_CLASS}])([ \\n]+)(?=[{_CJK_CLASS}])")


@cache
def _clean_table() -> dict[int, str | None]:
    """One str.translate table: fold safe compatibility forms, drop controls, unify spaces."""
    table: dict[int, str | None] = {}
    for low, high in _FOLD_RANGES:
        for cp in range(low, high + 1):
            folded = unicodedata.normalize("NFKC", chr(cp))
            if folded != chr(cp) and chr(cp) not in _KEPT_FULLWIDTH:
                table[cp] = folded
    # Control characters and lone surrogates carry nothing searchable.
    for cp in (*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000)):
        table[cp] = None
    table.update({ord(ch): None for ch in _ZERO_WIDTH})
    table.update({ord(ch): " " for ch in _SPACE_LIKE})
    table[ord("\n")] = "\n"
    return table


def _close_cjk_gap(match: re.Match[str]) -> str:
    run = match.group(1)
    if "\n" not in run:
        return ""
    if run.count("\n") >= 2:
        return "\n\n"
    before = match.string[match.start() - 1]
    return "\n" if before in _TERMINATORS else ""


def normalize_text(s: str) -> str:
    """Text as it should be indexed and matched: see the module docstring for each rule."""
    s = _NEWLINES.sub("\n", s)
    # NFC after folding: a fold can bring a base letter next to a combining mark.
    s = unicodedata.normalize("NFC", s.translate(_clean_table()))
    s = _SPACES.sub(" ", s)
    s = _LINE_EDGES.sub("\n", s)
    s = _CJK_GAP.sub(_close_cjk_gap, s)
    s = _MANY_NEWLINES.sub("\n\n", s)
    return s.strip("\n ")


@cache
def _common_han() -> tuple[frozenset[str], frozenset[str]]:
    """(frequent, less frequent) Han characters, taken from the national standard charsets.

    GB 2312 level 1 (3,755 characters, chosen by frequency) and Big5 常用字 (5,401) are the
    frequent set; GB 2312 level 2 and Big5 次常用字 are the less frequent set. They come
    from Python's own codecs, so no list is embedded. A broken ToUnicode map lands on
    arbitrary code points, which are mostly outside both sets (哾, 㦓).
    """
    frequent: set[str] = set()
    less: set[str] = set()
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            ch = _decode(bytes((hi, lo)), "gb2312")
            if ch:
                (frequent if hi < 0xD8 else less).add(ch)
    for hi in range(0xA4, 0xFA):
        for lo in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            ch = _decode(bytes((hi, lo)), "big5")
            if ch and "\u4e00" <= ch <= "\u9fff":
                (frequent if (hi, lo) <= (0xC6, 0x7E) else less).add(ch)
    return frozenset(frequent), frozenset(less - frequent)


@cache
def _han_drop_tables() -> tuple[dict[int, None], dict[int, None]]:
    """str.translate tables deleting the frequent / less frequent sets: counting at C speed."""
    frequent, less = _common_han()
    return {ord(ch): None for ch in frequent}, {ord(ch): None for ch in less}


def _decode(raw: bytes, codec: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return ""


_WHITESPACE = re.compile(r"\s+")
_HAN_BASIC = re.compile(r"[\u4e00-\u9fff]+")
_HAN_ANY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_HAN_REPEAT = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff])(?=\1)")
_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff])\1{2,}")
# Below this many ideographs a couple of genuine doubles (谢谢, 常常) would weigh too much.
_REPEAT_SAMPLE = 30
# Characters that belong in a Chinese business page besides Han: ASCII, CJK and full-width
# punctuation, circled numbers, ㈠, ㎡, Roman numerals and a few common symbols.
_FINE = re.compile(
    "[\x21-\x7e\u3001-\u303f\uff01-\uff5e\ufe30-\ufe4f\u2460-\u24ff\u3200-\u33ff"
    "\u2160-\u217f×÷°·¥£€§©®±µ¼½¾™…‰—–‘’“”•※℃№Ω]"
)
# Accented Latin and Greek: real in names and units, but also what GB bytes read as Latin-1
# look like, so they count for less (the Latin-1 run check catches the mojibake itself).
_SOFT = re.compile("[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0391-\u03c9]")
_LATIN1_RUN = re.compile(r"[\u00a1-\u00ff]{2,}")
_LATIN_WORD = re.compile(r"[A-Za-z]{4,}")
_CASE_FLIP = re.compile(r"[a-z][A-Z]")


def common_han(page_text: str) -> float:
    """How many real Chinese characters the text holds (rare ones count partly, junk not)."""
    han = "".join(_HAN_BASIC.findall(page_text))
    drop_frequent, drop_less = _han_drop_tables()
    rest = han.translate(drop_frequent)
    less = len(rest) - len(rest.translate(drop_less))
    return (len(han) - len(rest)) + 0.6 * less


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(text) - len(pattern.sub("", text))


def _latin_junk(text: str) -> int:
    """Letters in words whose case flips twice or more ("DaAEYERbEoE"): not words, not codes."""
    return sum(
        len(word) for word in _LATIN_WORD.findall(text) if len(_CASE_FLIP.findall(word)) >= 2
    )


@dataclass(frozen=True)
class PageScore:
    """The parts of a page's quality score, kept apart so a failed page can be explained."""

    chars: int  # non-whitespace characters
    plausible: float  # weighted share of plausible characters, 0..1
    han: int  # CJK unified ideographs
    han_common: float  # weighted share of frequent ideographs among them, 0..1
    repeats: float  # weighted share of ideographs repeating the one before (see _repeats)
    mojibake: float  # share of characters in runs of Latin-1 letters (GB bytes read as Latin-1)
    latin_junk: float  # share of characters in case-scrambled Latin words (OCR of boxes)

    @property
    def quality(self) -> float:
        """One number, 0 (garbage) to 1 (clean): the weakest part decides."""
        if self.chars == 0:
            return 0.0
        han_part = self.han_common if self.han >= 2 else 1.0
        repeat_part = 1.0 - min(1.0, max(0.0, self.repeats - 0.03) * 4)
        worst = min(self.plausible, han_part, repeat_part)
        return max(0.0, worst - self.mojibake - self.latin_junk)


def _repeats(chars: str, han: int) -> float:
    """Runs of three or more of one ideograph ("佛佛佛佛") count fully, doubles a quarter.

    Chinese has genuine doubles (谢谢, 常常, 刘潇潇) but practically no triples; a font
    whose ToUnicode map sends many glyphs to one code point produces long runs.
    """
    if not han:
        return 0.0
    long_runs = sum(len(m.group()) - 1 for m in _HAN_RUN.finditer(chars))
    doubles = len(_HAN_REPEAT.findall(chars)) - long_runs
    return (long_runs + 0.25 * doubles) / max(han, _REPEAT_SAMPLE)


def score_text(text: str) -> PageScore:
    """Score one page of extracted text."""
    chars = _WHITESPACE.sub("", text)
    n = len(chars)
    if not n:
        return PageScore(0, 0.0, 0, 0.0, 0.0, 0.0, 0.0)
    han = _count(_HAN_ANY, chars)
    han_weight = common_han(chars)
    plausible = _count(_FINE, chars) + han_weight + 0.7 * _count(_SOFT, chars)
    latin1 = sum(len(m) for m in _LATIN1_RUN.findall(chars))
    return PageScore(
        chars=n,
        plausible=min(1.0, plausible / n),
        han=han,
        han_common=han_weight / han if han else 1.0,
        repeats=_repeats(chars, han),
        mojibake=latin1 / n,
        latin_junk=_latin_junk(text) / n,
    )


def text_quality(page_text: str) -> float:
    """0 (garbage or empty) to 1 (clean text)."""
    return score_text(page_text).quality


def text_merit(page_text: str) -> float:
    """Quality times the amount of text, Chinese counted double: which of two readings wins."""
    han = _count(_HAN_BASIC, page_text)
    other = sum(1 for ch in page_text if ch.isalnum()) - han
    return text_quality(page_text) * (common_han(page_text) + 0.5 * other)


_GB_MOJIBAKE = re.compile(r"[\u00a1-\u00fe](?:[\u00a1-\u00fe \u00ad]*[\u00a1-\u00fe\u00ad])?")


def repair_gb_mojibake(raw: str) -> str:
    """Undo GB 2312 bytes shown as Latin-1 ("¹ØÓÚºì¾ü" → "关于红军").

    Non-embedded Chinese fonts declared WinAnsi make every extractor show each GB byte as a
    Latin-1 letter. A run is replaced only when its bytes decode as GB 2312 entirely into
    characters of the national charsets, so real accented Latin text is left alone.
    """
    frequent, less = _common_han()

    def fix(match: re.Match[str]) -> str:
        run = match.group()
        raw_bytes = run.replace(" ", "").encode("latin-1")
        if len(raw_bytes) % 2:
            return run
        decoded = _decode(raw_bytes, "gb2312")
        han = [ch for ch in decoded if "\u4e00" <= ch <= "\u9fff"]
        if not decoded or any(ch not in frequent and ch not in less for ch in han):
            return run
        return decoded

    return _GB_MOJIBAKE.sub(fix, raw)


MIN_CHARS = 3
MIN_QUALITY = 0.75
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def has_letters(text: str, at_least: int) -> bool:
    """Whether `text` holds at least this many letters or digits (stops counting there)."""
    found = _LETTER_OR_DIGIT.finditer(text)
    return sum(1 for _ in itertools.islice(found, at_least)) >= at_least


def is_usable(page_text: str) -> bool:
    """Whether a page's text is worth indexing as it is, rather than sending it to OCR."""
    if not has_letters(page_text, MIN_CHARS):
        return False
    return score_text(page_text).quality >= MIN_QUALITY
