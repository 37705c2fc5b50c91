"""Importing contracts or grants from CSV or XLSX: every row is checked first, then all rows
are saved in one transaction, or none.

- CSV: UTF-8 (a BOM is fine), `;` or `,` as delimiter (sniffed from the header line).
- XLSX: the first sheet, read with openpyxl in read-only mode (streamed), after the same
  package checks as a DOCX (sizes, compression ratio, parts, DTD, macros; IMPORT_MAX_*).
  The sheet's declared dimension is ignored (a file may claim A1:XFD1048576 for one
  cell); at most MAX_COLUMNS columns and MAX_LINES lines are read.
- Headers: the form's labels in German or English (CONTRACT_COLUMNS, GRANT_COLUMNS; the
  template of the import page has them), and older names as aliases; case, spaces and
  punctuation do not matter. Unknown headers are errors.
- Errors name the column's label, the line, what is wrong and what is expected, in the
  user's language; unusual values (an amount above PLAUSIBLE_MAX_AMOUNT or of 0, a decision
  in the future) are warnings, shown before the import, never a reason to refuse it.
- German formats: 1.234,56 and 05.03.2026 (ISO dates are accepted too).
- Every imported record is a draft of its unit; the lifecycle (clause, declaration, award)
  runs in the app, with its rules.
- Idempotent: a row whose reference is already registered (same kind) is SKIPPED and
  reported as such; nothing existing is overwritten. Importing the same file again changes
  nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clause_tracker.agreements.labels import CONTRACT_KIND_LABELS, PROCEDURE_LABELS
from clause_tracker.agreements.models import (
    CONTRACT,
    CONTRACT_KINDS,
    PROCEDURES,
    Agreement,
    ImportJob,
)
from clause_tracker.audit.services import record as audit
from clause_tracker.auth.models import User
from clause_tracker.clock import today, utcnow
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.documents import DocumentRejected
from clause_tracker.documents.ingest import Limits, check_bytes
from clause_tracker.extensions import db
from clause_tracker.german_fields import (
    MAX_AMOUNT,
    PLAUSIBLE_MAX_AMOUNT,
    AmountTooLarge,
    parse_amount,
)
from clause_tracker.i18n import format_money
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.spreadsheets import DATE, MONEY, TEXT, Column, XlsxBook, csv_text
from clause_tracker.sql import insert_with_ids
from clause_tracker.transaction import transactional
from clause_tracker.versioning import RefusedChange

MAX_ROWS = 100_000
CHUNK = 1000  # rows per INSERT statement and per audit event
PROGRESS_ROWS = 2000
MAX_LINES = MAX_ROWS + 10_000  # blank lines between the rows are skipped, not counted
MAX_COLUMNS = 64
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted workbook, or an old .xls
# Control characters but tab and line breaks: nothing anyone types, and PostgreSQL
# refuses NUL in text.
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


_NOT_WORD = re.compile(r"[^0-9a-z]+")


def _norm(text: str) -> str:
    """A header or a value as compared: case, accents, spaces and punctuation left aside
    ("Geschätzter Auftragswert (in €)" and "geschaetzter_auftragswert_in_eur" are one)."""
    folded = (text.strip().casefold().replace("ä", "ae").replace("ö", "oe")
              .replace("ü", "ue").replace("ß", "ss").replace("€", "eur"))
    return _NOT_WORD.sub("_", folded).strip("_")


class _Joined:
    """Labels joined when shown (lazily, in the reader's language)."""

    def __init__(self, parts: tuple[Any, ...]) -> None:
        self.parts = parts

    def __str__(self) -> str:
        return ", ".join(str(part) for part in self.parts)


@dataclass(frozen=True)
class ImportColumn:
    """One column of an import file: its label (the form's words, in the user's language:
    the template's header and the name errors use), the other names it is known by, and
    what the template's notes tell about it."""

    name: str  # the record's field
    label: Any  # a lazy string
    aliases: tuple[str, ...]  # older and technical names, as _norm gives them
    expects: Any  # what a value looks like (a lazy string)
    example: Any
    also: tuple[Any, ...] = ()  # further labels accepted in every language (the form's)


_AMOUNT_EXPECTED = _l("an amount in euros like 1.234,56: at most 12 digits before the "
                      "comma and 2 after it")
_DATE_EXPECTED = _l("a date like 05.03.2026")
_END_EXPECTED = _l("a date like 31.03.2028, not before the start")
_UNIT = ImportColumn("unit", _l("Unit"), ("unit", "einheit", "organisationseinheit"),
                     _l("the unit's code (such as ZVS or KIJ); empty: your own unit"), "")

CONTRACT_COLUMNS = [
    ImportColumn("reference", _l("Award number (Vergabenummer)"),
                 ("reference", "vergabenummer", "aktenzeichen"),
                 _l("text, at most 80 characters; unique among the contracts"),
                 "ZVS-2026-0815"),
    ImportColumn("subject", _l("Subject"), ("subject", "gegenstand", "leistung"),
                 _l("text, at most 2,000 characters"), _l("Cleaning of the town hall")),
    ImportColumn("contract_kind", _l("Kind of contract"),
                 ("kind", "contract_kind", "art", "leistungsart"),
                 _l("one of: %(values)s", values=_Joined(tuple(CONTRACT_KIND_LABELS.values()))),
                 CONTRACT_KIND_LABELS["services"]),
    ImportColumn("procedure", _l("Procedure"), ("procedure", "verfahren", "verfahrensart"),
                 _l("one of: %(values)s", values=_Joined(tuple(PROCEDURE_LABELS.values()))),
                 PROCEDURE_LABELS["public_tender"]),
    ImportColumn("estimated_value", _l("Estimated value in EUR"),
                 ("estimated_value", "schaetzwert", "geschaetzter_wert"),
                 _AMOUNT_EXPECTED, "50.000,00"),
    ImportColumn("value", _l("Awarded value in EUR"),
                 ("value", "awarded_value", "auftragswert", "zuschlagswert"),
                 _AMOUNT_EXPECTED, "48.750,00",
                 also=(_l("Awarded value, net of VAT, in EUR"),)),
    ImportColumn("decided_on", _l("Award date"),
                 ("award_date", "decided_on", "zuschlagsdatum", "zuschlag"),
                 _DATE_EXPECTED, "05.03.2026"),
    ImportColumn("start_date", _l("Start"), ("start", "start_date", "beginn", "laufzeit_von"),
                 _DATE_EXPECTED, "01.04.2026"),
    ImportColumn("end_date", _l("End"), ("end", "end_date", "ende", "laufzeit_bis"),
                 _END_EXPECTED, "31.03.2028"),
    ImportColumn("renewal_options", _l("Renewal options"),
                 ("renewal_options", "verlaengerungsoptionen", "optionen"),
                 _l("text, at most 1,000 characters"), _l("twice by one year")),
    ImportColumn("counterparty", _l("Contracting partner"),
                 ("counterparty", "contractor", "auftragnehmer", "vertragspartner"),
                 _l("the company's name; a new name is recorded as a new counterparty"),
                 "Muster Gebäudereinigung GmbH", also=(_l("Contractor or grantee"),)),
    _UNIT,
]
GRANT_COLUMNS = [
    ImportColumn("reference", _l("File number"), ("reference", "aktenzeichen"),
                 _l("text, at most 80 characters; unique among the grants"), "FDJB-2026-017"),
    ImportColumn("programme", _l("Programme or fund"),
                 ("programme", "program", "programm", "fonds", "foerderprogramm"),
                 _l("text, at most 200 characters"), _l("Fund for democratic education")),
    ImportColumn("subject", _l("Purpose"), ("purpose", "subject", "zweck", "zuwendungszweck"),
                 _l("text, at most 2,000 characters"), _l("Workshops at schools")),
    ImportColumn("value", _l("Amount in EUR"), ("amount", "value", "betrag", "foerdersumme"),
                 _AMOUNT_EXPECTED, "12.500,00"),
    ImportColumn("start_date", _l("Funding period from"),
                 ("start", "start_date", "foerderzeitraum_von", "beginn"),
                 _DATE_EXPECTED, "01.04.2026"),
    ImportColumn("end_date", _l("Funding period until"),
                 ("end", "end_date", "foerderzeitraum_bis", "ende"), _END_EXPECTED,
                 "31.12.2026"),
    ImportColumn("decided_on", _l("Date of the grant notice"),
                 ("decision_date", "decided_on", "bescheiddatum", "bescheid_vom"),
                 _DATE_EXPECTED, "05.03.2026"),
    ImportColumn("proof_due_on", _l("Proof of use due"),
                 ("proof_due", "proof_due_on", "verwendungsnachweis_bis",
                  "verwendungsnachweis"), _DATE_EXPECTED, "30.06.2027"),
    ImportColumn("counterparty", _l("Grantee"),
                 ("grantee", "counterparty", "zuwendungsempfaenger"),
                 _l("the organisation's name; a new name is recorded as a new counterparty"),
                 "Verein für Demokratie e. V.", also=(_l("Contractor or grantee"),)),
    _UNIT,
]
_LANGUAGES = ("de", "en")  # header names and values are accepted in every interface language


def import_columns(kind: str) -> list[ImportColumn]:
    """The columns of an import of `kind`, in the template's order."""
    return CONTRACT_COLUMNS if kind == CONTRACT else GRANT_COLUMNS


def column_label(kind: str, name: str) -> str:
    """A field's column label in the active language (what errors name)."""
    for column in import_columns(kind):
        if column.name == name:
            return str(column.label)
    return name


def _header_key(text: str) -> str:
    """A header as compared: _norm's, and spaces inside words left aside too."""
    return _norm(text).replace("_", "")


def _header_names(kind: str) -> dict[str, str]:
    """Every accepted header (as _header_key gives it) → its field: the labels in every
    language of the interface, the form's labels, and the older names."""
    lookup: dict[str, str] = {}
    columns = import_columns(kind)
    for column in columns:
        for alias in column.aliases:
            lookup[_header_key(alias)] = column.name
    for locale in _LANGUAGES:
        with force_locale(locale):
            for column in columns:
                for label in (column.label, *column.also):
                    lookup.setdefault(_header_key(str(label)), column.name)
    return lookup


def _value_words(labels: dict[str, Any], words: dict[str, str]) -> dict[str, str]:
    """A choice's labels in every language (as _norm gives them) → its code, and `words`."""
    known = dict(words)
    for locale in _LANGUAGES:
        with force_locale(locale):
            for code, label in labels.items():
                known.setdefault(_norm(str(label)), code)
    return known


REQUIRED = {CONTRACT: ("reference", "subject", "contract_kind"),
            "grant": ("reference", "programme", "subject")}
DATES = ("decided_on", "start_date", "end_date", "proof_due_on")
AMOUNTS = ("value", "estimated_value")
TEXT_LIMITS = {"reference": 80, "programme": 200, "counterparty": 200, "subject": 2000,
               "renewal_options": 1000, "counterparty_register": 80}
# Fields other importers (eForms notices) may give besides the file's columns: the
# counterparty's registration number (matched before its name) and the value's currency.
EXTRA_FIELDS = ("counterparty_register", "currency")
_CURRENCY = re.compile(r"[A-Z]{3}")
CONTRACT_KIND_WORDS = {
    "lieferleistung": "supplies", "lieferleistungen": "supplies", "lieferung": "supplies",
    "dienstleistung": "services", "dienstleistungen": "services",
    "bauleistung": "works", "bauleistungen": "works", "konzession": "concession",
}
PROCEDURE_WORDS = {
    "offenes_verfahren": "open", "nicht_offenes_verfahren": "restricted",
    "verhandlungsverfahren": "negotiated", "wettbewerblicher_dialog": "competitive_dialogue",
    "innovationspartnerschaft": "innovation_partnership",
    "oeffentliche_ausschreibung": "public_tender",
    "beschraenkte_ausschreibung": "restricted_tender",
    "verhandlungsvergabe": "negotiated_award", "direktauftrag": "direct_award",
}


class ImportFileError(RefusedChange):
    """The file as a whole cannot be read (format, encoding, headers)."""


@dataclass(frozen=True)
class PartyRef:
    """A counterparty as an import names it: by registration number when it has one (the
    oldest counterparty with that number), else by name (the oldest of that name); a new
    one is recorded with both when none matches."""

    name: str
    register_number: str = ""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


@dataclass
class ImportReport:
    kind: str
    filename: str
    dry_run: bool
    rows: int = 0
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Unusual values (plausibility): shown for a look, never a reason to refuse the file.
    warnings: list[RowError] = field(default_factory=list)
    # A job's stored report keeps the first items of each list; these are their lengths.
    error_total: int | None = None
    warning_total: int | None = None
    created_total: int | None = None
    skipped_total: int | None = None

# --- reading ---------------------------------------------------------------------------------

def _read_csv(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(_l("The CSV file is not UTF-8 encoded; save it as "
                                 "“CSV UTF-8”.")) from exc
    first = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=";,").delimiter
    except csv.Error:
        delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(_csv_problem(reader.line_num, str(exc))) from exc
        if reader.line_num > MAX_LINES:
            raise _too_many_lines()
        yield reader.line_num, row


def _csv_problem(line: int, error: str) -> object:
    # (A NUL is no CSV error since Python 3.11: it reaches the cell, and the row check.)
    if "field larger" in error:
        return _l("Line %(line)d has a cell longer than %(n)d characters.", line=line,
                  n=csv.field_size_limit())
    return _l("Line %(line)d cannot be read as CSV.", line=line)


def _too_many_lines() -> ImportFileError:
    return ImportFileError(_l("The file has more than %(n)d lines; split it.", n=MAX_LINES))


# A sheet's XML is larger and compresses better than a document's (config.py: IMPORT_MAX_*).
IMPORT_LIMITS = Limits(max_uncompressed_bytes=150 * 1024 * 1024,
                       max_part_bytes=100 * 1024 * 1024, max_compression_ratio=200)


def import_limits() -> Limits:
    config = current_app.config if has_app_context() else {}
    return Limits.from_config(config, "IMPORT_", IMPORT_LIMITS)


def _check_package(data: bytes) -> None:
    """The DOCX engine's checks of an OOXML package, with the import's limits."""
    try:
        check_bytes(data, import_limits())
    except DocumentRejected as exc:
        if exc.code == "macro_enabled":
            raise ImportFileError(_l("The workbook contains macros (VBA); save it as a "
                                     "macro-free .xlsx.")) from exc
        if exc.code in ("not_zip", "not_ooxml", "corrupt_zip", "unsafe_name",
                        "unsupported_compression", "encrypted"):
            raise ImportFileError(_l("The XLSX file cannot be read.")) from exc
        raise ImportFileError(exc.message) from exc


def _read_xlsx(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    _check_package(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise ImportFileError(_l("The XLSX file cannot be read.")) from exc
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # read the rows there are, not the ones it claims
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        for number, row in enumerate(rows, start=1):
            if number > MAX_LINES:
                raise _too_many_lines()
            yield number, list(row)
    except ImportFileError:
        raise
    except Exception as exc:  # a damaged sheet shows only while its rows are read
        raise ImportFileError(_l("The XLSX file cannot be read.")) from exc
    finally:
        book.close()


def read_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) of every row, header first; XLSX is recognised by its content."""
    if not data:
        raise ImportFileError(_l("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(_OLE):
        raise ImportFileError(_l("The file is an encrypted workbook or an old Excel file "
                                 "(.xls); save it as .xlsx without a password."))
    if filename.lower().endswith(".xlsx"):
        raise ImportFileError(_l("The file is named .xlsx but is no XLSX file."))
    return _read_csv(data)


# --- checking --------------------------------------------------------------------------------

def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _quote(value: Any) -> str:
    text = _cell_text(value)
    return text if len(text) <= 40 else text[:39] + "…"


_GERMAN_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    # By pattern, not strptime: a third of the time of checking a row went to strptime.
    german = _GERMAN_DAY.fullmatch(text)
    try:
        if german:
            day, month, year = (int(part) for part in german.groups())
            return date(year, month, day)
        if _ISO_DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(_l("“%(value)s” is not a date; expected a date like 05.03.2026",
                        value=_quote(value)))


# More than two decimals, written the German way ("1.234,567") or as a number cell.
_TOO_PRECISE = re.compile(r"-?[\d.]*,\d{3,}")


def _amount(value: Any) -> Decimal:
    not_amount = _l("“%(value)s” is not an amount; expected an amount in euros like 1.234,56",
                    value=_quote(value))
    too_large = _l("%(value)s has more than 12 digits before the comma; at most "
                   "999.999.999.999,99 € fit", value=_quote(value))
    too_precise = _l("%(value)s has more than 2 decimal places; amounts are in euros and "
                     "cents, like 1.234,56", value=_quote(value))
    if isinstance(value, bool):
        raise ValueError(not_amount)
    if isinstance(value, int | float | Decimal):
        amount = Decimal(str(value))
    else:
        text = _cell_text(value)
        try:
            amount = parse_amount(text)
        except AmountTooLarge:
            raise ValueError(too_large) from None
        except ValueError:
            if _TOO_PRECISE.fullmatch(text.replace(" ", "").removesuffix("€")):
                raise ValueError(too_precise) from None
            raise ValueError(not_amount) from None
    if not amount.is_finite():
        raise ValueError(not_amount)
    if amount < 0:
        raise ValueError(_l("%(value)s is negative; expected an amount of 0 or more",
                            value=_quote(value)))
    if amount > MAX_AMOUNT:
        raise ValueError(too_large)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(too_precise)
    return amount.quantize(Decimal("0.01"))


def _code(value: Any, codes: tuple[str, ...], words: dict[str, str], labels: dict) -> str:
    norm = _norm(_cell_text(value))
    if norm in codes:
        return norm
    if norm in words:
        return words[norm]
    raise ValueError(_l("“%(value)s” is not one of the values this column takes: %(values)s",
                        value=_quote(value), values=", ".join(str(v) for v in labels.values())))


def _header_map(kind: str, header: list[Any], line: int,
                errors: list[RowError]) -> dict[int, str]:
    lookup = _header_names(kind)
    mapping: dict[int, str] = {}
    for index, cell in enumerate(header):
        text = _cell_text(cell)
        if not text:
            continue
        name = lookup.get(_header_key(text))
        shown = text if len(text) <= 60 else text[:59] + "…"
        if name is None:
            errors.append(RowError(line, shown, str(_l(
                "unknown column; the columns this import reads are in the template"))))
        elif name in mapping.values():
            errors.append(RowError(line, shown, str(_l(
                "the column appears twice (also as “%(other)s”)",
                other=_cell_text(header[next(i for i, n in mapping.items() if n == name)])))))
        else:
            mapping[index] = name
    for name in REQUIRED[kind]:
        if name not in mapping.values():
            errors.append(RowError(line, column_label(kind, name), str(_l(
                "this column is missing; every file needs it"))))
    return mapping


@dataclass(frozen=True)
class _Unit:  # plain values: the checking outlives the transactions progress reports commit
    id: int
    code: str


@dataclass(frozen=True)
class _Rules:
    """What the checking of one file needs to know, computed once per file."""

    kind: str
    labels: dict[str, str]  # field → its column label in the active language
    kinds: dict[str, str]
    procedures: dict[str, str]
    plausible_max: Decimal
    today: date


def _rules(kind: str) -> _Rules:
    config = current_app.config if has_app_context() else {}
    return _Rules(
        kind=kind, labels={c.name: str(c.label) for c in import_columns(kind)},
        kinds=_value_words(CONTRACT_KIND_LABELS, CONTRACT_KIND_WORDS),
        procedures=_value_words(PROCEDURE_LABELS, PROCEDURE_WORDS),
        plausible_max=Decimal(str(config.get("PLAUSIBLE_MAX_AMOUNT", PLAUSIBLE_MAX_AMOUNT))),
        today=today())


def _check_row(rules: _Rules, cells: dict[str, Any], line: int, units: dict[str, _Unit],
               default_unit: _Unit | None, restrict_unit: bool,
               errors: list[RowError], warnings: list[RowError]) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    before = len(errors)
    labels = rules.labels

    def fail(column: str, message: object) -> None:
        errors.append(RowError(line, labels.get(column, column), str(message)))

    for name in REQUIRED[rules.kind]:
        if not _cell_text(cells.get(name)):
            fail(name, _l("empty; every row needs a value here"))
    for name, raw in cells.items():
        if name == "unit" or (raw is None or _cell_text(raw) == ""):
            continue
        try:
            if name in DATES:
                values[name] = _date(raw)
            elif name in AMOUNTS:
                values[name] = _amount(raw)
            elif name == "contract_kind":
                values[name] = _code(raw, CONTRACT_KINDS, rules.kinds, CONTRACT_KIND_LABELS)
            elif name == "procedure":
                values[name] = _code(raw, PROCEDURES, rules.procedures, PROCEDURE_LABELS)
            elif name == "currency":
                if not _CURRENCY.fullmatch(_cell_text(raw)):
                    raise ValueError(_l("“%(value)s” is not a currency; expected a code like EUR",
                                        value=_quote(raw)))
                values[name] = _cell_text(raw)
            else:
                text = _cell_text(raw)
                if _CONTROL.intersection(text):
                    raise ValueError(_l("contains control characters (such as NUL); "
                                        "expected plain text"))
                if len(text) > TEXT_LIMITS.get(name, 2000):
                    raise ValueError(_l("%(length)d characters long; at most %(n)d fit",
                                        length=len(text), n=TEXT_LIMITS.get(name, 2000)))
                values[name] = text
        except ValueError as exc:
            fail(name, exc.args[0] if exc.args else exc)
    if values.get("start_date") and values.get("end_date") and \
            values["end_date"] < values["start_date"]:
        fail("end_date", _l("the end (%(end)s) lies before the start (%(start)s)",
                            end=_german_day(values["end_date"]),
                            start=_german_day(values["start_date"])))
    code = _cell_text(cells.get("unit"))
    unit = default_unit
    if code:
        unit = units.get(code.upper())
        if unit is None:
            fail("unit", _l("no unit has the code “%(code)s”; expected a code such as %(codes)s",
                            code=_quote(code), codes=", ".join(sorted(
                                u.code for u in units.values())[:8])))
        elif restrict_unit and default_unit is not None and unit.id != default_unit.id:
            fail("unit", _l("you can import only for your own unit (%(code)s)",
                            code=default_unit.code))
    elif unit is None:
        fail("unit", _l("empty; expected the unit's code, such as ZVS"))
    values["unit"] = unit
    if len(errors) != before:
        return None
    _plausibility(rules, values, line, warnings)
    return values


def _german_day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _plausibility(rules: _Rules, values: dict[str, Any], line: int,
                  warnings: list[RowError]) -> None:
    """Values that are possible but unusual: shown for a look before the import, never a
    reason to refuse it."""
    def warn(column: str, message: object) -> None:
        warnings.append(RowError(line, rules.labels.get(column, column), str(message)))

    for name in AMOUNTS:
        amount = values.get(name)
        if amount is None:
            continue
        if amount > rules.plausible_max:
            warn(name, _l("%(amount)s is more than %(limit)s; please check the amount",
                          amount=format_money(amount),
                          limit=format_money(rules.plausible_max)))
        elif amount == 0:
            warn(name, _l("0,00 €; please check whether the amount is missing"))
    decided = values.get("decided_on")
    if decided is not None and decided > rules.today:
        warn("decided_on", _l("%(day)s lies in the future; please check the date",
                              day=_german_day(decided)))


# --- the import ------------------------------------------------------------------------------

def import_file(kind: str, data: bytes, filename: str, *, dry_run: bool = False,
                unit: OrgUnit | None = None, restrict_unit: bool = False,
                user: User | None = None, job: ImportJob | None = None,
                progress: Callable[[int, str], None] | None = None) -> ImportReport:
    """Check every row; when all pass (and not a dry run) save them in one transaction.

    `job`: the queued import this runs (import_jobs.py), else one is recorded as done.
    `progress(rows checked, stage)` is called every PROGRESS_ROWS rows ("checking") and
    before the rows are saved ("saving")."""
    report = ImportReport(kind=kind, filename=filename, dry_run=dry_run)
    if restrict_unit and unit is None:
        raise ImportFileError(_l("Your account belongs to no unit; ask an administrator."))
    rows = read_rows(data, filename)

    def named_rows() -> Iterator[tuple[int, dict[str, Any]]]:
        mapping: dict[int, str] | None = None
        for line, cells in rows:
            if mapping is None:
                mapping = _header_map(kind, cells, line, report.errors)
                if report.errors:
                    return
                continue
            if not any(_cell_text(c) for c in cells):
                continue  # blank lines
            yield line, {name: cells[i] if i < len(cells) else None
                         for i, name in mapping.items()}
        if mapping is None:
            raise ImportFileError(_l("The file has no header line."))

    return import_rows(kind, named_rows(), data, report, unit=unit,
                       restrict_unit=restrict_unit, user=user, job=job, progress=progress)


def import_rows(kind: str, rows: Iterable[tuple[int, dict[str, Any]]], data: bytes,
                report: ImportReport, *, unit: OrgUnit | None = None,
                restrict_unit: bool = False, user: User | None = None,
                job: ImportJob | None = None,
                progress: Callable[[int, str], None] | None = None) -> ImportReport:
    """The import's rules for rows read from any source (a CSV or XLSX file, or the
    contracts of eForms notices): every row checked as a file's row is (field names of
    CONTRACT_COLUMNS and GRANT_COLUMNS, plus EXTRA_FIELDS; cells may be text or already
    typed: dates, Decimals, unit codes), references already registered skipped, a reference
    twice an error, and — when no row has an error and it is not a dry run
    (report.dry_run) — all rows saved in one transaction with their audit events, the file
    (`data`) recorded by its SHA-256."""
    if restrict_unit and unit is None:
        raise ImportFileError(_l("Your account belongs to no unit; ask an administrator."))
    units = {u.code.upper(): _Unit(u.id, u.code) for u in db.session.scalars(select(OrgUnit))}
    own = _Unit(unit.id, unit.code) if unit is not None else None
    existing = set(db.session.scalars(select(Agreement.reference).where(
        Agreement.kind == kind)))
    rules = _rules(kind)
    checked: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for line, named in rows:
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise ImportFileError(_l("More than %(n)d rows; split the file.", n=MAX_ROWS))
        if progress is not None and report.rows % PROGRESS_ROWS == 0:
            progress(report.rows, "checking")
        values = _check_row(rules, named, line, units, own, restrict_unit, report.errors,
                            report.warnings)
        if values is None:
            continue
        reference = values["reference"]
        if reference in seen:
            report.errors.append(RowError(line, rules.labels["reference"], str(_l(
                "%(ref)s appears already in line %(line)d; each record once per file",
                ref=reference, line=seen[reference]))))
            continue
        seen[reference] = line
        if reference in existing:
            report.skipped.append(reference)
            continue
        checked.append((line, values))
    if report.errors or report.dry_run:
        report.created = [v["reference"] for _, v in checked] if not report.errors else []
        return report
    if progress is not None:
        progress(report.rows, "saving")
    try:
        _save(kind, checked, report, data, user, job)
    except IntegrityError as exc:  # a reference registered by someone else meanwhile
        raise ImportFileError(_l("A reference of the file was registered by someone else "
                                 "while it was being checked; nothing was imported. Import "
                                 "the file again: registered references are skipped.")) from exc
    return report


# Columns every inserted row names (executemany needs the same keys in every row).
_IMPORTED = ("reference", "subject", "contract_kind", "procedure", "estimated_value", "value",
             "decided_on", "start_date", "end_date", "renewal_options", "programme",
             "proof_due_on", "currency")


@transactional
def _save(kind: str, checked: list[tuple[int, dict[str, Any]]], report: ImportReport,
          data: bytes, user: User | None, job: ImportJob | None) -> None:
    """Set-based: counterparties and agreements in INSERTs of CHUNK rows. The audit events
    (one per CHUNK agreements, one per CHUNK new counterparties, one for the file) are
    appended last: the audit chain's lock is held from the first of them to the commit
    only, so other users' changes wait a moment, not for the whole import."""
    now = utcnow()
    if job is None:
        job = ImportJob(kind=kind, filename=report.filename[:255],
                        sha256=hashlib.sha256(data).hexdigest(), dry_run=False,
                        restrict_unit=False, user_id=user.id if user else None,
                        status="saving", queued_at=now, started_at=now)
        db.session.add(job)
        db.session.flush()
    refs = [_party(values) for _, values in checked]
    parties, created_parties = _counterparties(refs, now)
    rows = [{**{name: values.get(name) for name in _IMPORTED}, "kind": kind,
             "status": "draft", "org_unit_id": values["unit"].id,
             "counterparty_id": parties[ref] if ref is not None else None,
             "created_at": now, "updated_at": now, "version_id": 1, "import_id": job.id,
             "created_by_id": user.id if user else None}
            for (_, values), ref in zip(checked, refs, strict=True)]
    ids = insert_with_ids(Agreement.__table__, rows)
    report.created = [values["reference"] for _, values in checked]
    lines = [line for line, _ in checked]
    new_parties = [(ref.name, ident) for ref, ident in parties.items()
                   if ident in created_parties]
    for chunk in _chunks(new_parties):
        audit("counterparty.import", "Import", job.id,
              f"{len(chunk)} counterparties recorded by import from {report.filename}",
              {"counterparties": dict(chunk)})
    for start in range(0, len(ids), CHUNK):
        part = slice(start, start + CHUNK)
        audit(f"{kind}.import", "Import", job.id,
              f"{len(ids[part])} {kind}s imported from {report.filename}, lines "
              f"{lines[part][0]}–{lines[part][-1]}",
              {"file": report.filename, "lines": [lines[part][0], lines[part][-1]],
               "agreements": dict(zip(report.created[part], ids[part], strict=True))})
    job.status, job.finished_at = "done", utcnow()
    job.rows, job.created, job.skipped = report.rows, len(ids), len(report.skipped)
    job.data = None
    audit(f"{kind}.import_file", "Import", job.id,
          f"{len(report.created)} {kind}s imported from {report.filename}, "
          f"{len(report.skipped)} already registered",
          {"file": report.filename, "sha256": job.sha256, "created": len(report.created),
           "skipped": report.skipped[:1000], "counterparties_created": len(new_parties)})


