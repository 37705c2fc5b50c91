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

Exports are written with XlsxBook (row by row, in constant memory): formats per
column (amounts `#,##0.00 "€"`, dates as date cells `DD.MM.YYYY`), widths, a frozen header
row and an autofilter. xlsx_value stays for code that writes with openpyxl.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
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


# --- streamed XLSX with formats ---------------------------------------------------------------

# Column kinds (the overview's tables use the same words).
TEXT, INT, MONEY, PCT, DATE = "text", "int", "money", "pct", "date"
# Excel's format codes are locale-free: a German Excel or LibreOffice shows 1.234,56 €.
MONEY_FORMAT = '#,##0.00 "€"'
PCT_FORMAT = '0.0 "%"'  # the values are percentages already (85.3)
INT_FORMAT = "#,##0"
DATE_FORMAT = "DD.MM.YYYY"
SHEET_NAME_MAX = 31
_EPOCH = date(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug lies before 1.3.1900)
_WIDTH_SAMPLE = 500  # rows whose lengths size the columns
_MIN_WIDTH, _MAX_WIDTH = 8, 60


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: float | None = None  # in characters; None: from the header and the first rows


def sheet_name(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\, unique. The names
    given should fit already (they say what the sheet holds); a longer one is cut at a word."""
    clean = " ".join("".join(ch for ch in name if ch not in "[]:*?/\\'").split()) or "Tabelle"
    if len(clean) > SHEET_NAME_MAX:
        clean = clean[:SHEET_NAME_MAX].rsplit(" ", 1)[0]
    candidate, n = clean, 2
    while candidate.casefold() in used:
        suffix = f" ({n})"
        candidate, n = clean[:SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    used.add(candidate.casefold())
    return candidate


class XlsxBook:
    """A workbook written row by row into its ZIP, with number and date formats per column,
    column widths, a frozen header row and an autofilter; texts are string cells, always.

    Written here rather than through XlsxWriter or openpyxl: the registry's export of
    120,000 agreements (1.2 million cells) took 18 s with openpyxl's write-only mode and
    7 s of cell writing with XlsxWriter's constant-memory mode (about 7 µs per cell), where
    the CSV of the same rows takes 2–4 s in all (bench/bench_exports.py). A row here is one
    joined string of inline-string and number cells (SpreadsheetML, ECMA-376 part 1 § 18),
    deflated as it is written: the first rows are held to size the columns, the rest go
    straight into the ZIP, so memory stays flat however long the list.
    """

    def __init__(self) -> None:
        self._out = io.BytesIO()
        # Level 1: the sheet's XML is repetitive; level 6 took a second more for 3 % less.
        self._zip = zipfile.ZipFile(self._out, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._names: set[str] = set()
        self._sheets: list[XlsxSheet] = []

    def sheet(self, name: str, columns: list[Column], title: str | None = None) -> XlsxSheet:
        """A new sheet: `title` (optional) in bold in the first row, then the header row."""
        if self._sheets:
            self._sheets[-1].finish()
        sheet = XlsxSheet(self._zip, len(self._sheets) + 1, sheet_name(name, self._names),
                          columns, title)
        self._sheets.append(sheet)
        return sheet

    def to_bytes(self) -> bytes:
        if not self._sheets:
            self.sheet("Tabelle", [])
        self._sheets[-1].finish()
        count = len(self._sheets)
        write = self._zip.writestr
        write("[Content_Types].xml", _CONTENT_TYPES.format(sheets="".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_SHEET_TYPE}"/>'
            for n in range(1, count + 1))))
        write("_rels/.rels", _ROOT_RELS)
        write("docProps/app.xml", _APP)
        write("xl/styles.xml", _STYLES)
        write("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(sheets="".join(
            f'<Relationship Id="rId{n}" Type="{_SHEET_REL}" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, count + 1)), styles=count + 1))
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
            f"{_attr(_quoted(sheet.name))}!{sheet.filter_range(absolute=True)}</definedName>"
            for n, sheet in enumerate(self._sheets) if sheet.filter_range())
        write("xl/workbook.xml", _WORKBOOK.format(
            sheets="".join(f'<sheet name="{_attr(sheet.name)}" sheetId="{n}" r:id="rId{n}"/>'
                           for n, sheet in enumerate(self._sheets, start=1)),
            names=f"<definedNames>{filters}</definedNames>" if filters else ""))
        self._zip.close()
        return self._out.getvalue()


class XlsxSheet:
    def __init__(self, archive: zipfile.ZipFile, number: int, name: str,
                 columns: list[Column], title: str | None) -> None:
        self.name = name
        self._archive, self._number, self._columns = archive, number, columns
        self._title = title
        self._header_row = 2 if title is not None else 1  # 1-based, as in the file
        self._rows = self._header_row  # rows written so far, the header included
        self._held: list[str] | None = []  # the first rows, until the widths are known
        self._stream: Any = None
        self._widths = [len(column.header) + 2 for column in columns]
        self._cells = [_CELL_WRITERS[column.kind] for column in columns]
        self._finished = False

    def append(self, values: list[Any] | tuple[Any, ...]) -> None:
        cells = self._cells
        row = "<row>" + "".join(
            "<c/>" if value is None or value == "" else cells[col](value)
            for col, value in enumerate(values)) + "</row>"
        self._rows += 1
        held = self._held
        if held is None:
            self._stream.write(row.encode())
            return
        held.append(row)
        widths = self._widths
        for col, value in enumerate(values):
            if value is not None:
                length = len(_shown(value))
                if length > widths[col]:
                    widths[col] = length
        if len(held) >= _WIDTH_SAMPLE:
            self._start()

    def filter_range(self, absolute: bool = False) -> str:
        if not self._columns:
            return ""
        last = _column_letter(len(self._columns))
        if absolute:
            return f"$A${self._header_row}:${last}${self._rows}"
        return f"A{self._header_row}:{last}{self._rows}"

    def _start(self) -> None:
        """The sheet's head (views, widths) and the rows held so far, into the ZIP."""
        held, self._held = self._held or [], None
        widths = "".join(
            f'<col min="{n}" max="{n}" width="{self._width(n - 1)}" customWidth="1"/>'
            for n in range(1, len(self._columns) + 1))
        top = _column_letter(1) + str(self._header_row + 1)
        selected = ' tabSelected="1"' if self._number == 1 else ""
        head = [_SHEET_HEAD.format(
            views=f'<sheetViews><sheetView workbookViewId="0"{selected}>'
                  f'<pane ySplit="{self._header_row}" topLeftCell="{top}" activePane="bottomLeft" '
                  f'state="frozen"/><selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
                  "</sheetView></sheetViews>",
            cols=f"<cols>{widths}</cols>" if widths else "")]
        if self._title is not None:
            head.append(f'<row><c t="inlineStr" s="{_TITLE}"><is><t xml:space="preserve">'
                        f"{_text(self._title)}</t></is></c></row>")
        head.append("<row>" + "".join(
            f'<c t="inlineStr" s="{_HEADER}"><is><t xml:space="preserve">{_text(c.header)}'
            "</t></is></c>" for c in self._columns) + "</row>")
        self._stream = self._archive.open(f"xl/worksheets/sheet{self._number}.xml", "w",
                                          force_zip64=True)
        self._stream.write("".join(head + held).encode())

    def _width(self, index: int) -> float:
        given = self._columns[index].width
        return given or min(max(self._widths[index] + 1, _MIN_WIDTH), _MAX_WIDTH)

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._held is not None:
            self._start()
        tail = "</sheetData>"
        if self._columns:
            tail += f'<autoFilter ref="{self.filter_range()}"/>'
        self._stream.write((tail + _SHEET_TAIL).encode())
        self._stream.close()


def _text(value: str) -> str:
    """A text for an inline-string cell: escaped for XML, without what XML cannot hold."""
    if _SPECIAL.search(value):
        value = _NOT_XML.sub("", value)[:32767]  # Excel's limit per cell
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        value = value.replace("\r", "&#13;")
    return value


def _attr(value: str) -> str:
    return _text(value).replace('"', "&quot;")


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text_cell(value: Any) -> str:
    return f'<c t="inlineStr"><is><t xml:space="preserve">{_text(str(value))}</t></is></c>'


def _number_cell(style: int) -> Callable[[Any], str]:
    def cell(value: Any) -> str:
        if isinstance(value, str):
            return _text_cell(value)
        if isinstance(value, Decimal):
            value = float(value)  # str() of a Decimal may be "1E+3"; a float never is
        return f'<c s="{style}"><v>{value!r}</v></c>'
    return cell


def _date_cell(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f'<c s="{_DATE}"><v>{(value - _EPOCH).days}</v></c>'
    return _text_cell(value)


# The styles' order in _STYLES' cellXfs.
_MONEY, _PCT, _INT, _DATE, _HEADER, _TITLE = 1, 2, 3, 4, 5, 6
_CELL_WRITERS: dict[str, Callable[[Any], str]] = {
    TEXT: _text_cell, MONEY: _number_cell(_MONEY), PCT: _number_cell(_PCT),
    INT: _number_cell(_INT), DATE: _date_cell}
# What a text needs done to it: XML's special characters, control characters, or length.
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff]|.{32768}",
                      re.DOTALL)
