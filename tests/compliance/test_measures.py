"""A confirmed breach with an open measure in THE compliance state, and measures that end
an agreement (termination, revocation) through the agreements service."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import verify_chain
from clause_tracker.checks import services
from clause_tracker.clauses.services import current_version
from clause_tracker.compliance.state import compliance_of
from clause_tracker.extensions import db
from clause_tracker.registry.queries import ListFilter, filtered
from tests.factories import add_declaration, file_signed_copy

DAY = date(2026, 3, 2)
_CASES = itertools.count(1)  # case references of the anti-discrimination office


def _measure(agreement, kind: str, officer, approver, approve: bool = True, **values):
    """Complaint → ad-hoc check → findings → hearing → measure proposed (and decided)."""
    check = services.record_complaint(agreement, f"ADS-2026-{next(_CASES):04d}", DAY, officer,
                                      DAY)
    if not check.outcome:
        services.record_outcome(check, "findings", "", "Befund", officer, None, DAY)
        services.record_hearing(check, DAY, "Der Auftragnehmer wurde gehört.", officer, DAY)
        services.decide_breach(check, "breach_confirmed", "Verstoß belegt.", officer,
                               check.version_id, DAY)
    measure = services.propose_measure(check, services.MeasureInput(kind, kind, **values),
                                       officer, DAY)
    if approve is not None:
        services.decide_measure(measure, approve, "", approver, measure.version_id)
    return measure


@pytest.fixture
def breached(app, published_clauses, agreement):
    """An active contract with the clause, a confirmed breach and a new, valid declaration."""
    contract = agreement(clause_version_id=current_version("procurement", "de").id)
    add_declaration(contract, "breach_confirmed", valid_until=date(2027, 1, 1))
    add_declaration(contract, "accepted", valid_until=date(2027, 12, 31))
    file_signed_copy(contract)
    return contract


@pytest.fixture
def people(make_user):
    return make_user("procurement_officer", "ZVS"), make_user("admin")


def _state(agreement, day: date = DAY) -> tuple[str, str]:
    found = compliance_of(agreement.id, day)
    return found.state, found.reason


def test_breach_without_an_approved_measure_is_open(breached, people) -> None:
    assert _state(breached) == ("non_compliant", "breach_confirmed")
    officer, admin = people
    _measure(breached, "action_plan", officer, admin, approve=None,
             deadline=DAY + timedelta(days=60))  # proposed only: binds nobody yet
    assert _state(breached) == ("non_compliant", "breach_confirmed")


@pytest.mark.parametrize(("kind", "values", "ends"), [
    ("exclusion", {"exclusion_until": DAY + timedelta(days=400)}, DAY + timedelta(days=400)),
])
def test_measure_in_force_until_its_end(breached, people, kind, values, ends) -> None:
    officer, admin = people
    _measure(breached, kind, officer, admin, **values)
    assert _state(breached) == ("non_compliant", "breach_open_measure")
    assert _state(breached, ends) == ("non_compliant", "breach_open_measure")
    # Run its course: the breach is closed, the new declaration makes it compliant.
    assert _state(breached, ends + timedelta(days=1)) == ("compliant", "declaration_valid")


@pytest.mark.parametrize(("done_on", "completion"), [(DAY + timedelta(days=30), "on_time"),
                                                     (DAY + timedelta(days=90), "late")])
def test_an_action_plan_binds_until_it_is_recorded_done(breached, people, done_on,
                                                        completion) -> None:
    officer, admin = people
    deadline = DAY + timedelta(days=60)
    plan = _measure(breached, "action_plan", officer, admin, deadline=deadline)
    assert _state(breached, deadline) == ("non_compliant", "breach_open_measure")
    # Past its deadline without a completion: overdue, and it still binds.
    assert _state(breached, deadline + timedelta(days=1)) == ("non_compliant",
                                                              "action_plan_overdue")
    with pytest.raises(services.CheckError, match="once it has happened"):
        services.record_plan_completion(plan, True, done_on, "", officer, plan.version_id,
                                        done_on - timedelta(days=1))
    services.record_plan_completion(plan, True, done_on, "Schulung durchgeführt", officer,
                                    plan.version_id, done_on)
    assert plan.completion == completion
    assert _state(breached, done_on) == ("compliant", "declaration_valid")
    with pytest.raises(services.CheckError, match="already recorded"):
        services.record_plan_completion(plan, False, done_on, "x", officer, plan.version_id,
                                        done_on)


def test_an_action_plan_not_done_keeps_the_breach_open(breached, people) -> None:
    officer, admin = people
    plan = _measure(breached, "action_plan", officer, admin, deadline=DAY + timedelta(days=60))
    with pytest.raises(services.CheckError, match="what was not done"):
        services.record_plan_completion(plan, False, DAY, " ", officer, plan.version_id, DAY)
    services.record_plan_completion(plan, False, DAY + timedelta(days=61), "Keine Schulung",
                                    officer, plan.version_id, DAY + timedelta(days=61))
    assert plan.completion == "not_done"
    assert _state(breached, DAY + timedelta(days=400)) == ("non_compliant",
                                                           "breach_open_measure")
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "compliance.measure.completion")) is not None


def test_an_overdue_action_plan_is_reminded_and_escalated_once(app, breached, people,
                                                              make_user) -> None:
    from clause_tracker.checks import sweep
    from clause_tracker.checks.outbox import Reminder

    officer, admin = people
    app.config["COMPLIANCE_UNIT_HEADS"] = ("ZVS=leitung@jena.de",)
    officer.email = "officer@jena.de"
    db.session.commit()
    plan = _measure(breached, "action_plan", officer, admin, deadline=DAY + timedelta(days=60))
    assert sweep.mark_plans_overdue(DAY + timedelta(days=60), services.settings()) == 0
    assert sweep.mark_plans_overdue(DAY + timedelta(days=61), services.settings()) == 1
    db.session.commit()
    kinds = {(r.kind, r.recipient) for r in db.session.scalars(select(Reminder))}
    assert ("plan_escalation", "leitung@jena.de") in kinds
    assert ("plan_overdue", "officer@jena.de") in kinds
    assert plan.escalated_at is not None
    assert sweep.mark_plans_overdue(DAY + timedelta(days=62), services.settings()) == 0


def test_rejected_measure_and_self_cleaning_do_not_hold_it_open(breached, people) -> None:
    officer, admin = people
    rejected = _measure(breached, "action_plan", officer, admin, approve=False,
                        deadline=DAY + timedelta(days=60))
    assert _state(breached) == ("non_compliant", "breach_confirmed")
    # On the same check: the self-cleaning, once approved, is the remedy (§ 125 GWB).
    cleaning = services.propose_measure(rejected.check, services.MeasureInput(
        "self_cleaning", "Selbstreinigung"), officer, DAY)
    services.decide_measure(cleaning, True, "", admin, cleaning.version_id)
    assert _state(breached) == ("compliant", "declaration_valid")


def test_penalty_is_on_the_net_value_and_shown_as_written(breached, people, client,
                                                          login) -> None:
    officer, admin = people
    breached.value, breached.vat_rate = Decimal("100000"), Decimal("19")
    db.session.commit()
    assert breached.gross_value == Decimal("119000.00")
    app_penalty = _measure(breached, "penalty", officer, admin, breaches=1)
    assert app_penalty.penalty_amount == Decimal("1000.00")  # 1 % of the net, not the gross
    login(client, officer.username)
    page = client.get(f"/compliance/checks/{app_penalty.check_id}").get_data(as_text=True)
    assert "1\u00a0% des Nettoauftragswerts" in page and "1.000,00\u00a0€" in page
    record = client.get(f"/agreements/{breached.id}").get_data(as_text=True)
    assert "119.000,00\u00a0€" in record and "19\u00a0%" in record


def test_penalty_stays_on_the_record(breached, people) -> None:
    officer, admin = people
    _measure(breached, "penalty", officer, admin, breaches=1)
    assert _state(breached, DAY + timedelta(days=3000)) == ("non_compliant",
                                                             "breach_open_measure")


def test_list_filter_agrees_with_the_single_record(breached, people, agreement) -> None:
    officer, admin = people
    _measure(breached, "exclusion", officer, admin, exclusion_until=DAY + timedelta(days=10))
    clean = agreement(clause_version_id=breached.clause_version_id)
    add_declaration(clean, "accepted", valid_until=date(2027, 12, 31))
    for day, expected in ((DAY, {breached.id}), (DAY + timedelta(days=11), set())):
        stmt, _ = filtered(admin, ListFilter(compliance="non_compliant"), day)
        assert set(db.session.scalars(stmt.with_only_columns(Agreement.id))) == expected


def test_approved_termination_terminates_the_contract(breached, people) -> None:
    officer, admin = people
    version = breached.version_id
    measure = _measure(breached, "termination", officer, admin)
    db.session.refresh(breached)
    assert (measure.state, breached.status) == ("approved", "terminated")
    assert breached.version_id == version + 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.status"))
    assert event.object_id == str(breached.id)
    assert "active → terminated" in event.summary
    assert _state(breached) == ("non_compliant", "breach_open_measure")
    assert verify_chain().ok


def test_approved_revocation_revokes_the_grant(app, published_clauses, agreement,
                                               make_user) -> None:
    grant = agreement(kind="grant", code="FDJB",
                      clause_version_id=current_version("grant", "de").id)
    manager, admin = make_user("grant_manager", "FDJB"), make_user("admin")
    _measure(grant, "revocation", manager, admin)
    db.session.refresh(grant)
    assert grant.status == "revoked"
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "grant.status")) == 1


def test_termination_respects_the_lifecycle(breached, people) -> None:
    officer, admin = people
    measure = _measure(breached, "termination", officer, admin, approve=None)
    breached.status = "ended"  # the term ran out before the decision
    db.session.commit()
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(services.CheckError, match="“Ended” cannot become “Terminated”"):
        services.decide_measure(measure, True, "", admin, measure.version_id)
    db.session.rollback()
    db.session.refresh(measure)
    db.session.refresh(breached)
    assert (measure.state, breached.status) == ("proposed", "ended")
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events
    # Rejecting it is still possible: nothing to end.
    services.decide_measure(measure, False, "", admin, measure.version_id)
    assert measure.state == "rejected"