def _party(values: dict[str, Any]) -> PartyRef | None:
    name = values.get("counterparty") or ""
    return PartyRef(name, values.get("counterparty_register") or "") if name else None


def _counterparties(refs: list[PartyRef | None],
                    now: datetime) -> tuple[dict[PartyRef, int], set[int]]:
    """PartyRef → id for every named counterparty: the oldest with its registration number,
    else the oldest of its name, else a new one; and the ids of the new ones."""
    wanted = sorted({ref for ref in refs if ref is not None},
                    key=lambda r: (r.name, r.register_number))
    by_number: dict[str, int] = {}
    numbers = sorted({ref.register_number for ref in wanted if ref.register_number})
    for chunk in _chunks(numbers):
        for ident, number in db.session.execute(
                select(Counterparty.id, Counterparty.register_number)
                .where(Counterparty.register_number.in_(chunk)).order_by(Counterparty.id)):
            by_number.setdefault(number, ident)
    by_name: dict[str, int] = {}
    for chunk in _chunks(sorted({ref.name for ref in wanted})):
        for ident, name in db.session.execute(
                select(Counterparty.id, Counterparty.name)
                .where(Counterparty.name.in_(chunk)).order_by(Counterparty.id)):
            by_name.setdefault(name, ident)
    known: dict[PartyRef, int] = {}
    missing: list[PartyRef] = []
    for ref in wanted:
        ident = by_number.get(ref.register_number) if ref.register_number else None
        if ident is None:
            ident = by_name.get(ref.name)
        if ident is None:
            missing.append(ref)
        else:
            known[ref] = ident
    # One new counterparty per number, or per name for those without one.
    new_keys = list(dict.fromkeys(ref.register_number or f"\0{ref.name}" for ref in missing))
    firsts = {key: next(r for r in missing if (r.register_number or f"\0{r.name}") == key)
              for key in new_keys}
    created = insert_with_ids(Counterparty.__table__,
                              [{"name": firsts[key].name, "created_at": now,
                                "register_number": firsts[key].register_number}
                               for key in new_keys])
    made = dict(zip(new_keys, created, strict=True))
    for ref in missing:
        known[ref] = made[ref.register_number or f"\0{ref.name}"]
    return known, set(created)


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


