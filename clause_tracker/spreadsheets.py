"""Text that goes into CSV and XLSX files stays text: never a formula, never a broken file.

Counterparties are shared between units, so a name typed by one unit's officer reaches
other units' and the auditors' exports. A spreadsheet runs a cell beginning with
= + - @ (or a tab or carriage return before them) as a formula: `=HYPERLINK(…)` can send
the neighbouring cells to a web address when the file is opened. So, as OWASP's "CSV
Injection" advises:
- CSV: such a text gets a leading apostrophe (spreadsheets show the text, run nothing);
- XLSX: every text cell is written as a string cell, never a formula. openpyxl would
  store a text beginning with "=" as a formula.
Characters XML cannot hold (control characters) are dropped from XLSX cells; openpyxl
would refuse the whole file for one of them.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text cell for CSV, neutralised when a spreadsheet would run it."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def xlsx_value(value: Any, sheet: Worksheet) -> Any:
    """A value for sheet.append(): texts as string cells, anything else as it is."""
    if not isinstance(value, str):
        return value
    # Only the texts openpyxl would not store as a string need a cell of their own: a cell
    # object costs ~5 µs, about 5 s for the texts of a 120,000-row list (measured).
    if not value.startswith("=") and value not in ERROR_CODES and \
            not ILLEGAL_CHARACTERS_RE.search(value):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # openpyxl makes "=…" a formula ("f"); a string it stays
    return cell
