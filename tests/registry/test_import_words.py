"""The import speaks the form's language: its labels as column names (the older names still
accepted), errors in the user's words, a template that round-trips, warnings for unusual
values, and amounts beyond the column's precision refused — in imports and in forms."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from clause_tracker.agreements.importing import import_file
from clause_tracker.agreements.models import Agreement
from clause_tracker.extensions import db
from clause_tracker.i18n import LANGUAGE_COOKIE
from clause_tracker.orgunits.models import UnitKind
from clause_tracker.orgunits.services import ensure_unit
from tests.helpers import german, hidden_fields

ROW = "K-1;Dachsanierung;Bauleistungen;Offenes Verfahren;1.234,56;05.03.2026;Muster Bau GmbH;KIJ\n"


@pytest.fixture
def kij(app):
    unit = ensure_unit("KIJ", "Kommunale Immobilien Jena", UnitKind.EIGENBETRIEB)
    db.session.commit()
    return unit


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Agreement))


def _errors(report) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, e.message) for e in report.errors]


@pytest.mark.parametrize("header", [
    # the form's labels, German and English, in any case and spacing
    "Vergabenummer;Gegenstand;Auftragsart;Vergabeverfahren;Auftragswert in EUR;"
    "Zuschlagsdatum;Vertragspartner;Organisationseinheit",
    "  VERGABENUMMER ; gegenstand;AUFTRAGSART;vergabe-verfahren;auftragswert  in  eur;"
    "zuschlags datum;vertragspartner ;organisations einheit",
    "Award number (Vergabenummer);Subject;Kind of contract;Procedure;Awarded value in EUR;"
    "Award date;Contracting partner;Unit",
    # the form's longer labels
    "Vergabenummer;Gegenstand;Auftragsart;Vergabeverfahren;"
    "Auftragswert laut Zuschlag, netto (ohne Umsatzsteuer), in EUR;Zuschlagsdatum;"
    "Vertragspartner oder Zuwendungsempfänger;Organisationseinheit",
    # the older names and codes
    "Vergabenummer;Gegenstand;Leistungsart;Verfahren;Auftragswert;Zuschlag;Auftragnehmer;unit",
    "reference;subject;contract_kind;procedure;value;award_date;contractor;unit",
])
def test_headers_in_the_forms_words_and_the_old_ones(app, kij, header) -> None:
    if "," in header:  # a CSV would take the commas for separators: as XLSX
        book = Workbook()
        book.active.append(header.split(";"))
        book.active.append(ROW.strip().split(";"))
        out = io.BytesIO()
        book.save(out)
        data, name = out.getvalue(), "v.xlsx"
    else:
        data, name = (header + "\n" + ROW).encode(), "v.csv"
    report = import_file("contract", data, name)
    assert _errors(report) == [] and report.created == ["K-1"]
    stored = db.session.scalar(select(Agreement))
    assert (stored.contract_kind, stored.procedure, stored.value, stored.decided_on,
            stored.counterparty.name) == ("works", "open", Decimal("1234.56"),
                                          date(2026, 3, 5), "Muster Bau GmbH")


def test_errors_name_the_label_the_line_what_is_wrong_and_what_is_expected(app, kij) -> None:
    data = ("Vergabenummer;Gegenstand;Vertragspartner;Zuschlagsdatum\n"
            "K-1;;X;2026-13-01\n")
    with force_locale("de"):
        missing = import_file("contract", data.encode(), "v.csv", unit=kij)
        assert _errors(missing) == [
            (1, "Auftragsart", "diese Spalte fehlt; jede Datei braucht sie")]
        rows = ("Vergabenummer;Gegenstand;Auftragsart;Zuschlagsdatum;Beginn;Ende\n"
                "K-1;;Raumfahrt;2026-13-01;01.05.2026;01.04.2026\n")
        report = import_file("contract", rows.encode(), "v.csv", unit=kij)
    assert _errors(report) == [
        (2, "Gegenstand", "leer; jede Zeile braucht hier einen Wert"),
        (2, "Auftragsart", "„Raumfahrt“ ist keiner der Werte dieser Spalte: Lieferleistungen, "
                           "Dienstleistungen, Bauleistungen, Konzession"),
        (2, "Zuschlagsdatum",
         "„2026-13-01“ ist kein Datum; erwartet wird ein Datum wie 05.03.2026"),
        (2, "Ende", "das Ende (01.04.2026) liegt vor dem Beginn (01.05.2026)"),
    ]
    # Never the field's code.
    assert not any(code in str(report.errors + missing.errors)
                   for code in ("contract_kind", "decided_on", "end_date", "Pflichtspalte"))
    assert _count() == 0


def test_amounts_beyond_the_columns_precision_are_refused(app, kij) -> None:
    header = "Vergabenummer;Gegenstand;Auftragsart;Auftragswert in EUR\n"
    rows = ("K-1;Dach;works;99999999999999999999999,99\n"
            "K-2;Dach;works;1.234,567\n"
            "K-3;Dach;works;1.000.000.000.000\n")
    with force_locale("de"):
        report = import_file("contract", (header + rows).encode(), "v.csv", unit=kij)
        assert _errors(report) == [
            (2, "Auftragswert in EUR", "99999999999999999999999,99 hat mehr als 12 Stellen vor "
                                       "dem Komma; höchstens 999.999.999.999,99 € passen"),
            (3, "Auftragswert in EUR", "1.234,567 hat mehr als 2 Nachkommastellen; Beträge in "
                                       "Euro und Cent, etwa 1.234,56"),
            (4, "Auftragswert in EUR", "1.000.000.000.000 hat mehr als 12 Stellen vor dem "
                                       "Komma; höchstens 999.999.999.999,99 € passen"),
        ]
        book = Workbook()
        book.active.append(["Vergabenummer", "Gegenstand", "Auftragsart", "Auftragswert in EUR"])
        book.active.append(["K-4", "Dach", "works", 1234.567])
        out = io.BytesIO()
        book.save(out)
        report = import_file("contract", out.getvalue(), "v.xlsx", unit=kij)
    assert [(e.line, e.message) for e in report.errors] == [
        (2, "1234.567 hat mehr als 2 Nachkommastellen; Beträge in Euro und Cent, etwa 1.234,56")]
    assert _count() == 0


def test_unusual_values_are_warnings_shown_before_the_import(app, client, signed_in) -> None:
    signed_in("procurement_officer", unit="KIJ")
    german(client)
    data = ("Vergabenummer;Gegenstand;Auftragsart;Auftragswert in EUR;Zuschlagsdatum\n"
            "K-1;Dach;works;12.000.000.000,00;05.03.2026\n"
            "K-2;Fenster;works;0,00;05.03.2026\n"
            "K-3;Türen;works;1.000,00;05.03.2099\n"
            "K-4;Böden;works;1.000,00;05.03.2026\n")

    def post(dry_run: bool):
        fields = hidden_fields(client, "/agreements/import")
        form = {"csrf_token": fields["csrf_token"], "kind": "contract",
                "file": (io.BytesIO(data.encode()), "v.csv")}
        if dry_run:
            form["dry_run"] = "y"
        return client.post("/agreements/import", data=form, content_type="multipart/form-data")

    preview = post(dry_run=True)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "3 Werte zum Prüfen (Hinweise, keine Fehler)" in page
    assert ("<tr><td>2</td><td>Auftragswert in EUR</td><td>12.000.000.000,00\xa0€ ist mehr als "
            "100.000.000,00\xa0€; bitte prüfen Sie den Betrag</td></tr>") in page
    assert ("<tr><td>3</td><td>Auftragswert in EUR</td><td>0,00 €; bitte prüfen Sie, ob der "
            "Betrag fehlt</td></tr>") in page
    assert ("<tr><td>4</td><td>Zuschlagsdatum</td><td>05.03.2099 liegt in der Zukunft; bitte "
            "prüfen Sie das Datum</td></tr>") in page
    assert _count() == 0
    # Warnings do not stop the import.
    assert post(dry_run=False).status_code == 200
    assert _count() == 4


def test_the_plausibility_threshold_is_configurable(app, kij) -> None:
    app.config["PLAUSIBLE_MAX_AMOUNT"] = 1000
    data = "Vergabenummer;Gegenstand;Auftragsart;Auftragswert in EUR\nK-1;Dach;works;1.000,01\n"
    report = import_file("contract", data.encode(), "v.csv", dry_run=True, unit=kij)
    assert [(w.line, w.column) for w in report.warnings] == [(2, "Awarded value in EUR")]


@pytest.mark.parametrize("kind", ["contract", "grant"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_round_trips_through_the_import(client, signed_in, kind, fmt) -> None:
    signed_in("procurement_officer" if kind == "contract" else "grant_manager", unit="KIJ")
    german(client)
    response = client.get(f"/agreements/import/template.{fmt}?kind={kind}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
        header = rows[0]
    else:
        book = load_workbook(io.BytesIO(response.data))
        header = [c.value for c in book.worksheets[0][1]]
        notes = [[c.value for c in row] for row in book.worksheets[1].iter_rows()]
        assert book.sheetnames[1] == "Erläuterungen zu den Spalten"
        assert notes[0] == ["Spalte", "Pflicht", "Was sie enthält", "Beispiel"]
        assert all(len(name) <= 31 for name in book.sheetnames)
    if kind == "contract":
        assert header[:4] == ["Vergabenummer", "Gegenstand", "Auftragsart", "Vergabeverfahren"]
        assert "Vertragspartner" in header
        if fmt == "xlsx":
            assert ["Auftragsart", "ja", "eines von: Lieferleistungen, Dienstleistungen, "
                    "Bauleistungen, Konzession", "Dienstleistungen"] in notes
    else:
        assert header[:3] == ["Aktenzeichen", "Förderprogramm oder Fonds", "Zuwendungszweck"]
        assert "Zuwendungsempfänger" in header
    fields = hidden_fields(client, "/agreements/import")
    imported = client.post("/agreements/import", data={
        "csrf_token": fields["csrf_token"], "kind": kind,
        "file": (io.BytesIO(response.data), f"vorlage.{fmt}")},
        content_type="multipart/form-data")
    assert imported.status_code == 200, imported.get_data(as_text=True)[-3000:]
    [record] = db.session.scalars(select(Agreement)).all()
    assert record.kind == kind and record.org_unit.code == "KIJ" and record.value > 0


def test_the_template_in_english_imports_too(client, signed_in) -> None:
    signed_in("procurement_officer", unit="KIJ")
    client.set_cookie(LANGUAGE_COOKIE, "en")
    response = client.get("/agreements/import/template.csv?kind=contract")
    text = response.data.decode("utf-8-sig")
    assert text.startswith("Award number (Vergabenummer);Subject;Kind of contract;Procedure;")
    assert "Services" in text and "Public tender (below EU thresholds)" in text
    with force_locale("de"):
        report = import_file("contract", response.data, "template.csv", dry_run=True)
    assert _errors(report) == [] and report.created == ["ZVS-2026-0815"]


def test_the_template_needs_the_right_to_work_on_records(client, signed_in) -> None:
    signed_in("auditor")
    assert client.get("/agreements/import/template.csv?kind=contract").status_code == 403


# --- forms --------------------------------------------------------------------------------------

CONTRACT = {"reference": "ZVS-2026-017", "subject": "Gebäudereinigung", "contract_kind": "services",
            "procedure": "open", "counterparty_id": "0", "value": "1.234,56"}


def _create(client, **values):
    fields = hidden_fields(client, "/agreements/new/contract")
    return client.post("/agreements/new/contract", data={**fields, **CONTRACT, **values})


def test_a_form_refuses_amounts_beyond_the_columns_precision(client, signed_in) -> None:
    signed_in("procurement_officer")
    german(client)
    too_large = _create(client, value="99999999999999999999999,99")
    assert too_large.status_code == 400
    assert "Der Betrag darf höchstens 999.999.999.999,99 € betragen." in \
        too_large.get_data(as_text=True)
    too_precise = _create(client, estimated_value="1.234,567")
    assert too_precise.status_code == 400
    assert "Höchstens zwei Nachkommastellen (Cent): Bitte geben Sie einen Betrag wie 1.234,56 " \
        "ein." in too_precise.get_data(as_text=True)
    assert _count() == 0


def test_a_form_asks_to_confirm_an_unusually_high_amount(client, signed_in) -> None:
    signed_in("procurement_officer")
    german(client)
    asked = _create(client, value="12.000.000.000,00")
    assert asked.status_code == 400
    page = asked.get_data(as_text=True)
    assert "12.000.000.000,00\xa0€ ist mehr als 100.000.000,00\xa0€. Wenn der Betrag stimmt, " \
        "kreuzen Sie „Der Betrag stimmt“ an und speichern Sie erneut." in page
    assert 'name="confirm_amount"' in page
    assert _count() == 0
    confirmed = _create(client, value="12.000.000.000,00", confirm_amount="y")
    assert confirmed.status_code == 302
    assert db.session.scalar(select(Agreement.value)) == Decimal("12000000000.00")
    # Saving the record again with the amount unchanged asks nothing.
    record = db.session.scalar(select(Agreement))
    fields = hidden_fields(client, f"/agreements/{record.id}/edit")
    again = client.post(f"/agreements/{record.id}/edit", data={
        **fields, **CONTRACT, "value": "12.000.000.000,00", "subject": "Reinigung"})
    assert again.status_code == 302