# --- the template ----------------------------------------------------------------------------

def _example(column: ImportColumn, unit_code: str) -> Any:
    if column.name == "unit":
        return unit_code
    return str(column.example)


def template_csv(kind: str, unit_code: str) -> bytes:
    """The import's columns in the active language and one example row (`;`, UTF-8 with a
    byte order mark, as German Excel opens it); importing it adds the example record."""
    columns = import_columns(kind)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_text(str(column.label)) for column in columns])
    writer.writerow([csv_text(_example(column, unit_code)) for column in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(kind: str, unit_code: str) -> bytes:
    """The same as template_csv as a workbook, amounts and dates as such, and a second sheet
    that explains each column: required or not, what it takes, the example."""
    columns = import_columns(kind)
    kinds = {name: MONEY for name in AMOUNTS} | {name: DATE for name in DATES}
    book = XlsxBook()
    sheet = book.sheet(str(_l("Contracts") if kind == CONTRACT else _l("Grants")),
                       [Column(str(c.label), kinds.get(c.name, TEXT)) for c in columns])
    row: list[Any] = []
    for column in columns:
        value = _example(column, unit_code)
        if column.name in AMOUNTS:
            value = parse_amount(value)
        elif column.name in DATES:
            value = _date(value)
        row.append(value)
    sheet.append(row)
    notes = book.sheet(str(_l("Notes on the columns")), [
        Column(str(_l("Column"))), Column(str(_l("Required"))),
        Column(str(_l("What it takes")), width=70), Column(str(_l("Example")))])
    for column in columns:
        notes.append([str(column.label),
                      str(_l("yes") if column.name in REQUIRED[kind] else _l("no")),
                      str(column.expects), str(_example(column, unit_code))])
    notes.append([])
    notes.append([str(_l("Older column names are accepted too; case and spaces do not "
                         "matter. Delete the example row before importing your records."))])
    return book.to_bytes()
