"""Importing contracts or grants from CSV or XLSX: every row is checked first, then all rows
are saved in one transaction, or none.

- CSV: UTF-8 (a BOM is fine), `;` or `,` as delimiter (sniffed from the header line).
- XLSX: the first sheet, read with openpyxl in read-only mode (streamed), after the same
  package checks as a DOCX (sizes, compression ratio, parts, DTD, macros; IMPORT_MAX_*).
  The sheet's declared dimension is ignored (a file may claim A1:XFD1048576 for one
  cell); at most MAX_COLUMNS columns and MAX_LINES lines are read.
- Headers: English codes or the usual German names (see COLUMNS); unknown headers are errors.
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
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clause_tracker.agreements.models import (
    CONTRACT,
    CONTRACT_KINDS,
    PROCEDURES,
    Agreement,
    ImportJob,
)
from clause_tracker.audit.services import record as audit
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.documents import DocumentRejected
from clause_tracker.documents.ingest import Limits, check_bytes
from clause_tracker.extensions import db
from clause_tracker.german_fields import MAX_AMOUNT, AmountTooLarge, parse_amount
from clause_tracker.orgunits.models import OrgUnit
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


def _norm(text: str) -> str:
    return (text.strip().casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
            .replace("ß", "ss").replace(" ", "_").replace("-", "_"))


# field → accepted headers (normalised by _norm)
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    CONTRACT: {
        "reference": ("reference", "vergabenummer", "aktenzeichen"),
        "subject": ("subject", "gegenstand", "leistung"),
        "contract_kind": ("kind", "contract_kind", "art", "leistungsart"),
        "procedure": ("procedure", "verfahren", "verfahrensart"),
        "estimated_value": ("estimated_value", "schaetzwert", "geschaetzter_wert"),
        "value": ("value", "awarded_value", "auftragswert", "zuschlagswert"),
        "decided_on": ("award_date", "decided_on", "zuschlagsdatum", "zuschlag"),
        "start_date": ("start", "start_date", "beginn", "laufzeit_von"),
        "end_date": ("end", "end_date", "ende", "laufzeit_bis"),
        "renewal_options": ("renewal_options", "verlaengerungsoptionen", "optionen"),
        "counterparty": ("counterparty", "contractor", "auftragnehmer"),
        "unit": ("unit", "einheit", "organisationseinheit"),
    },
    "grant": {
        "reference": ("reference", "aktenzeichen"),
        "programme": ("programme", "program", "programm", "fonds", "foerderprogramm"),
        "subject": ("purpose", "subject", "zweck", "zuwendungszweck"),
        "value": ("amount", "value", "betrag", "foerdersumme"),
        "start_date": ("start", "start_date", "foerderzeitraum_von", "beginn"),
        "end_date": ("end", "end_date", "foerderzeitraum_bis", "ende"),
        "decided_on": ("decision_date", "decided_on", "bescheiddatum", "bescheid_vom"),
        "proof_due_on": ("proof_due", "proof_due_on", "verwendungsnachweis_bis",
                         "verwendungsnachweis"),
        "counterparty": ("grantee", "counterparty", "zuwendungsempfaenger"),
        "unit": ("unit", "einheit", "organisationseinheit"),
    },
}
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
    # A job's stored report keeps the first items of each list; these are their lengths.
    error_total: int | None = None
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
    raise ValueError(_l("not a date like 05.03.2026"))


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(_l("not an amount like 1.234,56"))
    if isinstance(value, int | float | Decimal):
        amount = Decimal(str(value))
    else:
        try:
            amount = parse_amount(_cell_text(value))
        except AmountTooLarge:
            raise ValueError(_l("more than 999.999.999.999,99 €")) from None
        except ValueError:
            raise ValueError(_l("not an amount like 1.234,56")) from None
    if not amount.is_finite():
        raise ValueError(_l("not an amount like 1.234,56"))
    if amount < 0:
        raise ValueError(_l("negative amount"))
    if amount > MAX_AMOUNT:
        raise ValueError(_l("more than 999.999.999.999,99 €"))
    return amount.quantize(Decimal("0.01"))


def _code(value: Any, codes: tuple[str, ...], words: dict[str, str]) -> str:
    norm = _norm(_cell_text(value))
    if norm in codes:
        return norm
    if norm in words:
        return words[norm]
    raise ValueError(_l("unknown value; use one of: %(codes)s", codes=", ".join(codes)))


def _header_map(kind: str, header: list[Any], line: int,
                errors: list[RowError]) -> dict[int, str]:
    lookup = {alias: name for name, aliases in COLUMNS[kind].items() for alias in aliases}
    mapping: dict[int, str] = {}
    for index, cell in enumerate(header):
        text = _cell_text(cell)
        if not text:
            continue
        name = lookup.get(_norm(text))
        shown = text if len(text) <= 60 else text[:59] + "…"
        if name is None:
            errors.append(RowError(line, shown, str(_l("unknown column"))))
        elif name in mapping.values():
            errors.append(RowError(line, shown, str(_l("column appears twice"))))
        else:
            mapping[index] = name
    for name in REQUIRED[kind]:
        if name not in mapping.values():
            errors.append(RowError(line, name, str(_l("required column missing"))))
    return mapping


@dataclass(frozen=True)
class _Unit:  # plain values: the checking outlives the transactions progress reports commit
    id: int
    code: str


def _check_row(kind: str, cells: dict[str, Any], line: int, units: dict[str, _Unit],
               default_unit: _Unit | None, restrict_unit: bool,
               errors: list[RowError]) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    before = len(errors)

    def fail(column: str, message: object) -> None:
        errors.append(RowError(line, column, str(message)))

    for name in REQUIRED[kind]:
        if not _cell_text(cells.get(name)):
            fail(name, _l("required"))
    for name, raw in cells.items():
        if name == "unit" or (raw is None or _cell_text(raw) == ""):
            continue
        try:
            if name in DATES:
                values[name] = _date(raw)
            elif name in AMOUNTS:
                values[name] = _amount(raw)
            elif name == "contract_kind":
                values[name] = _code(raw, CONTRACT_KINDS, CONTRACT_KIND_WORDS)
            elif name == "procedure":
                values[name] = _code(raw, PROCEDURES, PROCEDURE_WORDS)
            elif name == "currency":
                if not _CURRENCY.fullmatch(_cell_text(raw)):
                    raise ValueError(_l("not a currency code like EUR"))
                values[name] = _cell_text(raw)
            else:
                text = _cell_text(raw)
                if _CONTROL.intersection(text):
                    raise ValueError(_l("contains control characters (such as NUL)"))
                if len(text) > TEXT_LIMITS.get(name, 2000):
                    raise ValueError(_l("longer than %(n)d characters",
                                        n=TEXT_LIMITS.get(name, 2000)))
                values[name] = text
        except ValueError as exc:
            fail(name, exc)
    if values.get("start_date") and values.get("end_date") and \
            values["end_date"] < values["start_date"]:
        fail("end_date", _l("the end lies before the start"))
    code = _cell_text(cells.get("unit"))
    unit = default_unit
    if code:
        unit = units.get(code.upper())
        if unit is None:
            fail("unit", _l("no unit with the code %(code)s", code=code))
        elif restrict_unit and default_unit is not None and unit.id != default_unit.id:
            fail("unit", _l("you can import only for your own unit (%(code)s)",
                            code=default_unit.code))
    elif unit is None:
        fail("unit", _l("required"))
    values["unit"] = unit
    return values if len(errors) == before else None


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
    COLUMNS, plus EXTRA_FIELDS; cells may be text or already typed: dates, Decimals, unit
    codes), references already registered skipped, a reference twice an error, and — when
    no row has an error and it is not a dry run (report.dry_run) — all rows saved in one
    transaction with their audit events, the file (`data`) recorded by its SHA-256."""
    if restrict_unit and unit is None:
        raise ImportFileError(_l("Your account belongs to no unit; ask an administrator."))
    units = {u.code.upper(): _Unit(u.id, u.code) for u in db.session.scalars(select(OrgUnit))}
    own = _Unit(unit.id, unit.code) if unit is not None else None
    existing = set(db.session.scalars(select(Agreement.reference).where(
        Agreement.kind == kind)))
    checked: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for line, named in rows:
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise ImportFileError(_l("More than %(n)d rows; split the file.", n=MAX_ROWS))
        if progress is not None and report.rows % PROGRESS_ROWS == 0:
            progress(report.rows, "checking")
        values = _check_row(kind, named, line, units, own, restrict_unit, report.errors)
        if values is None:
            continue
        reference = values["reference"]
        if reference in seen:
            report.errors.append(RowError(line, "reference", str(_l(
                "the reference %(ref)s appears already in line %(line)d",
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
