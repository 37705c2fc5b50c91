"""Compliance checks in Chromium (issue 5): an officer opens Meine Fristen and a due check,
records the findings and the hearing and proposes a measure; a colleague of the unit
approves it in their own browser and the record turns non-compliant with the measure's
reason; an exclusion beyond three years is refused at its field; a complaint known only by
its case reference opens an ad-hoc check; auditors only look, other units see nothing.
Data comes from the services (as in tests/compliance); every page passes axe-core."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from flask_babel import force_locale
from flask_babel import gettext as translate
from sqlalchemy import select

from clause_tracker.audit.models import AuditEvent
from clause_tracker.checks import models as m
from clause_tracker.checks import services, sweep
from clause_tracker.clauses.services import current_version
from clause_tracker.clock import today, utcnow
from clause_tracker.compliance.labels import REASON_TEXTS, STATE_LABELS
from clause_tracker.compliance.state import compliance_of
from clause_tracker.extensions import db
from tests.browser.helpers import path_of, sign_in
from tests.factories import add_declaration, insert_agreement, new_counterparty
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser

@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    # As in tests/compliance: no random sample, so the sweep schedules exactly one check,
    # due on the first sweep.
    app_config["COMPLIANCE_SAMPLE_SHARE"] = "0"
    app_config["COMPLIANCE_SPREAD_FIRST_CHECKS"] = False
    return app_config


def german(text, **values) -> str:
    """What the German UI shows for a message (a lazy string, or a msgid and its values)."""
    with force_locale("de"):
        return str(translate(text, **values) if isinstance(text, str) else text)


def de_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _user(make_user, role: str, unit: str | None, name: str):
    return make_user(role, unit, username=name)


def _contract(code: str = "ZVS", breach: bool = True):
    """An active contract with the clause, running for 800 days (so a routine check is due),
    and — when `breach` — a confirmed breach of the clause (what a measure answers).
    Written straight into the tables, as tests/compliance does."""
    day = utcnow().date()
    counterparty = new_counterparty(name=f"Muster Bau {uuid.uuid4().hex[:4]} GmbH", commit=False)
    contract = insert_agreement(
        "contract", code, commit=False, reference=f"{code}-2024-{uuid.uuid4().hex[:4]}",
        counterparty_id=counterparty.id, start_date=day - timedelta(days=800),
        end_date=day + timedelta(days=700), decided_on=day - timedelta(days=830),
        clause_version_id=current_version("procurement", "de").id)
    states = ["breach_confirmed", "accepted"] if breach else ["accepted"]
    for state in states:
        add_declaration(contract, state, commit=False, party_name=counterparty.name,
                        valid_until=day + timedelta(days=700))
    db.session.commit()
    return contract


def _due_check(contract) -> m.ComplianceCheck:
    sweep.run()
    (check,) = db.session.scalars(select(m.ComplianceCheck).where(
        m.ComplianceCheck.agreement_id == contract.id))
    return check


def _heard(check, user) -> None:
    """Findings recorded and the contractor heard, through the services."""
    day = today()
    services.record_outcome(check, "findings", "", "Diskriminierende Stellenanzeige", user,
                            None, day)
    services.record_hearing(check, day, "Stellungnahme der Firma", user, day)
    services.decide_breach(check, "breach_confirmed", "Verstoß belegt", user, None, day)


def _ok(page, check_axe, response=None) -> None:
    if response is not None:
        assert response.ok, f"{page.url}: HTTP {response.status}"
    assert page.locator("main#content").count() == 1
    check_axe(page)


def _submit(page, form) -> None:
    with page.expect_navigation():
        form.locator("button[type=submit]").first.click()


def _measures(check) -> list[m.Measure]:
    db.session.expire_all()
    return list(db.session.scalars(select(m.Measure).where(m.Measure.check_id == check.id)))


def test_officer_works_a_due_check_and_a_colleague_approves_the_measure(
        new_page, make_user, check_axe) -> None:
    contract = _contract()
    check = _due_check(contract)
    vera = _user(make_user, "procurement_officer", "ZVS", "vera-zvs")
    colleague = _user(make_user, "procurement_officer", "ZVS", "kai-zvs")
    check_path = f"/compliance/checks/{check.id}"

    page = new_page()
    sign_in(page, vera.username, PASSWORD)
    with page.expect_navigation():
        page.locator("nav.main-nav a[href='/compliance/']").click()
    _ok(page, check_axe)
    assert page.locator("main h1").inner_text() == german("My deadlines")
    row = page.locator("main table tbody tr", has_text=contract.reference)
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[2] == german("Routine check")
    assert cells[5] == german("Overdue" if check.deadline < today() else "Due")
    with page.expect_navigation():
        row.locator(f"a[href='{check_path}']").click()
    _ok(page, check_axe)

    # The outcome: findings, with what was found.
    form = page.locator(f"main form[action='{check_path}/outcome']")
    form.locator("input[name=outcome][value=findings]").check()
    form.locator("[name=findings]").fill("Stellenanzeige mit diskriminierender Formulierung")
    _submit(page, form)
    _ok(page, check_axe)
    db.session.refresh(check)
    assert (check.stage, check.outcome, check.completed_by_id) == ("findings", "findings",
                                                                   vera.id)
    assert [f.description for f in check.findings] == [
        "Stellenanzeige mit diskriminierender Formulierung"]
    assert german("Findings") in page.locator("#check-state").inner_text()
    assert page.locator(f"main form[action='{check_path}/outcome']").count() == 0

    # The hearing: date and summary.
    form = page.locator(f"main form[action='{check_path}/hearing']")
    form.locator("[name=held_on]").fill(de_date(today()))
    form.locator("[name=summary]").fill("Die Firma hat die Anzeige zurückgezogen.")
    _submit(page, form)
    _ok(page, check_axe)
    db.session.expire_all()
    assert [(h.held_on, h.summary) for h in check.hearings] == [
        (today(), "Die Firma hat die Anzeige zurückgezogen.")]
    assert "Die Firma hat die Anzeige zurückgezogen." in page.locator("#hearings").inner_text()
    assert check.stage == "heard"

    # The decision after the hearing: the breach is confirmed, with its reasons.
    form = page.locator(f"main form[action='{check_path}/decision']")
    form.locator("input[name=decision][value=breach_confirmed]").check()
    form.locator("[name=note]").fill("Die Formulierung benachteiligt wegen der Herkunft.")
    _submit(page, form)
    _ok(page, check_axe)
    db.session.expire_all()
    assert (check.stage, check.decision) == ("breach", "breach_confirmed")
    assert german("Breach of the clause confirmed") in page.locator("#decision").inner_text()

    # The measure: an action plan with a deadline.
    deadline = today() + timedelta(days=60)
    form = page.locator(f"main form[action^='{check_path}/measures']")
    form.locator("[name=kind]").select_option("action_plan")
    form.locator("[name=description]").fill("Schulung aller Führungskräfte")
    form.locator("[name=deadline]").fill(de_date(deadline))
    _submit(page, form)
    _ok(page, check_axe)
    (measure,) = _measures(check)
    assert (measure.kind, measure.state, measure.deadline, measure.proposed_by_id) == (
        "action_plan", "proposed", deadline, vera.id)
    card = page.locator("#measures .card")
    assert german("Proposed, awaiting a second person's decision") in card.inner_text()
    # Four eyes: the proposer is offered no decision, and a forged one is refused.
    assert card.locator("form").count() == 0
    assert page.locator("main input[name=decision]").count() == 0
    token = page.locator("form.logout-form input[name=csrf_token]").get_attribute("value")
    response = page.request.post(f"/compliance/measures/{measure.id}/decision", form={
        "csrf_token": token, "version": str(measure.version_id), "decision": "approve"})
    assert response.ok
    assert german("A measure needs a second person: you proposed it, so someone else must "
                  "decide.") in response.text()
    (measure,) = _measures(check)
    assert (measure.state, measure.decided_by_id) == ("proposed", None)

    # Until a measure is approved, the breach alone keeps the record non-compliant.
    _ok(page, check_axe, page.goto(f"/agreements/{contract.id}"))
    state = page.locator("#compliance").inner_text()
    assert german(STATE_LABELS["non_compliant"]) in state
    assert german(REASON_TEXTS["breach_confirmed"]) in state

    # The proposer's own inbox does not offer the decision.
    _ok(page, check_axe, page.goto("/tasks/"))
    assert page.locator("main tr.task-approve_measure").count() == 0

    # A colleague of the unit finds it in their inbox and decides in their own browser.
    other = new_page()
    sign_in(other, colleague.username, PASSWORD)
    count = other.locator("#nav-tasks .count").inner_text()
    with other.expect_navigation():
        other.locator("#nav-tasks").click()
    _ok(other, check_axe)
    assert other.locator("main h1").inner_text() == german("My tasks")
    assert int(count) == other.locator("main table#tasks tbody tr").count() >= 1
    task = other.locator("main tr.task-approve_measure", has_text=contract.reference)
    assert german("Decide on a proposed measure") in task.inner_text()
    with other.expect_navigation():
        task.locator("a").click()
    _ok(other, check_axe)
    assert path_of(other.url) == check_path
    card = other.locator("#measures .card")
    form = card.locator(f"form[action='/compliance/measures/{measure.id}/decision']")
    form.locator("input[name=decision][value=approve]").check()
    form.locator("textarea[name=note]").fill("Einverstanden")
    _submit(other, form)
    _ok(other, check_axe)
    (measure,) = _measures(check)
    assert (measure.state, measure.decided_by_id, measure.decision_note) == (
        "approved", colleague.id, "Einverstanden")
    assert german("Approved") in other.locator("#measures .card").inner_text()
    assert other.locator("#measures .card form[action$='/decision']").count() == 0
    # Approved, the action plan waits for its completion record.
    assert other.locator(f"#measures .card form[action='/compliance/measures/{measure.id}"
                         "/completion']").count() == 1

    # The agreement now shows the breach with a measure in force.
    with other.expect_navigation():
        other.locator(f"main a[href='/agreements/{contract.id}']").first.click()
    _ok(other, check_axe)
    assert compliance_of(contract.id).reason == "breach_open_measure"
    state = other.locator("#compliance.status-bad").inner_text()
    assert german(STATE_LABELS["non_compliant"]) in state
    assert german(REASON_TEXTS["breach_open_measure"]) in state
    assert path_of(other.url) == f"/agreements/{contract.id}"


def test_exclusion_beyond_three_years_is_refused_at_its_field(page, make_user,
                                                             check_axe) -> None:
    contract = _contract()
    check = _due_check(contract)
    officer = _user(make_user, "procurement_officer", "ZVS", "vera-zvs")
    _heard(check, officer)
    check_path = f"/compliance/checks/{check.id}"
    sign_in(page, officer.username, PASSWORD)
    _ok(page, check_axe, page.goto(check_path))

    day = today()
    # The day after the latest end § 126 GWB allows (three calendar years).
    latest = day + relativedelta(years=3)
    too_late = latest + timedelta(days=1)
    form = page.locator(f"main form[action^='{check_path}/measures']")
    form.locator("[name=kind]").select_option("exclusion")
    form.locator("[name=description]").fill("Vergabesperre wegen wiederholter Verstöße")
    form.locator("[name=exclusion_until]").fill(de_date(too_late))
    with page.expect_navigation() as refused:
        form.locator("button[type=submit]").click()
    assert refused.value.status == 400
    _ok(page, check_axe)
    assert _measures(check) == []
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "compliance.measure.propose")) is None
    error = page.locator("#measures #exclusion_until-error")
    assert error.is_visible()
    assert error.inner_text().strip() == german(
        "An exclusion from awards ends after today and no later than %(latest)s "
        "(%(years)d years, § 126 GWB).", latest=de_date(latest), years=3)
    assert german("Check the details of the measure.") in \
        page.locator(".flashes [role=alert]").inner_text()
    field = page.locator("main form [name=exclusion_until]")
    assert field.get_attribute("aria-invalid") == "true"
    assert "exclusion_until-error" in field.get_attribute("aria-describedby")
    # What was typed is still there to correct.
    assert field.input_value() == de_date(too_late)
    assert page.locator("main form [name=description]").input_value() == \
        "Vergabesperre wegen wiederholter Verstöße"

    until = day + timedelta(days=700)
    field.fill(de_date(until))
    _submit(page, page.locator(f"main form[action^='{check_path}/measures']"))
    _ok(page, check_axe)
    (measure,) = _measures(check)
    assert (measure.kind, measure.state, measure.exclusion_until) == (
        "exclusion", "proposed", until)
    assert page.locator("#exclusion_until-error").count() == 0


def test_complaint_by_case_reference_opens_an_adhoc_check(page, make_user,
                                                          check_axe) -> None:
    contract = _contract(breach=False)
    officer = _user(make_user, "procurement_officer", "ZVS", "vera-zvs")
    sign_in(page, officer.username, PASSWORD)
    _ok(page, check_axe, page.goto(f"/agreements/{contract.id}"))
    with page.expect_navigation():
        page.locator("#compliance-checks-link").click()
    _ok(page, check_axe)
    with page.expect_navigation():
        page.locator(f"main a[href='/compliance/complaints/{contract.id}']").click()
    _ok(page, check_axe)
    warning = page.locator("#no-personal-data")
    assert warning.is_visible()
    assert german("Enter only the case reference of the anti-discrimination office. Do not "
                  "enter anything about the complainant or the incident here: such details "
                  "may reveal ethnic origin and stay with the office.") == \
        warning.inner_text().strip()

    # Anything but a case reference is refused at the field; nothing is stored.
    form = page.locator("main form[method=post]")
    form.locator("[name=case_reference]").fill("Frau Y., Tel. 0170 1234567")
    form.locator("[name=received_on]").fill(de_date(today()))
    with page.expect_navigation() as refused:
        form.locator("button[type=submit]").click()
    assert refused.value.status == 400
    _ok(page, check_axe)
    assert page.locator("#case_reference-error").inner_text().strip() == german(
        "Enter only the case reference of the anti-discrimination office, in its format "
        "(e.g. %(example)s): no names, contact details, dates of birth, origin or anything "
        "about the incident. Such details stay in the office's case file.",
        example="ADS-2026-0042")
    assert db.session.scalar(select(m.Complaint)) is None
    assert db.session.scalar(select(m.ComplianceCheck)) is None

    received = today() - timedelta(days=2)
    form = page.locator("main form[method=post]")
    form.locator("[name=case_reference]").fill("ADS-2025-0017")
    form.locator("[name=received_on]").fill(de_date(received))
    _submit(page, form)
    _ok(page, check_axe)
    db.session.expire_all()
    complaint = db.session.scalar(select(m.Complaint))
    assert (complaint.agreement_id, complaint.case_reference, complaint.received_on,
            complaint.recorded_by_id) == (contract.id, "ADS-2025-0017", received, officer.id)
    check = db.session.get(m.ComplianceCheck, complaint.check_id)
    assert (check.trigger, check.stage, check.assigned_to_id) == ("complaint", "due",
                                                                   officer.id)
    assert path_of(page.url) == f"/compliance/checks/{check.id}"
    assert german("The complaint is linked and an ad-hoc check is open.") in \
        page.locator(".flashes").inner_text()
    assert "ADS-2025-0017" in page.locator("main dl.meta").inner_text()
    # It is on the officer's deadlines, assigned to them.
    _ok(page, check_axe, page.goto("/compliance/"))
    row = page.locator("main table tbody tr", has_text=contract.reference)
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert (cells[2], cells[5], cells[6]) == (german("Complaint"), german("Due"),
                                              officer.display_name)


def test_auditor_reads_only_and_another_unit_sees_nothing(new_page, make_user,
                                                          check_axe) -> None:
    contract = _contract()
    theirs = _contract("KIJ", breach=False)  # KIJ's own due check
    check = _due_check(contract)
    officer = _user(make_user, "procurement_officer", "ZVS", "vera-zvs")
    _heard(check, officer)
    services.propose_measure(check, services.MeasureInput(
        "action_plan", "Schulung", deadline=today() + timedelta(days=30)), officer,
        today())
    (measure,) = _measures(check)
    check_path = f"/compliance/checks/{check.id}"

    auditor = _user(make_user, "auditor", "RPA", "auditor-rpa")
    page = new_page()
    sign_in(page, auditor.username, PASSWORD)
    _ok(page, check_axe, page.goto("/compliance/"))  # due checks of every unit, to read
    assert page.locator("main table tbody tr", has_text=theirs.reference).count() == 1
    assert page.locator(f"main a[href='{check_path}']").count() == 0  # this one is done
    _ok(page, check_axe, page.goto(check_path))
    assert "Schulung" in page.locator("#measures").inner_text()
    assert "Stellungnahme der Firma" in page.locator("#hearings").inner_text()
    assert page.locator("main form").count() == 0
    assert page.locator("main button, main textarea, main select").count() == 0
    _ok(page, check_axe, page.goto(f"/compliance/agreement/{contract.id}"))
    assert page.locator(f"main a[href='{check_path}']").count() == 1
    assert page.locator("main a[href^='/compliance/complaints/']").count() == 0
    assert page.locator("main form").count() == 0
    response = page.goto(f"/compliance/complaints/{contract.id}")
    assert response.status == 403
    _ok(page, check_axe)
    token = page.locator("form.logout-form input[name=csrf_token]").get_attribute("value")
    for path, form in (
            (f"{check_path}/outcome", {"outcome": "compliant"}),
            (f"{check_path}/hearing", {"held_on": de_date(today()), "summary": "x"}),
            (f"{check_path}/measures", {"kind": "penalty", "description": "x", "breaches": "1"}),
            (f"{check_path}/assign", {}),
            (f"/compliance/measures/{measure.id}/decision",
             {"decision": "approve", "version": str(measure.version_id)}),
            (f"/compliance/complaints/{contract.id}",
             {"case_reference": "ADS-2026-0001", "received_on": de_date(today())})):
        response = page.request.post(path, form={"csrf_token": token, **form},
                                     max_redirects=0)
        assert response.status == 403, path
    (measure,) = _measures(check)
    assert measure.state == "proposed" and len(check.hearings) == 1
    assert db.session.scalar(select(m.Complaint)) is None

    stranger = _user(make_user, "procurement_officer", "KIJ", "kim-kij")
    other = new_page()
    sign_in(other, stranger.username, PASSWORD)
    _ok(other, check_axe, other.goto("/compliance/"))
    listing = other.locator("main").inner_text()
    assert theirs.reference in listing and contract.reference not in listing
    response = other.goto(check_path)
    assert response.status == 404
    _ok(other, check_axe)
    assert other.goto(f"/compliance/agreement/{contract.id}").status == 404
    assert other.goto(f"/compliance/complaints/{contract.id}").status == 404
    token = other.locator("form.logout-form input[name=csrf_token]").get_attribute("value")
    response = other.request.post(f"/compliance/measures/{measure.id}/decision", form={
        "csrf_token": token, "version": str(measure.version_id), "decision": "approve"},
        max_redirects=0)
    assert response.status == 404
    (measure,) = _measures(check)
    assert measure.state == "proposed"
