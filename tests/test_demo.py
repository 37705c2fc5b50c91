"""The demo city: a newcomer's first look shows a working office — records in every state
and reason, documents generated and verified, complaints, hearings and measures, a sweep
run, deadlines and tasks for the demo officers — all written through the services."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import verify_chain
from clause_tracker.auth.services import find_user
from clause_tracker.checks.models import Complaint, ComplianceCheck, Hearing, Measure, Sweep
from clause_tracker.checks.services import my_deadlines
from clause_tracker.clock import today
from clause_tracker.compliance.state import STATES, compliance_columns
from clause_tracker.demo import DemoRefused, load_city
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.inbox.services import tasks_for
from clause_tracker.orgunits.models import OrgUnit

# The whole demo city through the services (several seconds): with the slow tests.
pytestmark = pytest.mark.slow

# Every reason the services can bring about. (Two are left out: "no_clause", an award
# without the clause, and "no_declaration", the fallback: the award guard lets neither
# happen through the app.)
REASONS = {
    "exemption_approved", "exemption_voided", "action_plan_overdue", "breach_open_measure",
    "breach_confirmed", "check_breach_open_measure", "check_breach_confirmed",
    "signed_copy_deviates", "signed_copy_clause_missing", "signed_copy_tracked_changes",
    "declaration_rejected", "declaration_overdue", "declaration_expired",
    "not_required_voided", "check_overdue", "signed_copy_overdue", "draft_without_clause",
    "declaration_suspended", "declaration_received", "declaration_requested", "check_due",
    "signed_copy_unconfirmed", "signed_copy_awaited", "declaration_valid",
    "declaration_not_required", "draft_without_declaration",
}


def test_the_demo_city(app, runner, published_clauses) -> None:
    """One load (it takes a while), looked at from every side."""
    out = runner.invoke(args=["demo"])
    assert out.exit_code == 0, out.output
    assert "demo records: " in out.output and "checks due" in out.output
    _every_state_and_reason()
    _documents_checks_and_measures()
    with app.test_request_context("/"):
        _a_sweep_ran_and_the_officers_have_work()
    _every_write_audited_and_a_second_run_changes_nothing(runner)


def _every_state_and_reason() -> None:
    columns = compliance_columns(today())
    rows = db.session.execute(columns.join(
        select(columns.state, columns.reason, func.count()).select_from(Agreement))
        .group_by(columns.state, columns.reason)).tuples().all()
    states, reasons = Counter(), Counter()
    for state, reason, count in rows:
        states[state] += count
        reasons[reason] += count
    assert 250 <= sum(states.values()) <= 400
    assert set(states) == set(STATES) and all(states[s] > 0 for s in STATES)
    assert set(reasons) >= REASONS, REASONS - set(reasons)
    # A working office: most records are in order or on their way.
    assert states["compliant"] + states["pending"] > 2 * states["non_compliant"]
    per_unit = Counter(db.session.execute(
        select(OrgUnit.code, Agreement.kind).join(OrgUnit, OrgUnit.id == Agreement.org_unit_id)
    ).tuples())
    for code in ("ZVS", "KIJ", "JK"):
        assert per_unit[code, "contract"] >= 30
    for code in ("FDJB", "BMI", "JK"):
        assert per_unit[code, "grant"] >= 15  # JenaKultur awards both


def _documents_checks_and_measures() -> None:
    statuses = Counter(db.session.scalars(select(DocumentRecord.status)))
    actions = Counter(db.session.scalars(select(DocumentRecord.action)))
    assert actions["generate"] >= 20 and actions["insert"] == 2 and actions["manual"] >= 20
    for status in ("verbatim", "deviation", "missing", "tracked_changes"):
        assert statuses[status] > 0, statuses
    assert db.session.scalar(select(func.count()).select_from(Hearing)) >= 5
    measures = Counter(db.session.execute(select(Measure.kind, Measure.state)).tuples())
    assert measures["action_plan", "approved"] >= 2 and measures["penalty", "approved"] >= 1
    assert measures["exclusion", "approved"] >= 1
    references = list(db.session.scalars(select(Complaint.case_reference)))
    assert references and all(r.startswith("ADS-") for r in references)


def _a_sweep_ran_and_the_officers_have_work() -> None:
    day = today()
    assert set(db.session.scalars(select(Sweep.run_on))) == {day, day - timedelta(days=60)}
    stages = Counter(db.session.scalars(select(ComplianceCheck.stage)))
    assert stages["due"] > 0 and stages["overdue"] > 0 and stages["done"] > 0
    assert stages["breach"] > 0
    for username in ("vergabe", "kij.vergabe", "jk.vergabe", "foerderung"):
        user = find_user(username)
        assert my_deadlines(user, day), username  # "Meine Fristen"
        assert tasks_for(user, day), username  # "Meine Aufgaben"
    assert tasks_for(find_user("admin"), day)  # a manual check waits for a second person


def _every_write_audited_and_a_second_run_changes_nothing(runner) -> None:
    result = verify_chain()
    assert result.ok and result.checked > 1000
    count = db.session.scalar(select(func.count()).select_from(Agreement))
    created = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(("contract.create", "grant.create"))))
    assert created == count
    with pytest.raises(DemoRefused, match="holds records already"):
        load_city()
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert "not loaded (the registry holds records already)" in again.output
    assert db.session.scalar(select(func.count()).select_from(Agreement)) == count
