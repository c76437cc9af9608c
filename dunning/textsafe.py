"""Text from files stays text in every file the desk writes (spreadsheets and CSV).

A customer name is whatever a customer's ERP or a clerk typed: `=HYPERLINK(...)` must never run
in Excel or WPS. XLSX cells are written as strings (never formulas) and CSV fields a spreadsheet
would evaluate get the apostrophe OWASP recommends. Letters, the terminal and JSON print the
exact value; only spreadsheet files go through this module.
"""

from __future__ import annotations

import re
from typing import Any

# Characters XML 1.0 cannot hold at all (openpyxl raises IllegalCharacterError on the first
# three ranges; lxml refuses the rest). Tab, LF and CR are legal.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XML_REPLACEMENT = "\ufffd"
# What makes Excel, WPS or LibreOffice treat a CSV field as a formula (OWASP "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_GUARD = "'"


def xml_text(value: str) -> str:
    """`value` with characters XML cannot store replaced by U+FFFD (visible, not silent)."""
    return _XML_ILLEGAL.sub(XML_REPLACEMENT, value)


def csv_field(value: object) -> str:
    """A CSV field a spreadsheet shows as text: a leading = + - @ tab or CR gets an apostrophe."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return CSV_GUARD + text
    return text


def csv_value(field: str) -> str:
    """The original value of a field written by `csv_field` (for tests and re-import)."""
    if field.startswith(CSV_GUARD) and field[1:].startswith(_FORMULA_START):
        return field[1:]
    return field


def put_text(cell: Any, value: str) -> None:
    """Set an openpyxl cell to `value` as a string: never a formula, never an XML error."""
    cell.value = xml_text(value)
    # openpyxl marks any string starting with "=" as a formula ('f'); "s" writes it as text.
    cell.data_type = "s"
