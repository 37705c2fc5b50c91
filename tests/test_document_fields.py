"""The fields the city's documents are made from: each unit's name and address (edited by
administrators, audited), a grant's kind and method of funding and the authority that takes
an objection, and the steering group's texts of the ECCAR report (audited, per period)."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import docx
import pytest
from lxml import etree
from sqlalchemy import select

from clause_tracker.agreements import documents as agreement_documents
from clause_tracker.agreements.models import Agreement
from clause_tracker.agreements.services import RegistryError
from clause_tracker.audit.models import AuditEvent
from clause_tracker.documents.generate import percent_text
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.overview import narratives
from clause_tracker.overview.eccar import quarter_label
from clause_tracker.overview.metrics import Period
from clause_tracker.overview.models import EccarNarrative
from clause_tracker.storage import storage
from tests.factories import new_counterparty, new_user, record_agreement, unit
from tests.helpers import hidden_fields


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def test_percent_and_quarter_in_words(app) -> None:
    assert percent_text(Decimal("19.00")) == "19 %"
    assert percent_text(Decimal("7.50")) == "7,5 %"
    assert percent_text(Decimal("0")) == "0 %"
    from flask_babel import force_locale  # a request-free locale for the label
    with force_locale("de"):
        assert quarter_label("2026-Q4") == "4. Quartal 2026"
        assert quarter_label("Summe") == "Summe"


def test_an_admin_edits_a_units_name_and_address(client, signed_in, app) -> None:
    kij = unit("KIJ")
    signed_in("admin")
    assert "Kommunale Immobilien Jena" in client.get("/admin/units/").get_data(as_text=True)
    page = f"/admin/units/{kij.id}"
    fields = hidden_fields(client, page)
    response = client.post(page, data={
        "csrf_token": fields["csrf_token"],
        "document_name": "Kommunale Immobilien Jena – Eigenbetrieb der Stadt Jena",
        "address": "  Paradiesstraße 6 \r\n\r\n07743 Jena  "})
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(OrgUnit, kij.id)
    assert saved.address == "Paradiesstraße 6\n07743 Jena"  # lines kept, blanks dropped
    assert saved.letterhead_name.startswith("Kommunale Immobilien Jena – Eigenbetrieb")
    event = _events("orgunit.update")[-1]
    assert json.loads(event.details)["changes"]["address"] == [None, saved.address]
    # The same values again change nothing and record nothing.
    client.post(page, data={"csrf_token": fields["csrf_token"],
                            "document_name": saved.document_name, "address": saved.address})
    assert len(_events("orgunit.update")) == 1
    too_long = client.post(page, data={"csrf_token": fields["csrf_token"],
                                       "document_name": "x" * 201, "address": ""})
    assert too_long.status_code == 400


@pytest.mark.parametrize("role", ["procurement_officer", "auditor"])
def test_only_admins_edit_units(client, signed_in, app, role) -> None:
    kij = unit("KIJ")
    signed_in(role)
    assert client.get("/admin/units/").status_code == 403
    assert client.post(f"/admin/units/{kij.id}", data={"address": "x"}).status_code == 403


def _xml_text(data: bytes) -> str:
    with io.BytesIO(data) as buffer:
        document = docx.Document(buffer)
    return "".join(etree.fromstring(etree.tostring(document.element)).itertext())


def _record(kind: str, code: str, **values):
    role = "procurement_officer" if kind == "contract" else "grant_manager"
    officer = new_user(role, code)
    party = new_counterparty()
    return record_agreement(kind, officer, party.id, **values), officer


def test_a_grant_notice_from_the_record(app, published_clauses) -> None:
    grant, officer = _record("grant", "FDJB", funding_kind="institutional",
                             funding_method="full", remedy_authority="Stadt Jena – Rechtsamt",
                             remedy_address="Am Anger 15\n07743 Jena")
    record = agreement_documents.generate(grant, "de", "Markt 1\n07743 Jena", officer)
    text = _xml_text(storage().get(record.output_sha256 or ""))
    assert "als institutionelle Förderung im Wege der Vollfinanzierung" in text
    assert "„Fonds Politische Bildung“" in text
    assert "Stadt Jena – Rechtsamt" in text and "innerhalb eines Monats" in text
    assert "Anlage 1 – Nebenbestimmung zur Antirassismusklausel" in text
    assert "Umsatzsteuer" not in text


def test_a_grant_without_its_funding_is_not_generated(app, published_clauses) -> None:
    grant, officer = _record("grant", "FDJB", funding_kind=None, funding_method=None)
    with pytest.raises(RegistryError, match="kind of funding, method of financing"):
        agreement_documents.generate(grant, "de", "Markt 1", officer)


def test_a_contract_without_its_vat_rate_is_not_generated(app, published_clauses) -> None:
    contract, officer = _record("contract", "ZVS", vat_rate=None)
    with pytest.raises(RegistryError, match="VAT rate"):
        agreement_documents.generate(contract, "de", "Weg 1", officer)


def test_a_contract_of_kij_carries_kijs_address(app, published_clauses) -> None:
    kij = unit("KIJ")
    kij.document_name = "Kommunale Immobilien Jena – Eigenbetrieb der Stadt Jena"
    kij.address = "Paradiesstraße 6\n07743 Jena"
    db.session.commit()
    contract, officer = _record("contract", "KIJ", value=Decimal("1000"))
    record = agreement_documents.generate(contract, "de", "Weg 1\n07745 Jena", officer)
    data = storage().get(record.output_sha256 or "")
    body = docx.Document(io.BytesIO(data))
    lines = "\n".join(p.text for p in body.paragraphs)
    assert "Kommunale Immobilien Jena – Eigenbetrieb der Stadt Jena\nParadiesstraße 6\n" \
        "07743 Jena" in lines
    assert "Am Anger" not in lines
    assert "Weg 1\n07745 Jena" in lines
    assert "netto 1.000,00\u00a0€" in lines and "brutto also 1.190,00\u00a0€" in lines


def test_the_grant_form_records_the_funding(client, signed_in, published_clauses, app) -> None:
    signed_in("grant_manager", "FDJB")
    fields = hidden_fields(client, "/agreements/new/grant")
    response = client.post("/agreements/new/grant", data={
        **fields, "reference": "FDJB-2026-1", "programme": "Demokratie leben",
        "subject": "Beratung", "counterparty_id": "0", "value": "1.000,00",
        "funding_kind": "project", "funding_method": "share",
        "remedy_authority": "", "remedy_address": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    grant = db.session.scalar(select(Agreement).where(Agreement.reference == "FDJB-2026-1"))
    assert (grant.funding_kind, grant.funding_method) == ("project", "share")
    assert grant.remedy_authority is None  # empty: the unit itself
    page = client.get(f"/agreements/{grant.id}").get_data(as_text=True)
    assert "Anteilfinanzierung" in page and "Projektförderung" in page
    bad = hidden_fields(client, "/agreements/new/grant")
    refused = client.post("/agreements/new/grant", data={
        **bad, "reference": "FDJB-2026-2", "programme": "P", "subject": "S",
        "counterparty_id": "0", "funding_kind": "loan", "funding_method": "share"})
    assert refused.status_code in (200, 400)
    assert db.session.scalar(select(Agreement).where(Agreement.reference == "FDJB-2026-2")) \
        is None


def test_the_steering_groups_texts_are_kept_per_period_and_audited(client, signed_in, csrf,
                                                                   app) -> None:
    signed_in("admin")
    page = "/overview/eccar/texts?from=2025-01-01&to=2026-12-31"
    response = client.post(page, data={"csrf_token": csrf(client, page),
                                        "summary": "Erster Absatz.\n\nZweiter.",
                                        "commitment_3": ""})
    assert response.status_code == 302
    period = Period(date(2025, 1, 1), date(2026, 12, 31))
    assert narratives.texts(period) == {"summary": "Erster Absatz.\n\nZweiter."}
    assert narratives.texts(Period(date(2025, 1, 1), date(2026, 12, 30))) == {}
    assert "Erster Absatz." in client.get(page).get_data(as_text=True)
    client.post(page, data={"csrf_token": csrf(client, page), "summary": ""})
    assert narratives.texts(period) == {}
    events = _events("eccar.narrative")
    assert [json.loads(e.details)["section"] for e in events] == ["summary", "summary"]
    assert json.loads(events[-1].details)["previous"] == "Erster Absatz.\n\nZweiter."
    assert db.session.scalar(select(EccarNarrative)) is None


@pytest.mark.parametrize("role", ["auditor", "procurement_officer"])
def test_only_admins_write_the_texts(client, signed_in, app, role) -> None:
    signed_in(role)
    assert client.get("/overview/eccar/texts?from=2025-01-01&to=2026-12-31").status_code == 403


def test_the_texts_need_a_period(client, signed_in, app) -> None:
    signed_in("admin")
    response = client.get("/overview/eccar/texts?from=2025-01-01")
    assert response.status_code == 302 and response.headers["Location"].endswith("/eccar")


def test_without_libreoffice_the_pdf_is_refused_with_a_message(app, published_clauses, client,
                                                               signed_in, monkeypatch,
                                                               tmp_path) -> None:
    contract, officer = _record("contract", "ZVS")
    record = agreement_documents.generate(contract, "de", "Weg 1", officer)
    signed_in("auditor")
    monkeypatch.setenv("PATH", str(tmp_path))  # a server without LibreOffice
    response = client.get(f"/documents/{record.id}/download.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/documents/{record.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "LibreOffice ist auf dem Server nicht installiert" in page
    assert client.get("/documents/999999/download.pdf").status_code == 404
