"""Operations on contracts and grants; each owns its transaction and writes its audit event."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden, NotFound

from clause_tracker import idempotency
from clause_tracker.agreements import lifecycle, signed_copy
from clause_tracker.agreements.labels import STATUS_LABELS
from clause_tracker.agreements.models import (
    CLAUSE_METHODS,
    CONTRACT,
    DECISION_BASIS,
    ENDED_EARLY,
    GRANT,
    GUARDED_STATUSES,
    MODEL_OF_KIND,
    STATUS_TRANSITIONS,
    Agreement,
    ValueThreshold,
)
from clause_tracker.audit.services import record as audit
from clause_tracker.auth.models import User
from clause_tracker.auth.visibility import in_view
from clause_tracker.clauses import services as clauses
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.permissions import MANAGE_KIND
from clause_tracker.transaction import transactional
from clause_tracker.versioning import (
    RefusedChange,
    check_version,
)

CLAUSE_VARIANT = {CONTRACT: "procurement", GRANT: "grant"}


RegistryError = RefusedChange  # the registry's refusals, EditConflict among them


# --- who sees and works on what -------------------------------------------------------------

def visible(user: User) -> Select:
    """Agreements the user may see: their own unit's, or all for auditors and admins."""
    return select(Agreement).where(in_view(user, Agreement.org_unit_id))


def get_visible(agreement_id: int, user: User) -> Agreement | None:
    return db.session.scalar(visible(user).where(Agreement.id == agreement_id))


def get_for_work(agreement_id: int, user: User) -> Agreement:
    """The agreement the user is about to change: NotFound where they may not see it (so its
    existence stays hidden), Forbidden where they see it but do not handle its kind."""
    agreement = get_visible(agreement_id, user)
    if agreement is None:
        raise NotFound()
    if not may_work_on(user, agreement):
        raise Forbidden()
    return agreement


def may_work_on(user: User, agreement: Agreement | str) -> bool:
    """Procurement officers handle contracts, grant managers grants (visibility checked before)."""
    kind = agreement if isinstance(agreement, str) else agreement.kind
    return user.can(MANAGE_KIND[kind])


# --- create and edit ------------------------------------------------------------------------

@transactional
def create(kind: str, values: dict[str, Any], user: User, token: str) -> Agreement:
    if user.org_unit_id is None:
        raise RegistryError(_l("Your account belongs to no unit; ask an administrator."))
    model = MODEL_OF_KIND[kind]
    now = utcnow()
    agreement = model(**values, org_unit_id=user.org_unit_id, status="draft",
                      created_at=now, updated_at=now, created_by_id=user.id)
    db.session.add(agreement)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise RegistryError(_l("The reference %(ref)s is already registered.",
                               ref=values.get("reference"))) from exc
    idempotency.spend(token, "Agreement", agreement.id)
    audit(f"{kind}.create", "Agreement", agreement.id,
          f"{kind.capitalize()} {agreement.reference} recorded",
          values, params={"reference": agreement.reference})
    return agreement


@transactional
def update(agreement: Agreement, values: dict[str, Any], expected_version: int,
           user: User) -> Agreement:
    check_version(agreement, expected_version)
    changes = {}
    for name, value in values.items():
        old = getattr(agreement, name)
        if old != value:
            changes[name] = [old, value]
            setattr(agreement, name, value)
    if not changes:
        return agreement
    basis = {name: change for name, change in changes.items() if name in DECISION_BASIS}
    if basis:
        _void_decisions(agreement, basis)
    if "decided_on" in changes and agreement.signed_copy_due_on is not None:
        # The copy is due counted from the award date: a corrected date moves the day.
        due = signed_copy.due_on(agreement)
        changes["signed_copy_due_on"] = [agreement.signed_copy_due_on, due]
        agreement.signed_copy_due_on = due
    agreement.updated_at = utcnow()
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise RegistryError(_l("The reference %(ref)s is already registered.",
                               ref=values.get("reference"))) from exc
    audit(f"{agreement.kind}.update", "Agreement", agreement.id,
          f"{agreement.reference} changed: {', '.join(changes)}", {"changes": changes},
          params={"reference": agreement.reference})
    return agreement


