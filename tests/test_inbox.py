"""Meine Aufgaben: everything that waits on a user, each linked, the nearest deadline first;
proposals for a second person never shown to their proposer; the count in the navigation;
the daily e-mail lists the same tasks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import current_app
from sqlalchemy import select

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements import signed_copy
from clause_tracker.checks import services as checks
from clause_tracker.checks.models import ComplianceCheck
from clause_tracker.checks.outbox import OutboxMessage
from clause_tracker.clauses.services import current_version
from clause_tracker.clock import today, utcnow
from clause_tracker.extensions import db
from clause_tracker.inbox import digest
from clause_tracker.inbox.services import tasks_for
from tests.factories import add_declaration, file_signed_copy


def _kinds(user) -> list[tuple[str, str]]:
    with_request = current_app.test_request_context("/")
    with with_request:
        return [(t.kind, t.reference) for t in tasks_for(user, today())]


@pytest.fixture
def office(app, published_clauses, agreement, make_user):
    """Two officers of ZVS and an administrator; contracts in every waiting situation."""
    vera, otto = make_user("procurement_officer", "ZVS"), make_user("procurement_officer", "ZVS")
    admin = make_user("admin")
    clause = current_version("procurement", "de").id
    day = today()
    due = agreement(reference="DUE", clause_version_id=clause)
    db.session.add(ComplianceCheck(agreement_id=due.id, trigger="interval", occasion="x",
                                   due_on=day - timedelta(days=3),
                                   deadline=day + timedelta(days=27), stage="due",
                                   created_at=utcnow()))
    awaited = agreement(reference="AWAIT", clause_version_id=clause,
                        signed_copy_due_on=day + timedelta(days=5))
    add_declaration(awaited, "requested", deadline=day + timedelta(days=2),
                    requested_on=day - timedelta(days=3))
    scanned = agreement(reference="SCAN", clause_version_id=clause,
                        signed_copy_due_on=day - timedelta(days=1))
    file_signed_copy(scanned, "ocr_match")
    manual = agreement(reference="PAPER", clause_version_id=clause)
    signed_copy.propose_manual_check(manual, "Scan unleserlich", vera)
    other_unit = agreement(reference="KIJ-1", code="KIJ", clause_version_id=clause)
    file_signed_copy(other_unit, "ocr_match")
    db.session.commit()
    return vera, otto, admin


def test_each_officer_sees_what_waits_on_them_nearest_deadline_first(office) -> None:
    vera, otto, _admin = office
    mine = _kinds(vera)
    assert ("check_due", "DUE") in mine
    assert ("declaration_due", "AWAIT") in mine and ("signed_copy_awaited", "AWAIT") in mine
    assert ("ocr_confirm", "SCAN") in mine
    assert all(reference != "KIJ-1" for _kind, reference in mine)  # another unit's
    # Her own manual check is not her task; it is her colleague's to approve.
    assert ("approve_manual_check", "PAPER") not in mine
    assert ("approve_manual_check", "PAPER") in _kinds(otto)
    with current_app.test_request_context("/"):
        tasks = tasks_for(vera, today())
    deadlines = [t.deadline for t in tasks if t.deadline is not None]
    assert deadlines == sorted(deadlines)  # the nearest deadline first
    assert tasks[-1].deadline is None or all(t.deadline for t in tasks)


def test_proposals_wait_on_a_second_person_never_the_proposer(app, office, agreement) -> None:
    vera, otto, admin = office
    app.config["EXEMPTION_REASONS"] = ("Notvergabe",)
    contract = agreement(reference="BREACH", value=Decimal("1000"))
    check = checks.record_complaint(contract, "ADS-2026-0001", today(), vera, today())
    checks.record_outcome(check, "findings", "", "Befund", vera, None, today())
    checks.record_hearing(check, today(), "gehört", vera, today())
    checks.decide_breach(check, "breach_confirmed", "belegt", vera, None, today())
    checks.propose_measure(check, checks.MeasureInput(
        "action_plan", "Schulung", deadline=today() + timedelta(days=30)), vera, today())
    exempt = agreement(reference="EXEMPT")
    agreements.request_exemption(exempt, "Notvergabe", "Sturm", exempt.version_id, vera)
    assert ("approve_measure", "BREACH") not in _kinds(vera)
    assert ("approve_measure", "BREACH") in _kinds(otto)
    assert {("approve_measure", "BREACH"), ("approve_exemption", "EXEMPT")} <= set(_kinds(admin))
    assert ("approve_exemption", "EXEMPT") not in _kinds(vera)  # officers do not approve them


def test_hearing_and_decision_are_tasks_too(office, agreement) -> None:
    vera, _otto, _admin = office
    contract = agreement(reference="HEAR")
    check = checks.record_complaint(contract, "ADS-2026-0002", today(), vera, today())
    checks.record_outcome(check, "findings", "", "Befund", vera, None, today())
    assert ("hearing", "HEAR") in _kinds(vera)
    checks.record_hearing(check, today(), "gehört", vera, today())
    assert ("breach_decision", "HEAR") in _kinds(vera)


def test_the_page_and_the_navigation_count(client, office, login) -> None:
    vera, _otto, _admin = office
    login(client, vera.username)
    page = client.get("/tasks/").get_data(as_text=True)
    assert "Meine Aufgaben" in page and "SCAN" in page and "/agreements/" in page
    count = len(_kinds(vera))
    assert f'<span class="count">{count}</span>' in client.get("/").get_data(as_text=True)


def test_the_daily_message_lists_the_same_tasks(app, office) -> None:
    from clause_tracker.checks.notifications import render

    vera, _otto, _admin = office
    vera.email = "vera@jena.de"
    db.session.commit()
    assert digest.queue(today()) == 1
    assert digest.queue(today()) == 0  # one message per person and day
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.recipient == "vera@jena.de"))
    subject, body = render(message)
    assert subject == f"Antirassismusklausel: {len(_kinds(vera))} Aufgabe(n)"
    assert "Meine Aufgaben" in body and "SCAN" in body and "überfällig" in body
    assert "/agreements/" in body


def test_nothing_waits_on_an_auditor(client, signed_in, office) -> None:
    signed_in("auditor")
    page = client.get("/tasks/").get_data(as_text=True)
    assert 'id="no-tasks"' in page
    assert date.today() is not None
