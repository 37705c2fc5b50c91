"""Hostile and odd import files (security findings 7 and 16): refused or reported with a
clear message, never a spinning worker, a swollen one or a 500."""

from __future__ import annotations

import io
import threading
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from clause_tracker.agreements.importing import (
    MAX_COLUMNS,
    MAX_LINES,
    ImportFileError,
    import_file,
    read_rows,
)
from clause_tracker.agreements.models import Agreement
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import UnitKind
from clause_tracker.orgunits.services import ensure_unit
from tests.helpers import german, hidden_fields

HEADER = "Vergabenummer;Gegenstand;Art;Auftragswert;unit\n"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{extra}</Types>')
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
    'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="Vergaben" sheetId="1" '
    'r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>{extra}</Relationships>')


def _sheet(rows: str, dimension: str = "A1:E2") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
            f'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/>'
            f"<sheetData>{rows}</sheetData></worksheet>")


def _row(number: int, *values: str) -> str:
    cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
                    for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


HEADER_ROW = _row(1, "Vergabenummer", "Gegenstand", "Art", "Auftragswert", "unit")


def _xlsx(sheet: str, *, extra_types: str = "", extra_rels: str = "",
          parts: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(extra=extra_types))
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(extra=extra_rels))
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in (parts or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def kij(app) -> None:
    ensure_unit("KIJ", "Kommunale Immobilien Jena", UnitKind.EIGENBETRIEB)
    db.session.commit()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Agreement))


def _finishes(app, work, seconds: float = 60) -> object:
    """work() run in a thread; a guard against a spinning import, not a speed test."""
    outcome: list[object] = []

    def run() -> None:
        try:
            with app.app_context():
                outcome.append(work())
        except Exception as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, "the import did not finish"
    return outcome[0]


def test_a_claimed_dimension_is_not_read(app, kij) -> None:
    data = _xlsx(_sheet(HEADER_ROW + _row(2, "KIJ-1", "Dach", "works", "100", "KIJ"),
                        dimension="A1:XFD1048576"))
    rows = list(read_rows(data, "v.xlsx"))
    assert len(rows) == 2 and max(len(cells) for _, cells in rows) <= MAX_COLUMNS
    assert import_file("contract", data, "v.xlsx").created == ["KIJ-1"]


def test_one_cell_in_the_last_row_is_refused_not_spun_over(app, kij) -> None:
    data = _xlsx(_sheet(HEADER_ROW + _row(1048576, "KIJ-1"), dimension="A1:XFD1048576"))
    assert len(data) < 2000
    error = _finishes(app, lambda: import_file("contract", data, "v.xlsx"))
    assert isinstance(error, ImportFileError)
    assert str(error) == f"The file has more than {MAX_LINES} lines; split it."


def test_shared_strings_that_unpack_to_a_bomb_are_refused(app, kij) -> None:
    app.config.update(IMPORT_MAX_UNCOMPRESSED_BYTES=4 * 1024 * 1024)
    strings = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
               'openxmlformats.org/spreadsheetml/2006/main">'
               + "<si><t>" + "A" * 5_000_000 + "</t></si></sst>").encode()
    data = _xlsx(_sheet(HEADER_ROW), parts={"xl/sharedStrings.xml": strings})
    assert len(data) < 20_000
    with pytest.raises(ImportFileError, match=r"compressed more than|unpacks to more than"):
        import_file("contract", data, "v.xlsx")


def test_a_workbook_with_macros_is_refused(app, kij) -> None:
    data = _xlsx(_sheet(HEADER_ROW), extra_types='<Default Extension="bin" ContentType='
                 '"application/vnd.ms-office.vbaProject"/>',
                 parts={"xl/vbaProject.bin": b"\x00" * 64})
    with pytest.raises(ImportFileError, match="macros"):
        import_file("contract", data, "v.xlsx")


def test_an_encrypted_workbook_is_named_as_such(app, kij) -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    with pytest.raises(ImportFileError, match="encrypted workbook"):
        import_file("contract", data, "v.xlsx")


def test_an_oversized_csv_cell_names_its_line(app, kij) -> None:
    huge = HEADER + "KIJ-1;" + "x" * (128 * 1024 + 1) + ";works;100;KIJ\n"
    with pytest.raises(ImportFileError, match=r"^Line 2 has a cell longer than"):
        import_file("contract", huge.encode(), "v.csv")
    assert _count() == 0


def test_odd_cells_are_row_errors(app, kij) -> None:
    rows = (HEADER
            + "KIJ-1;" + "x" * 100_000 + ";works;100;KIJ\n"
            + "KIJ-2;Dach\x01;works;100;KIJ\n"
            + "KIJ-7;Da\x00ch;works;100;KIJ\n"
            + "KIJ-3;Dach;works;1.000.000.000.000,00;KIJ\n"
            + "KIJ-4;Dach;works;999.999.999.999,99;KIJ\n")
    report = import_file("contract", rows.encode(), "v.csv")
    assert [(e.line, e.column, e.message) for e in report.errors] == [
        (2, "Subject", "100000 characters long; at most 2000 fit"),
        (3, "Subject", "contains control characters (such as NUL); expected plain text"),
        (4, "Subject", "contains control characters (such as NUL); expected plain text"),
        (5, "Awarded value in EUR", "1.000.000.000.000,00 has more than 12 digits before the "
                                    "comma; at most 999.999.999.999,99 € fit"),
    ]
    # The largest amount that fits is no error, but unusual: a warning.
    assert [(w.line, w.column) for w in report.warnings] == [(6, "Awarded value in EUR")]
    assert _count() == 0

    book = Workbook()
    book.active.append(["Vergabenummer", "Gegenstand", "Art", "Auftragswert", "unit"])
    book.active.append(["KIJ-5", "Dach", "works", 1e300, "KIJ"])
    book.active.append(["KIJ-6", "Dach", "works", 999999999999.99, "KIJ"])
    out = io.BytesIO()
    book.save(out)
    report = import_file("contract", out.getvalue(), "v.xlsx")
    assert [(e.line, e.message) for e in report.errors] == [
        (2, "1e+300 has more than 12 digits before the comma; at most 999.999.999.999,99 € "
            "fit")]


def test_a_long_unknown_header_is_shortened(app, kij) -> None:
    report = import_file("contract", ("Vergabenummer;" + "y" * 5000 + "\n").encode(), "v.csv")
    [error] = [e for e in report.errors if e.message.startswith("unknown column")]
    assert error.column == "y" * 59 + "…"


def test_the_upload_page_shows_the_refusal(client, signed_in) -> None:
    signed_in("procurement_officer", unit="KIJ")
    german(client)
    fields = hidden_fields(client, "/agreements/import")
    data = (HEADER + "KIJ-1;Da\x00ch;works;100;KIJ\n").encode()
    response = client.post("/agreements/import", data={
        "csrf_token": fields["csrf_token"], "kind": "contract",
        "file": (io.BytesIO(data), "v.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert ("<tr><td>2</td><td>Gegenstand</td><td>enthält Steuerzeichen (etwa NUL); erwartet "
            "wird einfacher Text</td></tr>" in response.get_data(as_text=True))
    assert _count() == 0


def test_the_largest_amount_fits_the_column(app, kij) -> None:
    rows = HEADER + "KIJ-4;Dach;works;999.999.999.999,99;KIJ\n"
    assert import_file("contract", rows.encode(), "v.csv").created == ["KIJ-4"]
    stored = db.session.scalar(select(Agreement.value))
    assert stored == Decimal("999999999999.99")
