"""Every operation of the JSON API: what it answers, unit scoping, ETag/If-Match,
idempotency, and the shapes of its problem details."""

from __future__ import annotations

import hashlib
import io
from datetime import date

from sqlalchemy import func, select

from clause_tracker.agreements.models import Agreement
from clause_tracker.checks.models import ComplianceCheck, Measure
from clause_tracker.clock import utcnow
from clause_tracker.declarations.models import Declaration
from clause_tracker.extensions import db
from tests.factories import add_declaration, insert_agreement, new_counterparty, new_user

CONTRACT = {"reference": "VG-2026-001", "subject": "Reinigung", "contract_kind": "services",
            "procedure": "open", "value": "12345.67", "vat_rate": "19",
            "start_date": "2026-01-01", "end_date": "2026-12-31"}
GRANT = {"reference": "FB-2026-7", "subject": "Projekt", "programme": "Fonds",
         "value": "5000.00"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["title"] and body["type"]
    return body


def test_create_read_and_list_a_contract(app, bearer) -> None:
    api = bearer("procurement_officer", "ZVS")
    party = new_counterparty(name="Reinigung Jena GmbH")
    response = api.post("/api/v1/contracts", json=CONTRACT | {"counterparty_id": party.id})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["reference"] == "VG-2026-001" and body["status"] == "draft"
    assert body["value"] == "12345.67" and body["vat_amount"] == "2345.68"
    assert body["gross_value"] == "14691.35"
    assert body["org_unit"]["code"] == "ZVS" and body["counterparty_name"] == party.name
    assert body["compliance"]["state"] == "pending"
    assert body["compliance"]["reason"] == "draft_without_clause"
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/api/v1/agreements/{body['id']}"
    again = api.get(response.headers["Location"])
    assert again.json == body and again.headers["ETag"] == '"1"'
    listed = api.get("/api/v1/agreements?kind=contract&q=VG-2026")
    assert [a["id"] for a in listed.json["items"]] == [body["id"]]
    assert listed.json["total"] == 1 and listed.json["next"] is None


def test_create_a_grant_and_kind_rules(app, bearer) -> None:
    manager = bearer("grant_manager", "FDJB")
    response = manager.post("/api/v1/grants", json=GRANT)
    assert response.status_code == 201 and response.json["programme"] == "Fonds"
    # A grant manager does not record contracts (the permission map).
    _problem(manager.post("/api/v1/contracts", json=CONTRACT), 403)


def test_validation_errors_name_each_field(app, bearer) -> None:
    api = bearer()
    body = _problem(api.post("/api/v1/contracts", json={
        "reference": " ", "subject": "x", "contract_kind": "magic", "procedure": "open",
        "value": 12.5, "start_date": "2026-02-01", "end_date": "2026-01-01", "extra": 1}), 422)
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"#/reference", "#/contract_kind", "#/value", "#/extra"} <= pointers
    assert body["type"].endswith("validation")
    body = _problem(api.get("/api/v1/agreements?kind=lease&page=0"), 422)
    assert {e["parameter"] for e in body["errors"]} == {"kind", "page"}


def test_duplicate_reference_is_a_conflict(app, bearer) -> None:
    api = bearer()
    assert api.post("/api/v1/contracts", json=CONTRACT).status_code == 201
    body = _problem(api.post("/api/v1/contracts", json=CONTRACT), 409)
    assert "VG-2026-001" in body["detail"]


def test_idempotency_key_creates_once(app, bearer) -> None:
    api = bearer()
    key = {"Idempotency-Key": "order-4711-abcdefgh"}
    first = api.post("/api/v1/contracts", json=CONTRACT, headers=key)
    second = api.post("/api/v1/contracts", json=CONTRACT, headers=key)
    assert first.status_code == 201 and second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json["id"] == second.json["id"]
    assert db.session.scalar(select(func.count()).select_from(Agreement)) == 1