def decision_basis(agreement: Agreement) -> dict[str, Any]:
    """The values an exemption or a "no declaration required" is decided on."""
    return {name: getattr(agreement, name) for name in DECISION_BASIS}


def _void_decisions(agreement: Agreement, basis: dict[str, list[Any]]) -> None:
    """Values a decision rests on changed: an approved exemption is void (the record needs
    the clause and a declaration again), and the packages above void theirs."""
    if agreement.exemption_approved_at is not None:
        approver = agreement.exemption_approved_by_id
        agreement.exemption_approved_at = agreement.exemption_approved_by_id = None
        agreement.exemption_voided_at = utcnow()
        audit("agreement.exemption_void", "Agreement", agreement.id,
              f"Exemption of {agreement.reference} void: {', '.join(sorted(basis))} changed",
              {"changes": basis, "approved_by": approver,
               "decided_on": json.loads(agreement.exemption_basis or "{}")},
              params={"reference": agreement.reference})
    lifecycle.basis_changed(agreement, basis)


# --- lifecycle ------------------------------------------------------------------------------

@transactional
def change_status(agreement: Agreement, status: str, expected_version: int,
                  user: User, reason: str = "", on: date | None = None) -> Agreement:
    """Move the agreement on in its lifecycle; terminating or revoking needs a reason and
    the day it takes effect."""
    check_version(agreement, expected_version)
    allowed = STATUS_TRANSITIONS[agreement.kind].get(agreement.status, frozenset())
    if status not in allowed:
        raise RegistryError(_l("A record in status “%(old)s” cannot become “%(new)s”.",
                               old=status_label(agreement.status), new=status_label(status)))
    if status in ENDED_EARLY:
        if not reason.strip() or on is None:
            raise RegistryError(_l("Give the reason and the day it takes effect."))
        if agreement.decided_on is not None and on < agreement.decided_on:
            raise RegistryError(_l("It cannot take effect before the award date."))
        agreement.end_reason, agreement.ended_on = reason.strip(), on
    problems = lifecycle.award_blockers(agreement, status)
    if problems:
        raise RegistryError(_l("Not yet: %(problems)s", problems=" ".join(problems)))
    old = agreement.status
    agreement.status = status
    agreement.updated_at = utcnow()
    details: dict[str, Any] = {"from": old, "to": status}
    personal = {}
    if status in ENDED_EARLY:  # the reason may name people: kept apart, erasable
        details |= {"ended_on": agreement.ended_on}
        personal = {"reason": agreement.end_reason}
    if status in GUARDED_STATUSES and agreement.signed_copy_due_on is None:
        agreement.signed_copy_due_on = signed_copy.due_on(agreement)
        details["signed_copy_due_on"] = agreement.signed_copy_due_on
    audit(f"{agreement.kind}.status", "Agreement", agreement.id,
          f"{agreement.reference}: {old} → {status}", details, personal=personal,
          params={"reference": agreement.reference})
    return agreement


@transactional
def attach_clause(agreement: Agreement, method: str, language: str, expected_version: int,
                  user: User) -> Agreement:
    check_version(agreement, expected_version)
    if method not in CLAUSE_METHODS[agreement.kind]:
        raise RegistryError(_l("This way of attaching the clause does not fit the record."))
    version = clauses.current_version(CLAUSE_VARIANT[agreement.kind], language)
    if version is None:
        raise RegistryError(_l("No published clause version for this kind and language."))
    previous = agreement.clause_version
    agreement.clause_version = version
    agreement.clause_method = method
    agreement.clause_attached_at = utcnow()
    agreement.updated_at = agreement.clause_attached_at
    audit("agreement.clause_attach", "Agreement", agreement.id,
          f"Clause {version.variant} {version.version} ({version.language}) attached to "
          f"{agreement.reference} via {method}",
          {"clause_version_id": version.id, "sha256": version.sha256, "method": method,
           "previous": previous.id if previous else None},
          params={"reference": agreement.reference})
    return agreement


