"""Four-eyes decisions stay bound to what was decided: an approved exemption and a "no
declaration required" keep the values they were decided on, and a later change of any of
them voids the decision — audited, and the state says why."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from clause_tracker.agreements import services as agreements
from clause_tracker.audit.models import AuditEvent
from clause_tracker.compliance.state import compliance_of
from clause_tracker.declarations import services as declarations
from clause_tracker.extensions import db
from tests.factories import file_signed_copy, new_counterparty, unit

REASON = "Notvergabe (Gefahr im Verzug)"


def _changes(counterparty_id: int) -> dict[str, dict[str, object]]:
    return {"value": {"value": Decimal("4900000")},
            "counterparty_id": {"counterparty_id": counterparty_id},
            "procedure": {"procedure": "negotiated"},
            "contract_kind": {"contract_kind": "works"},
            "org_unit_id": {"org_unit_id": unit("KIJ").id}}


@pytest.fixture
def exempt(app, make_agreement, make_user):
    """An awarded contract of 400 €, without the clause, under an approved exemption."""
    app.config["EXEMPTION_REASONS"] = (REASON,)
    contract = make_agreement("contract", value=Decimal("400"))
    officer, admin = make_user("procurement_officer"), make_user("admin")
    agreements.request_exemption(contract, REASON, "Sturmschaden", contract.version_id, officer)
    agreements.approve_exemption(contract, contract.version_id, admin)
    declarations.not_required(contract, "exempt", officer)
    agreements.change_status(contract, "awarded", contract.version_id, officer)
    return contract, officer, admin


@pytest.mark.parametrize("field", ["value", "counterparty_id", "procedure", "contract_kind",
                                   "org_unit_id"])
def test_a_changed_basis_voids_the_exemption(exempt, field) -> None:
    contract, officer, admin = exempt
    basis = json.loads(contract.exemption_basis)
    assert basis["value"] == "400.00" and basis["procedure"] == contract.procedure
    assert compliance_of(contract.id).state == "exempt"
    agreements.update(contract, _changes(new_counterparty().id)[field], contract.version_id,
                      officer)
    assert contract.exemption_approved_at is None and contract.exemption_voided_at is not None
    assert compliance_of(contract.id).reason == "exemption_voided"
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "agreement.exemption_void"))
    details = json.loads(event.details)
    assert field in details["changes"] and details["approved_by"] == admin.id
    assert details["decided_on"]["value"] == "400.00"
    # The "no declaration required" that followed from the exemption is void too.
    decl = declarations.main_declaration(contract)
    assert decl.state == "voided"
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "declaration.void")) is not None


def test_an_edit_elsewhere_keeps_the_exemption(exempt) -> None:
    contract, officer, _admin = exempt
    agreements.update(contract, {"subject": "Notreparatur Dach"}, contract.version_id, officer)
    assert contract.exemption_approved_at is not None
    assert compliance_of(contract.id).state == "exempt"


def test_below_threshold_is_void_once_the_value_grows(app, make_agreement, make_user,
                                                      published_clauses) -> None:
    from clause_tracker.clauses.services import current_version

    contract = make_agreement("contract", value=Decimal("400"))
    officer = make_user("procurement_officer")
    agreements.set_threshold(contract.org_unit_id, "contract", Decimal("1000"))
    contract.clause_version_id = current_version("procurement", "de").id
    db.session.commit()
    decl = declarations.not_required(contract, "below_threshold", officer)
    assert json.loads(decl.decided_basis)["value"] == "400.00"
    agreements.change_status(contract, "awarded", contract.version_id, officer)
    file_signed_copy(contract)
    assert compliance_of(contract.id).reason == "declaration_not_required"
    agreements.update(contract, {"value": Decimal("4900000")}, contract.version_id, officer)
    assert decl.state == "voided"
    found = compliance_of(contract.id)
    assert (found.state, found.reason) == ("non_compliant", "not_required_voided")
    # A declaration is requested on the same row; the void is behind it.
    declarations.transition(decl, "request", "", decl.version_id, officer)
    assert decl.state == "requested"
    assert compliance_of(contract.id).reason == "declaration_requested"


def test_void_is_never_offered_or_taken_by_hand(app, make_agreement, make_user) -> None:
    from clause_tracker.declarations.lifecycle import TransitionRefused, actions_from

    assert "void" not in actions_from("not_required")
    contract = make_agreement("contract", value=Decimal("400"))
    officer = make_user("procurement_officer")
    agreements.set_threshold(contract.org_unit_id, "contract", Decimal("1000"))
    decl = declarations.not_required(contract, "below_threshold", officer)
    with pytest.raises(TransitionRefused):
        declarations.transition(decl, "void", "", decl.version_id, officer)


def test_the_page_says_why(exempt, client, signed_in) -> None:
    contract, officer, _admin = exempt
    agreements.update(contract, {"value": Decimal("4900000")}, contract.version_id, officer)
    signed_in("procurement_officer", "ZVS")
    page = client.get(f"/agreements/{contract.id}").get_data(as_text=True)
    assert "Die Ausnahme ist hinfällig" in page  # the state's reason
    assert "Hinfällig seit" in page  # the exemption's own line
