"""Lifecycle rules, the declaration transition table, and the compliance state with its reason."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements.services import RegistryError
from clause_tracker.audit.models import AuditEvent
from clause_tracker.compliance.labels import REASON_TEXTS
from clause_tracker.compliance.state import compliance_of
from clause_tracker.declarations import services as declarations
from clause_tracker.declarations.lifecycle import (
    ACTIONS,
    STATES,
    SYSTEM_ACTIONS,
    TRANSITIONS,
    TransitionRefused,
)
from clause_tracker.extensions import db
from clause_tracker.registry import queries
from clause_tracker.workdays import add_working_days
from tests.factories import add_declaration

TODAY = date.today()


def test_working_days_skip_weekends() -> None:
    friday = date(2026, 3, 6)
    assert add_working_days(friday, 1) == date(2026, 3, 9)  # Monday
    assert add_working_days(friday, 5) == date(2026, 3, 13)
    assert add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)  # Mon + 5 = next Mon
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # from a Saturday


@pytest.mark.parametrize(("start", "days", "deadline"), [
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April
    (date(2026, 4, 1), 5, date(2026, 4, 10)),
    (date(2026, 4, 2), 1, date(2026, 4, 7)),
    # Tag der Deutschen Einheit, Friday 3 October 2025
    (date(2025, 10, 1), 3, date(2025, 10, 7)),
    # Weltkindertag, Friday 20 September 2024: a holiday in Thuringia, not in Germany at large
    (date(2024, 9, 19), 1, date(2024, 9, 23)),
    # Reformationstag, Friday 31 October 2025 (Thuringia, not every state)
    (date(2025, 10, 30), 1, date(2025, 11, 3)),
    # Christmas 2026 and New Year 2027: the calendar of the following year counts too
    (date(2026, 12, 23), 6, date(2027, 1, 4)),
])
def test_working_days_skip_thuringian_public_holidays(start, days, deadline) -> None:
    assert add_working_days(start, days) == deadline


def test_a_deadline_is_at_least_one_working_day() -> None:
    with pytest.raises(ValueError, match="at least one"):
        add_working_days(date(2026, 3, 2), 0)


def test_award_needs_clause_and_declaration(app, published_clauses, make_agreement,
                                            make_user) -> None:
    contract = make_agreement("contract")
    officer = make_user("procurement_officer")
    with pytest.raises(RegistryError, match="clause"):
        agreements.change_status(contract, "awarded", contract.version_id, officer)
    agreements.attach_clause(contract, "contract_document", "de", contract.version_id, officer)
    with pytest.raises(RegistryError, match="declaration"):
        agreements.change_status(contract, "awarded", contract.version_id, officer)
    declarations.request(contract, "main", "", TODAY, 5, officer, "a" * 32)
    agreements.change_status(contract, "awarded", contract.version_id, officer)
    assert contract.status == "awarded"
    with pytest.raises(RegistryError, match="“Awarded” cannot become “Ended”"):  # skips active
        agreements.change_status(contract, "ended", contract.version_id, officer)
    agreements.change_status(contract, "active", contract.version_id, officer)
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "Agreement", AuditEvent.object_id == str(contract.id))))
    assert actions == ["contract.create", "agreement.clause_attach", "contract.status",
                       "contract.status"]


def test_overdue_request_does_not_allow_the_award(app, published_clauses, make_agreement,
                                                  make_user) -> None:
    contract = make_agreement("contract")
    officer = make_user("procurement_officer")
    agreements.attach_clause(contract, "special_conditions", "de", contract.version_id, officer)
    add_declaration(contract, "requested", deadline=TODAY - timedelta(days=1))
    with pytest.raises(RegistryError, match="deadline"):
        agreements.change_status(contract, "awarded", contract.version_id, officer)


def test_approved_exemption_replaces_clause_and_declaration(app, make_agreement, make_user
                                                            ) -> None:
    app.config["EXEMPTION_REASONS"] = ("Notvergabe (Gefahr im Verzug)",)
    contract = make_agreement("contract")
    officer, admin = make_user("procurement_officer"), make_user("admin")
    with pytest.raises(RegistryError, match="not on the list of accepted exemption reasons"):
        agreements.request_exemption(contract, "beliebig", "x", contract.version_id, officer)
    agreements.request_exemption(contract, "Notvergabe (Gefahr im Verzug)", "Wasserschaden",
                                 contract.version_id, officer)
    with pytest.raises(RegistryError, match="second person"):
        agreements.approve_exemption(contract, contract.version_id, officer)
    agreements.approve_exemption(contract, contract.version_id, admin)
    assert compliance_of(contract.id).state == "exempt"
    agreements.change_status(contract, "awarded", contract.version_id, officer)


def test_no_exemptions_by_default(app, make_agreement, make_user) -> None:
    contract = make_agreement("contract")
    assert agreements.exemption_reasons() == []
    with pytest.raises(RegistryError, match="not on the list of accepted exemption reasons"):
        agreements.request_exemption(contract, "", "x", contract.version_id,
                                     make_user("procurement_officer"))


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_declaration_transition(app, published_clauses, make_agreement, make_user, state: str,
                                      action: str) -> None:
    contract = make_agreement("contract")
    officer = make_user("procurement_officer")
    decl = add_declaration(contract, state, evidence_key="0" * 64, working_days=5,
                           deadline=TODAY)
    allowed = (state, action) in TRANSITIONS and action not in SYSTEM_ACTIONS
    before = db.session.scalar(select(db.func.count()).select_from(AuditEvent))

    def run():
        if action == "receive":
            return declarations.receive(
                decl, signer_name="Erika Muster", signer_function="Geschäftsführerin",
                signed_on=TODAY, received_on=TODAY, channel="post", valid_until=None,
                evidence=None, expected_version=decl.version_id, user=officer)
        return declarations.transition(decl, action, "note", decl.version_id, officer)

    if allowed:
        run()
        assert decl.state == TRANSITIONS[(state, action)]
        event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert event.action == f"declaration.{action}"
        assert f'"from": "{state}"' in event.details
    else:
        with pytest.raises(TransitionRefused, match="cannot be changed by"):
            run()
        db.session.rollback()
        assert db.session.get(type(decl), decl.id).state == state
        assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == before


def test_accept_needs_evidence(app, make_agreement, make_user) -> None:
    decl = add_declaration(make_agreement("contract"), "received")
    with pytest.raises(RegistryError, match="evidence"):
        declarations.transition(decl, "accept", "", decl.version_id,
                                make_user("procurement_officer"))


def test_subcontractor_declarations_only_for_contracts(app, make_agreement, make_user) -> None:
    grant = make_agreement("grant")
    with pytest.raises(RegistryError, match="contracts only"):
        declarations.request(grant, "subcontractor", "Partner e.V.", TODAY, 5,
                             make_user("grant_manager"), "b" * 32)
    contract = make_agreement("contract")
    sub = declarations.request(contract, "subcontractor", "Elektro Schmidt", TODAY, 5,
                               make_user("procurement_officer"), "c" * 32)
    assert sub.deadline == add_working_days(TODAY, 5)


def _case(make_agreement, make_user, name: str):
    """Build one compliance situation; returns the agreement."""
    officer = make_user("procurement_officer")
    contract = make_agreement("contract")
    if name == "draft_without_clause":
        return contract
    agreements.attach_clause(contract, "contract_document", "de", contract.version_id, officer)
    past, future = TODAY - timedelta(days=1), TODAY + timedelta(days=3)
    setups = {
        "draft_without_declaration": None,
        "declaration_requested": ("requested", {"deadline": future}),
        "declaration_overdue": ("requested", {"deadline": past}),
        "declaration_received": ("received", {}),
        "declaration_valid": ("accepted", {"valid_until": future}),
        "declaration_expired": ("accepted", {"valid_until": past}),
        "declaration_rejected": ("rejected", {}),
        "declaration_suspended": ("suspended", {}),
        "breach_confirmed": ("breach_confirmed", {}),
        "declaration_not_required": ("not_required", {"not_required_reason": "below_threshold"}),
    }
    if setups.get(name):
        state, values = setups[name]
        add_declaration(contract, state, **values)
    return contract


@pytest.mark.parametrize(("case", "state"), [
    ("draft_without_clause", "pending"),
    ("draft_without_declaration", "pending"),
    ("declaration_requested", "pending"),
    ("declaration_received", "pending"),
    ("declaration_suspended", "pending"),
    ("declaration_overdue", "non_compliant"),
    ("declaration_expired", "non_compliant"),
    ("declaration_rejected", "non_compliant"),
    ("breach_confirmed", "non_compliant"),
    ("declaration_valid", "compliant"),
    ("declaration_not_required", "compliant"),
])
def test_compliance_state_and_reason(app, published_clauses, make_agreement, make_user, case: str,
                                     state: str) -> None:
    contract = _case(make_agreement, make_user, case)
    found = compliance_of(contract.id)
    assert (found.state, found.reason) == (state, case)
    assert case in REASON_TEXTS  # every reason the rules give has its text
    # The list filters with the very same definition.
    auditor = make_user("auditor")
    listed = queries.page(auditor, queries.ListFilter(compliance=state))
    assert contract.id in [row.agreement.id for row in listed.rows]
    assert all(row.compliance == state for row in listed.rows)


def test_awarded_without_clause_is_non_compliant(app, make_agreement) -> None:
    contract = make_agreement("contract")
    contract.status = "active"  # e.g. a legacy record; the lifecycle would refuse this
    db.session.commit()
    assert compliance_of(contract.id).reason == "no_clause"
    assert compliance_of(contract.id).state == "non_compliant"


def test_self_commitment_never_blocks_a_grant(app, published_clauses, make_agreement,
                                              make_user) -> None:
    manager = make_user("grant_manager")
    grant = make_agreement("grant")
    agreements.attach_clause(grant, "grant_notice", "de", grant.version_id, manager)
    declarations.request(grant, "main", "", TODAY, 5, manager, "d" * 32)
    before = compliance_of(grant.id)
    agreements.change_status(grant, "awarded", grant.version_id, manager)  # no commitment
    declarations.record_commitment(grant, 0, "keine Selbstverpflichtung", manager)
    assert compliance_of(grant.id) == before
    declarations.record_commitment(grant, 8, "Antirassismus-Leitbild, Schulungen", manager)
    assert declarations.commitment_of(grant).score == 8
    assert compliance_of(grant.id) == before
    with pytest.raises(RegistryError, match="between 0 and 10"):
        declarations.record_commitment(grant, 11, "", manager)


def test_concurrent_save_between_check_and_commit_is_a_conflict(app, make_agreement,
                                                                 make_user) -> None:
    """The version counter guards the UPDATE itself, not only the form's hidden field."""
    from sqlalchemy import text

    from clause_tracker.audit.services import verify_chain
    from clause_tracker.versioning import EditConflict

    contract = make_agreement("contract")
    seen = contract.version_id
    with db.engine.begin() as other:  # someone else saves in the meantime
        other.execute(text("UPDATE agreements SET subject = 'fremd', "
                           "version_id = version_id + 1 WHERE id = :id"), {"id": contract.id})
    with pytest.raises(EditConflict, match="Someone else changed this record"):
        agreements.update(contract, {"subject": "meins"}, seen,
                          make_user("procurement_officer"))
    db.session.expire_all()
    assert db.session.get(type(contract), contract.id).subject == "fremd"
    assert verify_chain().ok  # the refused change left no audit event behind
