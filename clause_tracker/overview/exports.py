"""CSV and XLSX: the overview's tables and the registry list with its current filters.

German headers and German number formats whatever the user's language (the files go to
German spreadsheets). CSV uses ';' and a UTF-8 byte order mark, which German Excel needs to
open it correctly by double-click; numbers carry a decimal comma and no thousands separator.
Every text goes through spreadsheets.py: never a formula, in CSV or in XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from clause_tracker.agreements.labels import KIND_LABELS, STATUS_LABELS
from clause_tracker.agreements.models import Agreement
from clause_tracker.auth.models import User
from clause_tracker.compliance.labels import REASON_TEXTS, STATE_LABELS
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.extensions import db
from clause_tracker.i18n import format_money
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.overview.tables import DATE, INT, MONEY, PCT, TEXT, Cell, Table
from clause_tracker.registry.queries import ListFilter, filtered
from clause_tracker.spreadsheets import Column, XlsxBook, csv_text

BOM = "\ufeff"
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_cell(cell: Cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, date):  # the DATE cells
        return value.strftime("%d.%m.%Y")
    if cell.kind == INT:
        return str(int(value))
    if cell.kind == MONEY:
        return format_money(Decimal(value), locale="de", symbol=False, grouping=False)
    if cell.kind == PCT:
        return format_decimal(value, "0.0", locale="de")
    return csv_text(str(value))


def _csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    yield BOM
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def tables_csv(tables: list[Table]) -> str:
    def rows() -> Iterator[list[str]]:
        for table in tables:
            yield [csv_text(table.title)]
            yield [csv_text(column) for column in table.columns]
            for row in table.rows:
                yield [csv_cell(cell) for cell in row]
            yield []

    with force_locale("de"):
        return "".join(_csv_lines(rows()))


# What each sheet holds, in a name that fits Excel's 31 characters in either language
# (tests/test_xlsx_exports.py checks them); the table's full title is the sheet's first row.
SHEET_NAMES = {
    "coverage_by_unit": _l("Coverage by unit"),
    "coverage_by_unit_type": _l("Coverage by type of unit"),
    "coverage_by_kind": _l("Coverage by kind"),
    "clause_attached_verified": _l("Clause attached and verified"),
    "trend": _l("Coverage by quarter"),
    "declarations": _l("Declarations"),
    "exemptions": _l("Exemptions"),
    "clause_versions": _l("Clause versions"),
    "checks": _l("Compliance checks"),
    "measures": _l("Measures"),
    "exclusions": _l("Exclusions in force"),
    "complaints": _l("Complaints"),
}


def _column_kinds(table: Table) -> list[str]:
    """Each column's kind: that of its first filled cell (a column holds one kind)."""
    kinds = []
    for index in range(len(table.columns)):
        kind = TEXT
        for row in table.rows:
            if index < len(row) and row[index].value is not None:
                kind = row[index].kind
                break
        kinds.append(kind)
    return kinds


def tables_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table: its title, a header row (frozen, with an autofilter), the rows
    with number and date formats."""
    book = XlsxBook()
    for table in tables:
        columns = [Column(str(header), kind)
                   for header, kind in zip(table.columns, _column_kinds(table), strict=True)]
        sheet = book.sheet(str(SHEET_NAMES.get(table.key, table.title)), columns,
                           title=table.title)
        for row in table.rows:
            sheet.append([cell.value for cell in row])
    return book.to_bytes()


# --- the registry list ------------------------------------------------------------------------

LIST_COLUMNS = [_l("Reference"), _l("Kind"), _l("Subject"), _l("Contractor or grantee"),
                _l("Value"), _l("Unit"), _l("Status"), _l("Date of decision"),
                _l("Compliance"), _l("Reason")]


def list_rows(user: User, flt: ListFilter, day: date) -> Iterator[tuple]:
    """Every agreement of the filtered list (not just one page), in the list's order by
    reference, as plain columns streamed from the database."""
    stmt, columns = filtered(user, flt, day)
    stmt = stmt.join(OrgUnit, OrgUnit.id == Agreement.org_unit_id).with_only_columns(
        Agreement.reference, Agreement.kind, Agreement.subject, Counterparty.name,
        Agreement.value, OrgUnit.code, Agreement.status, Agreement.decided_on,
        columns.state, columns.reason,
    ).order_by(Agreement.reference, Agreement.id).execution_options(yield_per=2000)
    for row in db.session.execute(stmt):
        yield tuple(row)


class _Labels:
    """Row values with their codes in words. Each code is translated once per export (in
    the locale active at the first lookup), not once per row: at 120,000 rows four lookups
    a row through the lazy strings were a quarter of the export's time."""

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}
        self.statuses: dict[str, str] = {}
        self.states: dict[str, str] = {}
        self.reasons: dict[str, str] = {}

    def __call__(self, row: tuple) -> list[Any]:
        reference, kind, subject, party, value, unit, status, decided, state, reason = row
        return [reference, _word(self.kinds, KIND_LABELS, kind), subject, party or "",
                value, unit, _word(self.statuses, STATUS_LABELS, status), decided,
                _word(self.states, STATE_LABELS, state), _word(self.reasons, REASON_TEXTS, reason)]


def _word(known: dict[str, str], labels: dict, code: str) -> str:
    word = known.get(code)
    if word is None:
        word = known[code] = str(labels.get(code, code))
    return word


def list_csv(user: User, flt: ListFilter, day: date) -> Iterator[str]:
    """Rows are read from the database in batches (yield_per), not loaded at once."""
    def rows() -> Iterator[list[str]]:
        with force_locale("de"):
            yield [str(c) for c in LIST_COLUMNS]
            labels = _Labels()
            for row in list_rows(user, flt, day):
                values = labels(row)
                value, decided = values[4], values[7]
                values[4] = format_money(value, locale="de", symbol=False, grouping=False)
                values[7] = decided.strftime("%d.%m.%Y") if decided else ""
                yield [v if i in (4, 7) else csv_text(str(v)) for i, v in enumerate(values)]

    return _csv_lines(rows())


LIST_KINDS = [TEXT, TEXT, TEXT, TEXT, MONEY, TEXT, TEXT, DATE, TEXT, TEXT]
LIST_WIDTHS = [18, 14, 50, 36, 16, 10, 14, 12, 22, 48]


def list_xlsx(user: User, flt: ListFilter, day: date) -> bytes:
    """Streamed: rows from the database in batches, each written and let go (XlsxWriter's
    constant-memory mode). Fixed widths: the columns hold the same kind of text in any list."""
    book = XlsxBook()
    with force_locale("de"):
        columns = [Column(str(header), kind, width) for header, kind, width
                   in zip(LIST_COLUMNS, LIST_KINDS, LIST_WIDTHS, strict=True)]
        sheet = book.sheet(str(_l("Contracts and grants")), columns)
        labels = _Labels()
        for row in list_rows(user, flt, day):
            sheet.append(labels(row))
    return book.to_bytes()