def test_update_needs_if_match_and_refuses_a_stale_one(app, bearer) -> None:
    api = bearer()
    created = api.post("/api/v1/contracts", json=CONTRACT).json
    url = f"/api/v1/contracts/{created['id']}"
    _problem(api.patch(url, json={"subject": "Neu"}), 428)
    changed = api.patch(url, json={"subject": "Neu"}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.json["subject"] == "Neu"
    assert changed.headers["ETag"] == '"2"'
    body = _problem(api.patch(url, json={"subject": "Alt"}, headers={"If-Match": '"1"'}), 412)
    assert body["type"].endswith("edit-conflict")
    db.session.expire_all()
    assert db.session.get(Agreement, created["id"]).subject == "Neu"
    # A contract is not a grant.
    _problem(api.patch(f"/api/v1/grants/{created['id']}", json={"subject": "x"},
                       headers={"If-Match": '"2"'}), 403)
    # The period stays in order against the stored start.
    _problem(api.patch(url, json={"end_date": "2025-01-01"}, headers={"If-Match": '"2"'}), 422)


def test_unit_scoping(app, bearer) -> None:
    ours = bearer("procurement_officer", "ZVS")
    theirs = insert_agreement("contract", "KIJ", status="active")
    _problem(ours.get(f"/api/v1/agreements/{theirs.id}"), 404)
    _problem(ours.patch(f"/api/v1/contracts/{theirs.id}", json={"subject": "x"},
                        headers={"If-Match": '"1"'}), 404)
    assert ours.get("/api/v1/agreements").json["total"] == 0
    auditor = bearer("auditor")
    assert auditor.get(f"/api/v1/agreements/{theirs.id}").status_code == 200
    # Auditors read everything and change nothing.
    _problem(auditor.post("/api/v1/contracts", json=CONTRACT), 403)


def test_pagination_links(app, bearer) -> None:
    api = bearer("procurement_officer", "ZVS")
    for _ in range(27):
        insert_agreement("contract", "ZVS", commit=False)
    db.session.commit()
    first = api.get("/api/v1/agreements?kind=contract")
    assert len(first.json["items"]) == 25 and first.json["pages"] == 2
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.json["next"]
    second = api.get(first.json["next"])
    assert len(second.json["items"]) == 2 and second.json["next"] is None
    assert 'rel="prev"' in second.headers["Link"]


def test_counterparties(app, bearer) -> None:
    api = bearer()
    party = new_counterparty(name="Grün & Söhne KG")
    listed = api.get("/api/v1/counterparties?q=Söhne")
    assert [p["name"] for p in listed.json["items"]] == ["Grün & Söhne KG"]
    assert api.get(f"/api/v1/counterparties/{party.id}").json["version"] == 1
    _problem(api.get("/api/v1/counterparties/999999"), 404)


RECEIPT = {"signer_name": "A. Muster", "signer_function": "GF", "signed_on": "2026-03-03",
           "received_on": "2026-03-04", "channel": "email"}


def test_request_receive_and_accept_a_declaration(app, bearer) -> None:
    api = bearer("procurement_officer", "ZVS")
    agreement = insert_agreement("contract", "ZVS", status="draft")
    response = api.post(f"/api/v1/agreements/{agreement.id}/declarations",
                        json={"requested_on": "2026-03-02", "working_days": 5})
    assert response.status_code == 201, response.json
    decl = response.json
    assert decl["state"] == "requested" and decl["deadline"] == "2026-03-09"
    url = f"/api/v1/declarations/{decl['id']}"
    _problem(api.post(url + "/receipt", data=RECEIPT, content_type="multipart/form-data"), 428)
    body = _problem(api.post(url + "/receipt", headers={"If-Match": response.headers["ETag"]},
                             data=RECEIPT | {"received_on": "2026-03-01"},
                             content_type="multipart/form-data"), 422)
    assert body["errors"] == [{"pointer": "#/received_on",
                               "detail": "It cannot arrive before it was signed."}]
    received = api.post(url + "/receipt", headers={"If-Match": response.headers["ETag"]},
                        data=RECEIPT | {"evidence": (io.BytesIO(b"%PDF-1.7 signed"), "e.pdf")},
                        content_type="multipart/form-data")
    assert received.status_code == 200, received.json
    assert received.json["state"] == "received"
    assert received.json["evidence_sha256"] == hashlib.sha256(b"%PDF-1.7 signed").hexdigest()
    accepted = api.post(url + "/transitions", json={"action": "accept"},
                        headers={"If-Match": received.headers["ETag"]})
    assert accepted.status_code == 200 and accepted.json["state"] == "accepted"
    listed = api.get(f"/api/v1/declarations?agreement_id={agreement.id}")
    assert [d["id"] for d in listed.json["items"]] == [decl["id"]]
    assert api.get(url).json["state"] == "accepted"


def test_accepting_needs_the_evidence_and_refusals_are_problems(app, bearer) -> None:
    api = bearer("procurement_officer", "ZVS")
    decl = add_declaration(insert_agreement("contract", "ZVS"), state="received")
    url = f"/api/v1/declarations/{decl.id}"
    body = _problem(api.post(url + "/transitions", json={"action": "accept"},
                             headers={"If-Match": '"1"'}), 409)
    assert "Nachweisdatei" in body["detail"]  # German, the default language
    _problem(api.post(url + "/receipt", headers={"If-Match": '"1"'},
                      data=RECEIPT | {"evidence": (io.BytesIO(b"<html>"), "e.html")},
                      content_type="multipart/form-data"), 409)
    rejected = api.post(url + "/transitions", json={"action": "reject", "note": "unleserlich"},
                        headers={"If-Match": '"1"'})
    assert rejected.json["state"] == "rejected"


def test_declarations_of_other_units_are_hidden(app, bearer) -> None:
    api = bearer("procurement_officer", "ZVS")
    decl = add_declaration(insert_agreement("contract", "KIJ"))
    _problem(api.get(f"/api/v1/declarations/{decl.id}"), 404)
    assert api.get("/api/v1/declarations").json["total"] == 0
    assert db.session.scalar(select(func.count()).select_from(Declaration)) == 1


def test_checks_and_measures(app, bearer) -> None:
    api = bearer("procurement_officer", "ZVS")
    agreement = insert_agreement("contract", "ZVS")
    proposer = new_user("procurement_officer", "ZVS")
    check = ComplianceCheck(agreement_id=agreement.id, trigger="interval", occasion="2026-01",
                            due_on=date(2026, 1, 15), deadline=date(2026, 2, 15),
                            stage="done", outcome="findings", created_at=utcnow())
    db.session.add(check)
    db.session.flush()
    db.session.add(Measure(check_id=check.id, kind="action_plan", description="Schulung",
                           deadline=date(2026, 4, 1), state="approved",
                           proposed_by_id=proposer.id, proposed_at=utcnow()))
    db.session.commit()
    listed = api.get(f"/api/v1/checks?agreement_id={agreement.id}")
    assert listed.status_code == 200
    [item] = listed.json["items"]
    assert item["stage"] == "done" and item["measures"][0]["kind"] == "action_plan"
    assert api.get(f"/api/v1/checks/{check.id}").json == item
    other = bearer("procurement_officer", "KIJ")
    _problem(other.get(f"/api/v1/checks/{check.id}"), 404)


def test_file_a_signed_copy(app, bearer, published_clauses) -> None:
    api = bearer("procurement_officer", "ZVS")
    agreement = insert_agreement("contract", "ZVS")
    _problem(api.post(f"/api/v1/agreements/{agreement.id}/signed-copies",
                      data={"file": (io.BytesIO(b""), "leer.pdf")},
                      content_type="multipart/form-data"), 409)
    response = api.post(f"/api/v1/agreements/{agreement.id}/signed-copies",
                        data={"file": (io.BytesIO(b"%PDF-1.4 kaputt"), "copy.pdf")},
                        content_type="multipart/form-data")
    assert response.status_code in (201, 409), response.json
    _problem(api.post(f"/api/v1/agreements/{agreement.id}/signed-copies", data={},
                      content_type="multipart/form-data"), 422)
    listed = api.get(f"/api/v1/agreements/{agreement.id}/signed-copies")
    assert listed.status_code == 200


def test_unknown_paths_and_huge_ids_are_problems(app, bearer) -> None:
    api = bearer()
    _problem(api.get("/api/v1/nothing-here"), 404)
    _problem(api.get("/api/v1/agreements/99999999999999999999999"), 404)
    _problem(api.get("/api/v1/agreements?q=%00"), 400)


def test_openapi_document_and_reference_page(app, client) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    operations = [(m, p) for p, item in document["paths"].items() for m in item
                  if m in ("get", "post", "patch")]
    assert len(operations) == 19
    assert "application/problem+json" in document["components"]["responses"]["DEFAULT_ERROR"][
        "content"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for method, path in operations:
        assert f"{method.upper()} {path}" in html
    assert "<script" not in html.split("</head>")[1]


def test_ids_beyond_the_integer_columns_are_not_found(app, bearer, client, signed_in) -> None:
    """The id columns are INTEGER: 32 bits on PostgreSQL. A larger id matches no route and a
    larger filter value counts as not given — on both databases, never a 500."""
    api = bearer("auditor")
    for big in (2**31, 2**31 + 5, 2**63 - 1):
        _problem(api.get(f"/api/v1/agreements/{big}"), 404)
        _problem(api.get(f"/api/v1/agreements?unit={big}"), 422)
        _problem(api.get(f"/api/v1/declarations?agreement_id={big}"), 422)
    signed_in("auditor")
    assert client.get(f"/agreements/{2**31}").status_code == 404
    assert client.get(f"/agreements/?unit={2**31}").status_code == 200
