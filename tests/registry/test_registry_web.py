"""The registry through HTTP: forms, PRG, double submission, edit conflicts, scoping, roles."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from clause_tracker.agreements.models import Agreement
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from tests.factories import add_declaration
from tests.helpers import PDF, german, hidden_fields

CONTRACT = {"reference": "ZVS-2026-017", "subject": "Gebäudereinigung Schulen Nord",
            "contract_kind": "services", "procedure": "open", "counterparty_id": "0",
            "estimated_value": "120.000,00", "value": "1.234,56", "decided_on": "05.03.2026",
            "start_date": "01.04.2026", "end_date": "31.03.2027", "renewal_options": "2 × 1 Jahr",
            "vat_rate": "19"}


def _create(client, data=None, fields=None):
    fields = fields or hidden_fields(client, "/agreements/new/contract")
    return client.post("/agreements/new/contract", data={**fields, **(data or CONTRACT)})


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Agreement))


def test_create_contract_with_german_formats_prg(client, signed_in) -> None:
    signed_in("procurement_officer")
    response = _create(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ZVS-2026-017" in page
    contract = db.session.scalar(select(Agreement))
    assert str(contract.value) == "1234.56" and contract.decided_on.isoformat() == "2026-03-05"
    assert contract.status == "draft" and contract.org_unit.code == "ZVS"
    # The history shows the audit event, in the reader's language.
    assert "Vertrag ZVS-2026-017 erfasst" in page and "contract.create" not in page


def test_invalid_input_shows_messages_next_to_fields(client, signed_in) -> None:
    signed_in("procurement_officer")
    response = _create(client, {**CONTRACT, "value": "12.34.5", "decided_on": "31.02.2026",
                                "reference": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="value-error"' in page and 'id="decided_on-error"' in page
    assert 'id="reference-error"' in page and 'aria-invalid="true"' in page
    assert _count() == 0


def test_double_submission_creates_one_record(client, signed_in) -> None:
    signed_in("procurement_officer")
    fields = hidden_fields(client, "/agreements/new/contract")
    first = _create(client, fields=fields)
    second = _create(client, fields=fields)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _count() == 1


def test_duplicate_reference_is_a_field_error(client, signed_in) -> None:
    signed_in("procurement_officer")
    _create(client)
    response = _create(client)
    assert response.status_code == 400
    assert 'id="reference-error"' in response.get_data(as_text=True)
    assert _count() == 1


def test_edit_conflict_second_saver_is_refused(client, signed_in) -> None:
    signed_in("procurement_officer")
    german(client)
    location = _create(client).headers["Location"]
    edit = location + "/edit"
    first, second = hidden_fields(client, edit), hidden_fields(client, edit)
    assert first["version"] == second["version"]
    ok = client.post(edit, data={**first, **CONTRACT, "subject": "Erste Änderung"})
    assert ok.status_code == 302
    clash = client.post(edit, data={**second, **CONTRACT, "subject": "Zweite Änderung"})
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    assert ("Jemand anderes hat diesen Vorgang geändert, während Sie ihn bearbeitet haben. "
            "Nichts wurde gespeichert.") in page
    db.session.expire_all()
    assert db.session.scalar(select(Agreement.subject)) == "Erste Änderung"


def test_unit_scoping_kij_cannot_see_jenakultur(app, client, signed_in, make_agreement) -> None:
    theirs = make_agreement("contract", unit="JK", reference="JK-2026-001")
    signed_in("procurement_officer", unit="KIJ")
    for path in (f"/agreements/{theirs.id}", f"/agreements/{theirs.id}/edit",
                 f"/declarations/request/{theirs.id}"):
        assert client.get(path).status_code == 404, path
    listing = client.get("/agreements/?q=JK-2026").get_data(as_text=True)
    assert "JK-2026-001" not in listing
    decl = add_declaration(theirs, "received", evidence_key=None)
    assert client.get(f"/declarations/{decl.id}/receive").status_code == 404


def test_kind_decides_who_works_on_it(client, signed_in, make_agreement) -> None:
    grant = make_agreement("grant", unit="ZVS")
    signed_in("procurement_officer")  # ZVS: sees the grant, may not change it
    assert client.get(f"/agreements/{grant.id}").status_code == 200
    assert client.get(f"/agreements/{grant.id}/edit").status_code == 403


def test_auditor_reads_everything_and_every_post_is_refused(app, client, signed_in,
                                                             make_agreement, csrf) -> None:
    contract = make_agreement("contract", unit="KIJ")
    decl = add_declaration(contract, "received")
    signed_in("auditor")
    page = client.get(f"/agreements/{contract.id}")
    assert page.status_code == 200
    assert f"Vertrag {contract.reference} erfasst" in page.get_data(as_text=True)
    assert "<form method=\"post\" action=\"/agreements" not in page.get_data(as_text=True)
    token = csrf(client, "/agreements/")
    args = {"agreement_id": contract.id, "declaration_id": decl.id, "counterparty_id": 1,
            "status": "terminated"}
    checked = 0
    with app.test_request_context():
        from flask import url_for

        urls = [url_for(rule.endpoint, **{k: args[k] for k in rule.arguments})
                for rule in app.url_map.iter_rules()
                if "POST" in rule.methods
                and rule.endpoint.split(".")[0] in ("registry", "declarations",
                                                    "counterparties")]
    for url in urls:
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
        checked += 1
    assert checked >= 12


def test_declaration_deadline_skips_thuringian_holidays(client, signed_in, published_clauses,
                                                        counterparty) -> None:
    signed_in("procurement_officer")
    location = _create(client, {**CONTRACT, "counterparty_id": str(counterparty.id)}) \
        .headers["Location"]
    agreement_id = int(location.rstrip("/").split("/")[-1])
    path = f"/declarations/request/{agreement_id}"
    page = client.get(path).get_data(as_text=True)
    assert "ohne Feiertage in Thüringen" in page and "Thüringer Feiertage" in page
    client.post(path, data={**hidden_fields(client, path), "party": "main", "party_name": "",
                            "requested_on": "01.10.2025", "working_days": "3"})
    decl = db.session.get(Agreement, agreement_id).declarations[0]
    assert decl.deadline.isoformat() == "2025-10-07"  # past Friday 3 October and a weekend


def test_full_contract_flow_over_http(client, signed_in, published_clauses, counterparty) -> None:
    signed_in("procurement_officer")
    location = _create(client, {**CONTRACT, "counterparty_id": str(counterparty.id)}) \
        .headers["Location"]
    agreement_id = int(location.rstrip("/").split("/")[-1])
    fields = hidden_fields(client, location)
    award = {"csrf_token": fields["csrf_token"], "status": "awarded"}
    refused = client.post(f"/agreements/{agreement_id}/status",
                          data={**award, "version": fields["version"]}, follow_redirects=True)
    assert "agreement-status\">" in refused.get_data(as_text=True)
    assert db.session.get(Agreement, agreement_id).status == "draft"

    client.post(f"/agreements/{agreement_id}/clause", data={
        "csrf_token": fields["csrf_token"], "version": fields["version"],
        "method": "contract_document", "language": "de"})
    request_fields = hidden_fields(client, f"/declarations/request/{agreement_id}")
    client.post(f"/declarations/request/{agreement_id}", data={
        **request_fields, "party": "main", "party_name": "", "requested_on": "05.03.2026",
        "working_days": "5"})
    db.session.expire_all()
    agreement = db.session.get(Agreement, agreement_id)
    decl = agreement.declarations[0]
    assert decl.state == "requested" and decl.deadline.isoformat() == "2026-03-12"

    receive = hidden_fields(client, f"/declarations/{decl.id}/receive")
    done = client.post(f"/declarations/{decl.id}/receive", data={
        **receive, "signer_name": "Erika Muster", "signer_function": "Geschäftsführerin",
        "signed_on": "06.03.2026", "received_on": "09.03.2026", "channel": "post",
        "valid_until": "", "evidence": (io.BytesIO(PDF), "erklaerung.pdf")},
        content_type="multipart/form-data")
    assert done.status_code == 302
    db.session.expire_all()
    decl = db.session.get(type(decl), decl.id)
    assert decl.state == "received" and decl.evidence_mimetype == "application/pdf"
    download = client.get(f"/declarations/{decl.id}/evidence")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")

    page = client.get(location).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page[page.index("declarations"):])
    client.post(f"/declarations/{decl.id}/transition", data={
        "csrf_token": fields["csrf_token"], "version": version.group(1), "action": "accept",
        "note": ""})
    db.session.expire_all()
    assert db.session.get(type(decl), decl.id).state == "accepted"
    fields = hidden_fields(client, location)
    client.post(f"/agreements/{agreement_id}/status", data={**award,
                                                            "version": fields["version"]})
    db.session.expire_all()
    assert db.session.get(Agreement, agreement_id).status == "awarded"
    page = client.get(location).get_data(as_text=True)
    assert "Erklärung Eingegangen → Angenommen" in page and ": Entwurf → Vergeben" in page

    # Generate the contract document from the record; it is linked and listed.
    generated = client.post(f"/agreements/{agreement_id}/document", data={
        "csrf_token": fields["csrf_token"], "version": "0", "language": "de",
        "counterparty_address": "Löbdergraben 1, 07743 Jena"})
    assert generated.status_code == 302, generated.get_data(as_text=True)[:500]
    record = db.session.scalar(select(DocumentRecord))
    assert record.agreement_id == agreement_id
    issued = client.get(f"/documents/{record.id}/download").data
    checked = client.post(f"/agreements/{agreement_id}/verify", data={
        "csrf_token": fields["csrf_token"], "document": (io.BytesIO(issued), "signed.docx")},
        content_type="multipart/form-data")
    assert checked.status_code == 302
    page = client.get(location).get_data(as_text=True)
    assert page.count(record.filename) >= 1 and "signed.docx" in page


@pytest.mark.parametrize(("data", "name"), [
    (b"MZ\x90\x00 not a pdf", "erklaerung.pdf"),
    (b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024), "gross.pdf"),
])
def test_evidence_type_and_size_are_checked(client, signed_in, make_agreement, data,
                                            name) -> None:
    officer = signed_in("procurement_officer")
    contract = make_agreement("contract", unit=officer.org_unit.code)
    decl = add_declaration(contract, "requested")
    fields = hidden_fields(client, f"/declarations/{decl.id}/receive")
    response = client.post(f"/declarations/{decl.id}/receive", data={
        **fields, "signer_name": "E. M.", "signer_function": "GF", "signed_on": "06.03.2026",
        "received_on": "09.03.2026", "channel": "post",
        "evidence": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="evidence-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(decl), decl.id).state == "requested"


def test_grant_manager_records_commitment(client, signed_in, make_agreement, csrf) -> None:
    manager = signed_in("grant_manager")
    grant = make_agreement("grant", unit=manager.org_unit.code)
    token = csrf(client, f"/agreements/{grant.id}")
    client.post(f"/declarations/commitment/{grant.id}", data={
        "csrf_token": token, "score": "7", "notes": "Leitbild"})
    page = client.get(f"/agreements/{grant.id}").get_data(as_text=True)
    assert 'id="commitment"' in page and "freiwillige Selbstverpflichtung mit 7 von" in page


def test_list_search_filter_sort_and_pages(client, signed_in, make_agreement) -> None:
    officer = signed_in("procurement_officer")
    for n in range(30):
        make_agreement("contract", unit=officer.org_unit.code, reference=f"R-{n:03d}")
    first = client.get("/agreements/?sort=reference").get_data(as_text=True)
    assert "R-000" in first and "R-024" in first and "R-025" not in first
    second = client.get("/agreements/?sort=reference&page=2").get_data(as_text=True)
    assert "R-025" in second and "R-000" not in second
    found = client.get("/agreements/?q=R-007&compliance=pending&kind=contract&status=draft")
    assert "R-007" in found.get_data(as_text=True)
    assert "R-008" not in found.get_data(as_text=True)
    none = client.get("/agreements/?compliance=compliant").get_data(as_text=True)
    assert "R-001" not in none


def test_admin_sets_threshold(client, signed_in, csrf) -> None:
    signed_in("procurement_officer")  # creates the ZVS unit
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    signed_in("admin")
    page = client.get("/agreements/thresholds").get_data(as_text=True)
    unit_id = re.search(r'<option value="(\d+)"', page).group(1)
    response = client.post("/agreements/thresholds", data={
        "csrf_token": csrf(client, "/agreements/thresholds"), "org_unit_id": unit_id,
        "kind": "contract", "amount": "1.000,00"})
    assert response.status_code == 302
    assert "1.000,00" in client.get("/agreements/thresholds").get_data(as_text=True)