# --- exemptions and thresholds --------------------------------------------------------------

def exemption_reasons() -> list[str]:
    """Configured reasons; none configured means no exemptions: the clause goes with
    every award."""
    return [str(r) for r in current_app.config.get("EXEMPTION_REASONS", ()) if str(r).strip()]


@transactional
def request_exemption(agreement: Agreement, reason: str, note: str, expected_version: int,
                      user: User) -> Agreement:
    check_version(agreement, expected_version)
    if reason not in exemption_reasons():
        raise RegistryError(_l("This reason is not on the list of accepted exemption reasons."))
    if agreement.exemption_approved_at is not None:
        raise RegistryError(_l("An exemption is already approved."))
    agreement.exemption_reason = reason
    agreement.exemption_note = note
    agreement.exemption_requested_by_id = user.id
    agreement.updated_at = utcnow()
    audit("agreement.exemption_request", "Agreement", agreement.id,
          f"Exemption requested for {agreement.reference}: {reason}",
          {"reason": reason}, personal={"note": note},
          params={"reference": agreement.reference})
    return agreement


@transactional
def approve_exemption(agreement: Agreement, expected_version: int, user: User) -> Agreement:
    check_version(agreement, expected_version)
    if not agreement.exemption_reason or agreement.exemption_approved_at is not None:
        raise RegistryError(_l("There is no open exemption request."))
    if agreement.exemption_requested_by_id == user.id:
        raise RegistryError(_l("An exemption needs a second person: you requested it, "
                               "so someone else must approve it."))
    agreement.exemption_approved_by_id = user.id
    agreement.exemption_approved_at = utcnow()
    agreement.exemption_voided_at = None
    agreement.exemption_basis = json.dumps(decision_basis(agreement), default=str,
                                           sort_keys=True)
    agreement.updated_at = agreement.exemption_approved_at
    audit("agreement.exemption_approve", "Agreement", agreement.id,
          f"Exemption approved for {agreement.reference}: {agreement.exemption_reason}",
          {"reason": agreement.exemption_reason,
           "requested_by": agreement.exemption_requested_by_id,
           "basis": decision_basis(agreement)},
          params={"reference": agreement.reference})
    return agreement


def threshold_for(org_unit_id: int, kind: str) -> Decimal | None:
    return db.session.scalar(select(ValueThreshold.amount).where(
        ValueThreshold.org_unit_id == org_unit_id, ValueThreshold.kind == kind))


def thresholds() -> list[ValueThreshold]:
    return list(db.session.scalars(select(ValueThreshold).order_by(
        ValueThreshold.org_unit_id, ValueThreshold.kind)))


@transactional
def set_threshold(org_unit_id: int, kind: str, amount: Decimal | None) -> None:
    """Set (or with None remove) a unit's threshold for a kind."""
    row = db.session.scalar(select(ValueThreshold).where(
        ValueThreshold.org_unit_id == org_unit_id, ValueThreshold.kind == kind))
    old = row.amount if row else None
    if amount is None:
        if row:
            db.session.delete(row)
    elif row:
        row.amount, row.updated_at = amount, utcnow()
    else:
        db.session.add(ValueThreshold(org_unit_id=org_unit_id, kind=kind, amount=amount,
                                      updated_at=utcnow()))
    db.session.flush()
    audit("threshold.set", "OrgUnit", org_unit_id,
          f"Declaration threshold for {kind}: {old} → {amount}",
          {"kind": kind, "from": old, "to": amount})


# --- history and labels ---------------------------------------------------------------------

def status_label(status: str) -> str:

    return str(STATUS_LABELS.get(status, status))