# What XML 1.0 cannot hold at all: control characters, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_SHEET_REL = f"{_REL}/worksheet"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.extended-properties+xml"/>{sheets}</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>")
_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-'
    'properties"><Application>Klausel-Tracker</Application></Properties>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '{sheets}<Relationship Id="rId{styles}" Type="' + _REL + '/styles" Target="styles.xml"/>'
    "</Relationships>")
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
    "<sheets>{sheets}</sheets>{names}</workbook>")
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN}"><numFmts count="3">'
    f'<numFmt numFmtId="164" formatCode="{MONEY_FORMAT.replace(chr(34), "&quot;")}"/>'
    f'<numFmt numFmtId="165" formatCode="{PCT_FORMAT.replace(chr(34), "&quot;")}"/>'
    f'<numFmt numFmtId="166" formatCode="{DATE_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/>'
    "</border></borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" '
    'applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Standard" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>")
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
    '{views}<sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>')
_SHEET_TAIL = '<pageMargins left="0.7" right="0.7" top="0.78" bottom="0.78" header="0.3" ' \
    'footer="0.3"/></worksheet>'


def _clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _shown(value: Any) -> str:
    """About as wide as the cell will show the value."""
    if isinstance(value, date):
        return "00.00.0000"
    if isinstance(value, float | Decimal | int) and not isinstance(value, bool):
        return f"{value:,.2f} €"
    return str(value)
