"""Import of contracts and grants: all or nothing, error report, German formats, idempotent."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select

from clause_tracker.agreements.importing import ImportFileError, import_file
from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.models import AuditEvent
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import UnitKind
from clause_tracker.orgunits.services import ensure_unit
from clause_tracker.registry import history
from tests.helpers import german, hidden_fields

GOOD_CSV = (
    "Vergabenummer;Gegenstand;Art;Verfahren;Auftragswert;Zuschlag;Beginn;Ende;Auftragnehmer;unit\n"
    "KIJ-2026-001;Dachsanierung Schule;Bauleistung;Öffentliche Ausschreibung;1.234.567,89;"
    "05.03.2026;01.04.2026;30.09.2026;Muster Bau GmbH;KIJ\n"
    "KIJ-2026-002;Reinigung;services;open;12.000;2026-03-06;;;Clean AG;KIJ\n"
)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Agreement))


@pytest.fixture
def units(app) -> None:
    ensure_unit("KIJ", "Kommunale Immobilien Jena", UnitKind.EIGENBETRIEB)
    ensure_unit("JK", "JenaKultur", UnitKind.EIGENBETRIEB)
    db.session.commit()


def test_csv_with_german_formats_and_idempotency(app, units) -> None:
    report = import_file("contract", GOOD_CSV.encode(), "vergaben.csv")
    assert report.errors == [] and report.created == ["KIJ-2026-001", "KIJ-2026-002"]
    first = db.session.scalar(select(Agreement).where(Agreement.reference == "KIJ-2026-001"))
    assert first.value == Decimal("1234567.89") and first.decided_on == date(2026, 3, 5)
    assert first.contract_kind == "works" and first.procedure == "public_tender"
    assert first.counterparty.name == "Muster Bau GmbH" and first.status == "draft"
    # One event for each thousand rows, naming each agreement it created, and one for
    # the file; the agreements point to their import.
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "contract.import")).all()
    second = db.session.scalar(select(Agreement).where(Agreement.reference == "KIJ-2026-002"))
    assert json.loads(event.details)["agreements"] == {"KIJ-2026-001": first.id,
                                                       "KIJ-2026-002": second.id}
    assert json.loads(event.details)["lines"] == [2, 3]
    assert first.import_id == second.import_id == int(event.object_id)
    [new_party] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "counterparty.import")).all()
    assert set(json.loads(new_party.details)["counterparties"]) == {"Muster Bau GmbH",
                                                                   "Clean AG"}
    assert "contract.import_file" in [e.action for e in history.of(first)]

    again = import_file("contract", GOOD_CSV.encode(), "vergaben.csv")
    assert again.created == [] and again.skipped == ["KIJ-2026-001", "KIJ-2026-002"]
    assert _count() == 2


def test_comma_delimiter_and_bom(app, units) -> None:
    data = "\ufeffreference,programme,purpose,amount,decision_date,grantee,unit\n" \
           'F-1,Fonds Politische Bildung,"Workshops, Schulen","2.500,00",05.03.2026,' \
           "Verein e.V.,JK\n"
    report = import_file("grant", data.encode("utf-8"), "g.csv")
    assert report.errors == [] and report.created == ["F-1"]
    assert db.session.scalar(select(Agreement.value)) == Decimal("2500.00")


def test_one_bad_row_imports_nothing_and_reports_line_and_column(app, units) -> None:
    # Line 5 repeats line 2's reference, but a row with errors is not looked at further;
    # line 6 repeats it in an otherwise good row.
    bad = GOOD_CSV + "KIJ-2026-003;Fenster;Bauleistung;open;12,345.00;31.02.2026;;;X;KIJ\n" \
                     "KIJ-2026-001;Doppelt;works;open;1;01.01.2026;;;X;NOPE\n" \
                     "KIJ-2026-001;Doppelt;works;open;1;01.01.2026;;;X;KIJ\n"
    with force_locale("de"):
        report = import_file("contract", bad.encode(), "bad.csv")
    assert _count() == 0
    # In the user's words: the column's label, what is wrong, what is expected.
    assert [(e.line, e.column, e.message) for e in report.errors] == [
        (4, "Auftragswert in EUR",
         "„12,345.00“ ist kein Betrag; erwartet wird ein Betrag in Euro wie 1.234,56"),
        (4, "Zuschlagsdatum",
         "„31.02.2026“ ist kein Datum; erwartet wird ein Datum wie 05.03.2026"),
        (5, "Organisationseinheit", "keine Organisationseinheit hat das Kürzel „NOPE“; "
                                    "erwartet wird ein Kürzel wie JK, KIJ"),
        (6, "Vergabenummer",
         "KIJ-2026-001 steht schon in Zeile 2; jeder Vorgang nur einmal je Datei"),
    ]
    assert report.created == []
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("contract.import%"))) == 0


def test_unknown_and_missing_columns(app, units) -> None:
    report = import_file("contract", b"reference;colour\nA;red\n", "x.csv")
    messages = {(e.line, e.column, e.message) for e in report.errors}
    assert (1, "colour", "unknown column; the columns this import reads are in the "
                         "template") in messages
    assert (1, "Subject", "this column is missing; every file needs it") in messages


def test_xlsx_import(app, units) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["reference", "programme", "purpose", "amount", "start", "end", "unit"])
    sheet.append(["F-9", "Fonds", "Demokratiefest", 1500.5, date(2026, 5, 1), "31.12.2026",
                  "JK"])
    out = io.BytesIO()
    book.save(out)
    report = import_file("grant", out.getvalue(), "g.xlsx")
    assert report.errors == [] and report.created == ["F-9"]
    grant = db.session.scalar(select(Agreement))
    assert grant.value == Decimal("1500.50") and grant.end_date == date(2026, 12, 31)


def test_not_utf8_is_refused(app, units) -> None:
    with pytest.raises(ImportFileError, match="UTF-8"):
        import_file("contract", GOOD_CSV.encode("latin-1"), "x.csv")


def test_dry_run_imports_nothing(app, units) -> None:
    report = import_file("contract", GOOD_CSV.encode(), "x.csv", dry_run=True)
    assert report.errors == [] and len(report.created) == 2 and _count() == 0


def test_cli_import(app, units, runner, tmp_path) -> None:
    path = tmp_path / "vergaben.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    result = runner.invoke(args=["import", "contracts", str(path), "--dry-run"])
    assert result.exit_code == 0 and "would import 2" in result.output
    assert _count() == 0
    result = runner.invoke(args=["import", "contracts", str(path)])
    assert result.exit_code == 0 and "imported 2" in result.output
    result = runner.invoke(args=["import", "contracts", str(path)])
    assert "imported 0" in result.output and "2 already registered" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("reference;subject;kind\nX;Y;spaceship\n", encoding="utf-8")
    result = runner.invoke(args=["import", "contracts", str(bad), "--unit", "KIJ"])
    assert result.exit_code != 0 and "line 2, column Kind of contract: “spaceship” is not " \
        "one of the values this column takes: Supplies, Services" in result.output


def test_ui_import_own_unit_only_with_report(client, signed_in) -> None:
    signed_in("procurement_officer", unit="KIJ")
    german(client)
    ensure_unit("JK", "JenaKultur", UnitKind.EIGENBETRIEB)
    db.session.commit()
    fields = hidden_fields(client, "/agreements/import")
    other = GOOD_CSV.replace(";KIJ\n", ";JK\n", 1)
    response = client.post("/agreements/import", data={
        "csrf_token": fields["csrf_token"], "kind": "contract",
        "file": (io.BytesIO(other.encode()), "v.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert">1 Fehler: Es wurde nichts importiert.</p>' in page
    # The JK row (line 2) is refused: an officer of KIJ imports only for KIJ.
    assert ("<tr><td>2</td><td>Organisationseinheit</td><td>Sie können nur für Ihre eigene "
            "Organisationseinheit (KIJ) importieren</td></tr>") in page
    assert _count() == 0
    response = client.post("/agreements/import", data={
        "csrf_token": fields["csrf_token"], "kind": "contract",
        "file": (io.BytesIO(GOOD_CSV.encode()), "v.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200 and 'id="import-report"' in response.get_data(
        as_text=True)
    assert _count() == 2
    grants = client.post("/agreements/import", data={
        "csrf_token": fields["csrf_token"], "kind": "grant",
        "file": (io.BytesIO(b"reference\n"), "g.csv")}, content_type="multipart/form-data")
    assert grants.status_code == 403  # procurement officers do not import grants
