"""How wide a text shows: shared by the terminal tables and the spreadsheet columns."""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Columns a text takes on a terminal or in a spreadsheet: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
