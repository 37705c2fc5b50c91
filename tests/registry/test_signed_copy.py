"""The signed copy decides the state: expected back within working days of the award, filed
on the agreement, verified (or confirmed by a person), and a changed clause is a breach of
the rule however the record's clause link reads."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements import signed_copy
from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.models import AuditEvent
from clause_tracker.clauses.services import current_version
from clause_tracker.compliance.state import compliance_of
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.documents.web.services import files_of_agreement
from clause_tracker.extensions import db
from clause_tracker.workdays import add_working_days
from tests.factories import add_declaration, file_signed_copy
from tests.helpers import hidden_fields, replace_in_docx


def _state(agreement: Agreement, day: date | None = None) -> tuple[str, str]:
    found = compliance_of(agreement.id, day)
    return found.state, found.reason


@pytest.fixture
def awarded(app, published_clauses, make_user, counterparty):
    """A contract with the clause and a valid declaration, awarded through the service on
    Friday 2026-03-20 by an officer of ZVS."""
    officer = make_user("procurement_officer", "ZVS")
    contract = agreements.create("contract", {
        "reference": "ZVS-2026-001", "subject": "Reinigung", "counterparty_id": counterparty.id,
        "decided_on": date(2026, 3, 20), "contract_kind": "services", "procedure": "open"},
        officer, "token-awarded")
    contract.clause_version_id = current_version("procurement", "de").id
    db.session.commit()
    add_declaration(contract, "accepted", valid_until=date(2030, 1, 1))
    agreements.change_status(contract, "awarded", contract.version_id, officer)
    return contract, officer


def test_an_award_expects_its_signed_copy_within_twenty_working_days(awarded) -> None:
    contract, _officer = awarded
    # 20 working days after Friday 20 March 2026, Good Friday and Easter Monday excluded.
    assert contract.signed_copy_due_on == add_working_days(date(2026, 3, 20), 20) \
        == date(2026, 4, 21)
    assert _state(contract, date(2026, 3, 23)) == ("pending", "signed_copy_awaited")
    assert _state(contract, date(2026, 4, 21)) == ("pending", "signed_copy_awaited")
    assert _state(contract, date(2026, 4, 22)) == ("non_compliant", "signed_copy_overdue")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.status"))
    assert json.loads(event.details)["signed_copy_due_on"] == "2026-04-21"


def test_a_corrected_award_date_moves_the_due_day(awarded) -> None:
    contract, officer = awarded
    agreements.update(contract, {"decided_on": date(2026, 3, 9)}, contract.version_id, officer)
    assert contract.signed_copy_due_on == add_working_days(date(2026, 3, 9), 20) \
        == date(2026, 4, 8)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "contract.update")).all()[-1]
    assert "signed_copy_due_on" in json.loads(event.details)["changes"]


@pytest.mark.parametrize(("status", "expected"), [
    ("verbatim", ("compliant", "declaration_valid")),
    ("formatting_only", ("compliant", "declaration_valid")),
    ("deviation", ("non_compliant", "signed_copy_deviates")),
    ("missing", ("non_compliant", "signed_copy_clause_missing")),
    ("tracked_changes", ("non_compliant", "signed_copy_tracked_changes")),
    ("ocr_match", ("pending", "signed_copy_unconfirmed")),
    ("manual", ("pending", "signed_copy_unconfirmed")),
])
def test_the_latest_returned_copy_decides(awarded, status, expected) -> None:
    contract, _officer = awarded
    file_signed_copy(contract, status)
    assert _state(contract, date(2026, 3, 20)) == expected


def test_a_later_copy_replaces_the_earlier_one(awarded) -> None:
    contract, _officer = awarded
    file_signed_copy(contract, "deviation")
    assert _state(contract, date(2026, 3, 20))[0] == "non_compliant"
    file_signed_copy(contract, "verbatim")
    assert _state(contract, date(2026, 3, 20)) == ("compliant", "declaration_valid")
    file_signed_copy(contract, "missing")
    assert _state(contract, date(2026, 3, 20)) == ("non_compliant", "signed_copy_clause_missing")


def test_a_deviating_copy_counts_for_a_kind_that_expects_none(app, published_clauses,
                                                              agreement) -> None:
    grant = agreement("grant", "FDJB", clause_version_id=current_version("grant", "de").id)
    add_declaration(grant, "accepted", valid_until=date(2030, 1, 1))
    assert _state(grant) == ("compliant", "declaration_valid")  # no copy expected of a grant
    app.config["SIGNED_COPY_KINDS"] = ("contract", "grant")
    assert _state(grant) == ("pending", "signed_copy_awaited")
    app.config["SIGNED_COPY_KINDS"] = ("contract",)
    file_signed_copy(grant, "deviation")
    assert _state(grant) == ("non_compliant", "signed_copy_deviates")


def test_an_ocr_match_counts_once_an_officer_confirms_it(awarded, make_user) -> None:
    contract, officer = awarded
    record = file_signed_copy(contract, "ocr_match")
    signed_copy.confirm_ocr_match(contract, record.id, officer)
    assert _state(contract, date(2026, 3, 20)) == ("compliant", "declaration_valid")
    assert record.confirmed_by_id == officer.id
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "document.ocr_confirm")).object_id == str(record.id)
    with pytest.raises(signed_copy.SignedCopyError):  # once
        signed_copy.confirm_ocr_match(contract, record.id, officer)
    verbatim = file_signed_copy(contract, "verbatim")
    with pytest.raises(signed_copy.SignedCopyError):  # nothing to confirm
        signed_copy.confirm_ocr_match(contract, verbatim.id, officer)


def test_a_manual_check_needs_a_second_person(awarded, make_user) -> None:
    contract, officer = awarded
    with pytest.raises(signed_copy.SignedCopyError):
        signed_copy.propose_manual_check(contract, "  ", officer)
    record = signed_copy.propose_manual_check(
        contract, "Nur auf Papier unterschrieben; Scan unleserlich, Original im Akt geprüft.",
        officer)
    assert _state(contract, date(2026, 3, 20)) == ("pending", "signed_copy_unconfirmed")
    with pytest.raises(signed_copy.SignedCopyError, match="second person"):
        signed_copy.approve_manual_check(contract, record.id, officer)
    colleague = make_user("procurement_officer", "ZVS")
    signed_copy.approve_manual_check(contract, record.id, colleague)
    assert _state(contract, date(2026, 3, 20)) == ("compliant", "declaration_valid")
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"document.manual_check", "document.manual_check_approve"} <= actions


def test_a_record_of_another_agreement_cannot_be_confirmed(awarded, agreement) -> None:
    contract, officer = awarded
    other = agreement()
    record = file_signed_copy(other, "ocr_match")
    with pytest.raises(signed_copy.SignedCopyError):
        signed_copy.confirm_ocr_match(contract, record.id, officer)


def test_ending_the_contract_ends_the_wait(awarded) -> None:
    contract, officer = awarded
    agreements.change_status(contract, "terminated", contract.version_id, officer,
                             reason="Insolvenz", on=date(2026, 4, 1))
    assert _state(contract, date(2026, 6, 1)) == ("compliant", "declaration_valid")




def _generate(client, agreement_id: int) -> bytes:
    fields = hidden_fields(client, f"/agreements/{agreement_id}")
    response = client.post(f"/agreements/{agreement_id}/document", data={
        "csrf_token": fields["csrf_token"], "version": "0", "language": "de",
        "counterparty_address": "Löbdergraben 1, 07743 Jena"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    record_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return client.get(f"/documents/{record_id}/download").data


def _file(client, agreement_id: int, data: bytes, name: str):
    fields = hidden_fields(client, f"/agreements/{agreement_id}")
    return client.post(f"/agreements/{agreement_id}/verify", data={
        "csrf_token": fields["csrf_token"], "document": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def test_filing_the_signed_copy_over_http(client, signed_in, published_clauses,
                                          counterparty, make_user) -> None:
    officer = signed_in("procurement_officer", "ZVS")
    contract = agreements.create("contract", {
        "reference": "ZVS-2026-002", "subject": "Reinigung", "counterparty_id": counterparty.id,
        "decided_on": date.today(), "contract_kind": "services", "procedure": "open",
        "value": 1000, "vat_rate": 19, "start_date": date.today(),
        "end_date": date.today() + timedelta(days=300)},
        officer, "token-http")
    contract.clause_version_id = current_version("procurement", "de").id
    db.session.commit()
    add_declaration(contract, "accepted", valid_until=date.today() + timedelta(days=400))
    agreements.change_status(contract, "awarded", contract.version_id, officer)
    page = client.get(f"/agreements/{contract.id}").get_data(as_text=True)
    assert "signed_copy_awaited" not in page  # the reason's text, not its code
    assert "Die unterschriebene Ausfertigung" in page or "signed copy" in page.lower()

    issued = _generate(client, contract.id)
    changed = replace_in_docx(issued, "Benachteiligung", "Behandlung")
    response = _file(client, contract.id, changed, "unterschrieben.docx")
    assert response.status_code == 302
    db.session.expire_all()
    assert _state(contract) == ("non_compliant", "signed_copy_deviates")
    record = signed_copy.current(contract.id)
    assert record.status == "deviation" and record.filename == "unterschrieben.docx"
    shown = client.get(f"/documents/{record.id}").get_data(as_text=True)
    assert "Benachteiligung" in shown and "Behandlung" in shown  # the word diff
    assert record.input_sha256 in files_of_agreement(contract.id)  # the file is kept

    _file(client, contract.id, issued, "unterschrieben-neu.docx")
    db.session.expire_all()
    assert _state(contract) == ("compliant", "declaration_valid")
    page = client.get(f"/agreements/{contract.id}").get_data(as_text=True)
    assert "unterschrieben-neu.docx" in page
    assert re.search(r'id="signed-copy-current" class="status status-ok"', page)


def test_manual_check_over_http_refuses_the_proposer(client, signed_in, published_clauses,
                                                    agreement, login, make_user) -> None:
    officer = signed_in("procurement_officer", "ZVS")
    contract = agreement(clause_version_id=current_version("procurement", "de").id)
    fields = hidden_fields(client, f"/agreements/{contract.id}")
    empty = client.post(f"/agreements/{contract.id}/signed-copy/manual",
                        data={"csrf_token": fields["csrf_token"], "reason": ""},
                        follow_redirects=True)
    assert empty.status_code == 200 and "von Hand" in empty.get_data(as_text=True)
    assert signed_copy.current(contract.id) is None
    client.post(f"/agreements/{contract.id}/signed-copy/manual",
                data={"csrf_token": fields["csrf_token"], "reason": "Scan unleserlich."})
    record = signed_copy.current(contract.id)
    assert record.status == "manual" and record.created_by_id == officer.id
    own = client.post(f"/agreements/{contract.id}/signed-copy/approve",
                      data={"csrf_token": fields["csrf_token"], "record_id": record.id},
                      follow_redirects=True)
    assert "zweite Person" in own.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DocumentRecord, record.id).confirmed_at is None

    colleague = make_user("procurement_officer", "ZVS")
    client.post("/logout", data={"csrf_token": fields["csrf_token"]})
    login(client, colleague.username)
    fields = hidden_fields(client, f"/agreements/{contract.id}")
    done = client.post(f"/agreements/{contract.id}/signed-copy/approve",
                       data={"csrf_token": fields["csrf_token"], "record_id": record.id})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(DocumentRecord, record.id).confirmed_by_id == colleague.id


def test_a_hash_match_files_only_on_records_the_uploader_works_on(
        client, signed_in, published_clauses, counterparty, login, make_user) -> None:
    officer = signed_in("procurement_officer", "ZVS")
    contract = agreements.create("contract", {
        "reference": "ZVS-2026-003", "subject": "Reinigung", "counterparty_id": counterparty.id,
        "decided_on": date.today(), "contract_kind": "services", "procedure": "open",
        "value": 1000, "vat_rate": 19, "start_date": date.today(),
        "end_date": date.today() + timedelta(days=300)},
        officer, "token-hash")
    issued = _generate(client, contract.id)
    stranger = make_user("procurement_officer", "KIJ")
    token = hidden_fields(client, "/documents/")["csrf_token"]
    client.post("/logout", data={"csrf_token": token})
    login(client, stranger.username)
    token = hidden_fields(client, "/documents/")["csrf_token"]
    response = client.post("/documents/verify", data={
        "csrf_token": token, "document": (io.BytesIO(issued), "copy.docx")},
        content_type="multipart/form-data")
    assert response.status_code in (200, 302)
    record = db.session.scalar(select(DocumentRecord).where(
        DocumentRecord.action == "verify", DocumentRecord.created_by_id == stranger.id))
    assert record is not None and record.agreement_id is None
    assert signed_copy.current(contract.id) is None
