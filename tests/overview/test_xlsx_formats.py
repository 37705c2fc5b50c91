"""The XLSX exports as a spreadsheet user meets them: amounts and dates formatted, header row
frozen with an autofilter, columns wide enough, sheet names that fit and say what they hold,
and a file LibreOffice opens."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from clause_tracker.overview.exports import SHEET_NAMES
from clause_tracker.spreadsheets import (
    DATE,
    MONEY,
    TEXT,
    Column,
    XlsxBook,
    sheet_name,
)

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
MONEY_FORMAT = '#,##0.00 "€"'
GERMAN_SHEETS = ["Abdeckung je Einheit", "Abdeckung je Art der Einheit",
                 "Abdeckung Aufträge, Zuwendungen", "Klausel angehängt und geprüft",
                 "Abdeckung je Quartal", "Eigenerklärungen", "Ausnahmen", "Klauselversionen",
                 "Überprüfungen", "Maßnahmen",
                 "Vergabesperren in Kraft", "Beschwerden"]


def _book(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_overview_sheets_have_names_that_fit_and_formats(client, signed_in, dataset) -> None:
    signed_in("auditor")
    book = _book(client.get("/overview/?format=xlsx").data)
    assert book.sheetnames == GERMAN_SHEETS
    units = book["Abdeckung je Einheit"]
    assert units["A1"].value == "Abdeckung je Organisationseinheit"  # the table's full title
    assert units["A1"].font.b and units["A2"].font.b
    assert units.freeze_panes == "A3"
    assert units.auto_filter.ref == f"A2:{units.cell(2, units.max_column).column_letter}" \
        f"{units.max_row}"
    header = [cell.value for cell in units[2]]
    money = [i for i, h in enumerate(header, start=1) if h and "Wert" in h]
    assert money, header
    for row in range(3, units.max_row + 1):
        cell = units.cell(row, money[0])
        assert isinstance(cell.value, float) and cell.number_format == MONEY_FORMAT
        assert units.cell(row, 3).number_format == "#,##0"
    # Wide enough for the unit names, not the 8.43 characters of an unsized column.
    assert units.column_dimensions["A"].width >= len("ZVS – Zentrale Vergabestelle")
    exclusions = book["Vergabesperren in Kraft"]
    [until] = [row[2] for row in exclusions.iter_rows(min_row=3)]
    assert isinstance(until.value, datetime) and until.number_format == "DD.MM.YYYY"


def test_sheet_names_fit_in_both_languages(app) -> None:
    for locale in ("de", "en"):
        with app.test_request_context("/"), force_locale(locale):
            names = [str(name) for name in SHEET_NAMES.values()]
        assert all(len(name) <= 31 for name in names), names
        assert len({name.casefold() for name in names}) == len(names)
    used: set[str] = set()
    assert sheet_name("Abdeckung je Organisationseinheit und Art", used) == \
        "Abdeckung je Organisationseinheit"[:31].rsplit(" ", 1)[0]
    assert sheet_name("a/b:c?", used) == "abc"
    assert sheet_name("ABC", used) == "ABC (2)"


def test_registry_export_has_date_and_amount_cells(client, signed_in, dataset) -> None:
    signed_in("auditor")
    sheet = _book(client.get("/overview/agreements.xlsx").data).worksheets[0]
    assert sheet.title == "Aufträge und Zuwendungen"
    assert [c.value for c in sheet[1]][:5] == ["Kennzeichen", "Art", "Gegenstand",
                                               "Vertragspartner oder Zuwendungsempfänger",
                                               "Wert"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:J{sheet.max_row}"
    values = [row[4] for row in sheet.iter_rows(min_row=2) if row[4].value is not None]
    assert values and all(c.number_format == MONEY_FORMAT and isinstance(c.value, float)
                          for c in values)
    days = [row[7] for row in sheet.iter_rows(min_row=2) if row[7].value is not None]
    assert days and all(isinstance(c.value, datetime) and c.number_format == "DD.MM.YYYY"
                        for c in days)
    assert sheet.column_dimensions["C"].width >= 40  # the subject
    assert all(sheet.column_dimensions[letter].width >= 10 for letter in "ABCDEFGHIJ")


def _sample() -> bytes:
    book = XlsxBook()
    sheet = book.sheet("Vergaben", [Column("Kennzeichen"), Column("Wert", MONEY),
                                    Column("Zuschlagsdatum", DATE), Column("Notiz", TEXT)])
    sheet.append(["ZVS-1", 1234.5, date(2026, 3, 5), "=HYPERLINK(\"http://x\")"])
    sheet.append(["ZVS-2 <&>", None, None, "a\x01b\ufffe\ud800"])
    return book.to_bytes()


def test_texts_stay_texts_and_values_keep_their_kind() -> None:
    sheet = _book(_sample()).worksheets[0]
    rows = [[(c.data_type, c.value) for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == [("s", "ZVS-1"), ("n", 1234.5), ("d", datetime(2026, 3, 5)),
                       ("s", "=HYPERLINK(\"http://x\")")]
    assert rows[1][0] == ("s", "ZVS-2 <&>") and rows[1][1][1] is None
    assert rows[1][3] == ("s", "ab")


@pytest.mark.slow
@pytest.mark.xdist_group("libreoffice")
def test_libreoffice_opens_the_export(tmp_path: Path) -> None:
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) not installed: apt-get install libreoffice-calc-nogui")
    source = tmp_path / "export.xlsx"
    source.write_bytes(_sample())
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--norestore", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):59,34,76,1,,1031", "--outdir",
                    str(tmp_path), str(source)], check=True, capture_output=True, timeout=180,
                   env=os.environ | {"LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8"})
    rows = list(csv.reader((tmp_path / "export.csv").read_text("utf-8").splitlines(),
                           delimiter=";"))
    # Shown as LibreOffice shows them to a German user.
    assert rows[0] == ["Kennzeichen", "Wert", "Zuschlagsdatum", "Notiz"]
    assert rows[1] == ["ZVS-1", "1.234,50 €", "05.03.2026", "=HYPERLINK(\"http://x\")"]
    assert rows[2][0] == "ZVS-2 <&>"
