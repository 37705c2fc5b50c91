"""Doing a check over HTTP: Meine Fristen, outcome, hearing before measures, four eyes,
complaints by case reference only, the admin page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from clause_tracker.audit.models import AuditEvent
from clause_tracker.checks import models as m
from clause_tracker.checks import services, sweep
from clause_tracker.clauses.services import current_version
from clause_tracker.clock import utcnow
from clause_tracker.compliance.state import compliance_of
from clause_tracker.extensions import db
from tests.helpers import checks_of

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _token(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return TOKEN.search(page.get_data(as_text=True)).group(1)


@pytest.fixture
def due_check(app, agreement):
    contract = agreement(start_date=utcnow().date() - timedelta(days=800))
    sweep.run()
    (check,) = checks_of(contract.id)
    return check


def test_my_deadlines_lists_due_checks_of_my_unit_and_kind(app, client, signed_in,
                                                           due_check, agreement) -> None:
    other_unit = agreement(code="KIJ", start_date=date(2020, 1, 1))
    grant = agreement(kind="grant", start_date=date(2020, 1, 1))
    sweep.run()
    signed_in("procurement_officer", "ZVS")
    page = client.get("/compliance/").get_data(as_text=True)
    assert due_check.agreement.reference in page
    assert other_unit.reference not in page  # another unit
    assert grant.reference not in page  # grants are the grant managers'
    auditor_page = None
    client.post("/logout", data={"csrf_token": _token(client, "/")})
    signed_in("auditor")
    auditor_page = client.get("/compliance/").get_data(as_text=True)
    assert other_unit.reference in auditor_page and grant.reference in auditor_page


def test_outcome_hearing_measure_four_eyes(app, client, signed_in, make_user, login,
                                           due_check, published_clauses) -> None:
    due_check.agreement.clause_version_id = current_version("procurement", "de").id
    db.session.commit()
    vera = signed_in("procurement_officer", "ZVS")
    path = f"/compliance/checks/{due_check.id}"
    token = _token(client, path)
    response = client.post(f"{path}/outcome", data={
        "csrf_token": token, "version": due_check.version_id, "outcome": "findings",
        "findings": "Stellenanzeige mit diskriminierender Formulierung"})
    assert response.status_code == 302
    db.session.refresh(due_check)
    # Findings do not end the check: the hearing and the decision follow.
    assert (due_check.stage, due_check.outcome) == ("findings", "findings")
    # No measure before the hearing.
    response = client.post(f"{path}/measures", data={
        "csrf_token": token, "kind": "penalty", "description": "1 %", "breaches": "1"},
        follow_redirects=True)
    assert "angehört werden" in response.get_data(as_text=True)  # German by default
    assert db.session.scalar(select(m.Measure)) is None
    # No decision before the hearing either.
    early = client.post(f"{path}/decision", data={
        "csrf_token": token, "version": due_check.version_id, "decision": "breach_confirmed",
        "note": "Befund belegt"}, follow_redirects=True)
    assert "angehört werden" in early.get_data(as_text=True)
    client.post(f"{path}/hearing", data={"csrf_token": token,
                                         "held_on": date.today().strftime("%d.%m.%Y"),
                                         "summary": "Anhörung per Telefon",
                                         "statement": "Die Anzeige wurde sofort geändert."})
    db.session.refresh(due_check)
    assert due_check.stage == "heard"
    assert due_check.hearings[0].statement == "Die Anzeige wurde sofort geändert."
    # Until the breach is confirmed no measure can be proposed.
    client.post(f"{path}/measures", data={"csrf_token": token, "kind": "penalty",
                                          "description": "Vertragsstrafe", "breaches": "7"})
    assert db.session.scalar(select(m.Measure)) is None
    reasonless = client.post(f"{path}/decision", data={
        "csrf_token": token, "version": due_check.version_id, "decision": "breach_confirmed",
        "note": ""})
    assert reasonless.status_code == 400  # said at the form, not a bare error page
    assert 'id="note-error"' in reasonless.get_data(as_text=True)
    choiceless = client.post(f"{path}/decision", data={
        "csrf_token": token, "version": due_check.version_id, "note": "Gründe, schon getippt"})
    assert choiceless.status_code == 400
    assert "Gründe, schon getippt" in choiceless.get_data(as_text=True)  # nothing typed is lost
    db.session.refresh(due_check)
    assert due_check.decision is None
    client.post(f"{path}/decision", data={
        "csrf_token": token, "version": due_check.version_id, "decision": "breach_confirmed",
        "note": "Die Formulierung benachteiligt Bewerbende wegen ihrer Herkunft."})
    db.session.refresh(due_check)
    assert (due_check.stage, due_check.decision) == ("breach", "breach_confirmed")
    # The check's breach makes the agreement non-compliant by itself.
    assert compliance_of(due_check.agreement_id).reason == "check_breach_confirmed"
    client.post(f"{path}/measures", data={"csrf_token": token, "kind": "penalty",
                                          "description": "Vertragsstrafe", "breaches": "7"})
    measure = db.session.scalar(select(m.Measure))
    # 7 breaches × 1 % is capped at 5 % of 100,000.
    assert (measure.penalty_percent, measure.penalty_amount) == (Decimal("5.00"),
                                                                 Decimal("5000.00"))
    # The proposer cannot approve.
    response = client.post(f"/compliance/measures/{measure.id}/decision", data={
        "csrf_token": token, "version": measure.version_id, "decision": "approve"},
        follow_redirects=True)
    assert "zweite Person" in response.get_data(as_text=True)
    db.session.refresh(measure)
    assert measure.state == "proposed"
    # A colleague of the same unit can.
    client.post("/logout", data={"csrf_token": token})
    colleague = make_user("procurement_officer", "ZVS")
    login(client, colleague.username)
    token = _token(client, path)
    # Deciding without a choice keeps the note and says what is missing.
    choiceless = client.post(f"/compliance/measures/{measure.id}/decision", data={
        "csrf_token": token, "version": measure.version_id, "note": "Bitte prüfen"})
    assert choiceless.status_code == 400
    assert "Bitte prüfen" in choiceless.get_data(as_text=True)
    client.post(f"/compliance/measures/{measure.id}/decision", data={
        "csrf_token": token, "version": measure.version_id, "decision": "approve"})
    db.session.refresh(measure)
    assert (measure.state, measure.decided_by_id, measure.proposed_by_id) == (
        "approved", colleague.id, vera.id)
    assert compliance_of(due_check.agreement_id).reason == "check_breach_open_measure"
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"compliance.outcome", "compliance.hearing", "compliance.decision",
            "compliance.measure.propose", "compliance.measure.approved"} <= actions
    # A further penalty finds the cap reached.
    with pytest.raises(services.CheckError, match="have reached the cap of 5\u00a0%"):
        services.propose_measure(due_check, services.MeasureInput("penalty", "x", breaches=1),
                                 colleague, date.today())


def test_no_breach_closes_the_check_and_allows_no_measure(app, make_user, due_check) -> None:
    user = make_user("procurement_officer", "ZVS")
    today = date.today()
    services.record_outcome(due_check, "findings", "", "Hinweis", user, None, today)
    services.record_hearing(due_check, today, "gehört", user, today)
    before = compliance_of(due_check.agreement_id).reason
    services.decide_breach(due_check, "no_breach", "Missverständnis, ausgeräumt.", user, None,
                           today)
    assert (due_check.stage, due_check.decision) == ("done", "no_breach")
    assert compliance_of(due_check.agreement_id).reason == before
    with pytest.raises(services.CheckError, match="once the breach is confirmed"):
        services.propose_measure(due_check, services.MeasureInput(
            "action_plan", "Plan", deadline=today + timedelta(days=30)), user, today)
    with pytest.raises(services.CheckError, match="no findings waiting"):
        services.decide_breach(due_check, "breach_confirmed", "doch", user, None, today)


def test_exclusion_at_most_three_years_and_kinds(app, make_user, due_check) -> None:
    user = make_user("procurement_officer", "ZVS")
    today = date.today()
    services.record_outcome(due_check, "findings", "", "Befund", user, None, today)
    services.record_hearing(due_check, today, "gehört", user, today)
    services.decide_breach(due_check, "breach_confirmed", "belegt", user, None, today)
    with pytest.raises(services.CheckError, match=r"no later than .* \(3 years, § 126 GWB\)"):
        services.propose_measure(due_check, services.MeasureInput(
            "exclusion", "Sperre", exclusion_until=today + timedelta(days=3 * 366)), user, today)
    with pytest.raises(services.CheckError, match="Revocation applies to grants"):
        services.propose_measure(due_check, services.MeasureInput("revocation", "x"), user, today)
    ok = services.propose_measure(due_check, services.MeasureInput(
        "exclusion", "Sperre", exclusion_until=today + timedelta(days=700)), user, today)
    assert ok.state == "proposed"
    admin = make_user("admin")
    services.decide_measure(ok, True, "", admin, ok.version_id)
    assert ok.state == "approved"


@pytest.mark.parametrize(("years", "last_day"), [
    (3, date(2027, 2, 28)),  # no 29 February in 2027
    (4, date(2028, 2, 29)),  # a leap year again
])
def test_exclusion_from_29_february_counts_calendar_years(app, make_user, due_check, years,
                                                          last_day) -> None:
    app.config["EXCLUSION_MAX_YEARS"] = years
    user = make_user("procurement_officer", "ZVS")
    leap_day = date(2024, 2, 29)
    services.record_outcome(due_check, "findings", "", "Befund", user, None, leap_day)
    services.record_hearing(due_check, leap_day, "gehört", user, leap_day)
    services.decide_breach(due_check, "breach_confirmed", "belegt", user, None, leap_day)

    def propose(until: date) -> m.Measure:
        return services.propose_measure(due_check, services.MeasureInput(
            "exclusion", "Sperre", exclusion_until=until), user, leap_day)

    for too_late in (last_day + timedelta(days=1), leap_day):
        with force_locale("de"):
            with pytest.raises(services.CheckError) as refused:
                propose(too_late)
            assert str(refused.value) == (
                "Eine Vergabesperre endet nach dem heutigen Tag und spätestens am "
                f"{last_day:%d.%m.%Y} ({years} Jahre, § 126 GWB).")
    assert propose(last_day).exclusion_until == last_day


def test_complaint_only_case_reference_opens_adhoc_check(app, client, signed_in,
                                                         agreement) -> None:
    contract = agreement()
    signed_in("procurement_officer", "ZVS")
    path = f"/compliance/complaints/{contract.id}"
    page = client.get(path).get_data(as_text=True)
    assert "nur das Aktenzeichen der Antidiskriminierungsstelle" in page
    response = client.post(path, data={"csrf_token": _token(client, path),
                                       "case_reference": "ADS-2025-0017",
                                       "received_on": date.today().strftime("%d.%m.%Y")})
    assert response.status_code == 302
    check = db.session.scalar(select(m.ComplianceCheck).where(
        m.ComplianceCheck.trigger == "complaint"))
    assert check.agreement_id == contract.id and check.stage == "due"
    complaint = db.session.scalar(select(m.Complaint))
    assert complaint.case_reference == "ADS-2025-0017"
    assert {c.key for c in m.Complaint.__table__.c} == {
        "id", "agreement_id", "case_reference", "received_on", "check_id", "recorded_at",
        "recorded_by_id"}
    again = client.post(path, data={"csrf_token": _token(client, path),
                                    "case_reference": "ADS-2025-0017",
                                    "received_on": date.today().strftime("%d.%m.%Y")})
    assert again.status_code == 400


def test_other_unit_cannot_see_or_work_on_a_check(app, client, signed_in, due_check) -> None:
    signed_in("procurement_officer", "KIJ")
    assert client.get(f"/compliance/checks/{due_check.id}").status_code == 404


def test_admin_page_and_retention_purge(app, client, signed_in, agreement) -> None:
    from clause_tracker.counterparties.models import ContactPerson

    old = agreement(status="ended", end_date=date(2019, 12, 31))
    contact = ContactPerson(counterparty_id=old.counterparty_id, name="Erika Muster",
                            function="Geschäftsführerin", email="erika@muster.example")
    db.session.add(contact)
    db.session.commit()
    signed_in("admin")
    page = client.get("/compliance/admin").get_data(as_text=True)
    assert old.reference in page
    token = _token(client, "/compliance/admin")
    client.post(f"/compliance/admin/retention/{old.id}/purge", data={"csrf_token": token})
    db.session.refresh(contact)
    assert (contact.name, contact.email) == ("[erased]", "")
    assert old.reference not in client.get("/compliance/admin").get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.purge"))
    assert event.object_id == str(old.id)
    # Aggregates survive: the record is still there.
    assert db.session.get(type(old), old.id) is not None


def test_retention_keeps_contacts_needed_by_a_running_agreement(app, agreement) -> None:
    from clause_tracker.counterparties.models import ContactPerson
    from clause_tracker.retention import services as retention

    old = agreement(status="ended", end_date=date(2019, 12, 31))
    agreement(status="active")
    contact = ContactPerson(counterparty_id=old.counterparty_id, name="Erika Muster")
    db.session.add(contact)
    db.session.commit()
    counts = retention.purge(old.id, None)
    assert counts["contact_persons"] == 0
    with pytest.raises(retention.RetentionError, match="already erased"):
        retention.purge(old.id, None)


def test_retention_erases_stored_files_no_other_record_names(app, client, signed_in, agreement,
                                                             make_user) -> None:
    """Evidence and generated documents name people: their files go with the purge, after
    the commit; a file another record still names (equal content, one stored file) stays,
    and the SHA-256 stays as proof of what had been stored."""
    from clause_tracker.documents.web.models import DocumentRecord
    from clause_tracker.retention import services as retention
    from clause_tracker.storage import storage
    from tests.factories import add_declaration

    store = storage()
    own, shared, issued = (store.put(f"%PDF-1.7 {name}".encode()) for name in
                           ("Unterschrift Erika Muster", "Formblatt", "Vertrag Muster"))
    old = agreement(status="ended", end_date=date(2019, 12, 31))
    running = agreement(status="active")
    kept = add_declaration(running, evidence_key=shared, evidence_sha256=shared)
    decls = [add_declaration(old, evidence_key=key, evidence_sha256=key, evidence_filename="e.pdf",
                         signer_name="Erika Muster") for key in (own, shared)]
    officer = make_user("procurement_officer", "ZVS")
    document = DocumentRecord(action="generate", filename="vertrag.docx",
                              output_sha256=issued, agreement_id=old.id,
                              created_by_id=officer.id, created_at=utcnow(), app_version="test")
    db.session.add(document)
    db.session.commit()

    counts = retention.purge(old.id, None)
    assert counts["files"] == 2
    assert not store.exists(own) and not store.exists(issued)
    assert store.exists(shared) and db.session.get(type(kept), kept.id).evidence_key == shared
    for decl in decls:
        db.session.refresh(decl)
        assert (decl.evidence_key, decl.evidence_filename, decl.signer_name) == (None, None, None)
        assert decl.evidence_sha256 in (own, shared)
    signed_in("auditor")
    page = client.get(f"/documents/{document.id}").get_data(as_text=True)
    assert "nach Ablauf der Aufbewahrungsfrist gelöscht" in page and issued in page
    assert f"/documents/{document.id}/download" not in page
    assert client.get(f"/documents/{document.id}/download").status_code == 404


def test_retention_erases_the_new_texts_of_the_loop(app, agreement, make_user) -> None:
    """The counterparty's statement at the hearing, the reasons of the breach decision, an
    action plan's completion note, a manual check's reason and the reason of a termination
    may name people: the purge erases them and keeps decisions, stages and dates."""
    from clause_tracker.agreements import signed_copy
    from clause_tracker.documents.web.models import DocumentRecord
    from clause_tracker.retention import services as retention

    officer, admin = make_user("procurement_officer", "ZVS"), make_user("admin")
    old = agreement(status="terminated", end_date=date(2019, 12, 31), decided_on=date(2018, 1, 5),
                    end_reason="Insolvenz, Herr Muster", ended_on=date(2019, 6, 1))
    day = date(2019, 3, 1)
    check = services.record_complaint(old, "ADS-2019-0009", day, officer, day)
    services.record_outcome(check, "findings", "", "Befund", officer, None, day)
    services.record_hearing(check, day, "gehört", officer, day, "Herr Muster bestreitet es.")
    services.decide_breach(check, "breach_confirmed", "Zeugin Frau Beispiel", officer, None, day)
    plan = services.propose_measure(check, services.MeasureInput(
        "action_plan", "Schulung", deadline=day + timedelta(days=30)), officer, day)
    services.decide_measure(plan, True, "", admin, plan.version_id)
    services.record_plan_completion(plan, True, day + timedelta(days=10), "durch Frau Beispiel",
                                    officer, plan.version_id, day + timedelta(days=10))
    manual = signed_copy.propose_manual_check(old, "Original bei Herrn Muster gesehen", officer)
    retention.purge(old.id, admin.id)
    db.session.expire_all()
    check = db.session.get(m.ComplianceCheck, check.id)
    assert check.hearings[0].statement is None and check.decision_note == "[erased]"
    assert check.decision == "breach_confirmed" and check.stage == "breach"
    plan = db.session.get(m.Measure, plan.id)
    assert plan.completion_note is None and plan.completion == "on_time"
    assert db.session.get(DocumentRecord, manual.id).note == "[erased]"
    assert db.session.get(type(old), old.id).end_reason == "[erased]"
