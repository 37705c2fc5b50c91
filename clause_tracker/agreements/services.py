"""Operations on contracts and grants; each owns its transaction and writes its audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from clause_tracker import idempotency
from clause_tracker.agreements.models import (
    CLAUSE_METHODS,
    CONTRACT,
    GRANT,
    GUARDED_STATUSES,
    MODEL_OF_KIND,
    STATUS_TRANSITIONS,
    Agreement,
    ValueThreshold,
)
from clause_tracker.audit.services import record as audit
from clause_tracker.audit.services import utcnow
from clause_tracker.auth.models import User
from clause_tracker.auth.permissions import Permission
from clause_tracker.clauses import services as clauses
from clause_tracker.declarations.lifecycle import VALID_STATES
from clause_tracker.declarations.models import MAIN, Declaration
from clause_tracker.extensions import db
from clause_tracker.versioning import (
    CONFLICT_MESSAGE,
    EditConflict,
    RefusedChange,
    check_version,
    commit,
)

CLAUSE_VARIANT = {CONTRACT: "procurement", GRANT: "grant"}
MANAGE = {CONTRACT: Permission.CONTRACTS_MANAGE, GRANT: Permission.GRANTS_MANAGE}


RegistryError = RefusedChange  # the registry's refusals, EditConflict among them


# --- who sees and works on what -------------------------------------------------------------

def visible(user: User) -> Select:
    """Agreements the user may see: their own unit's, or all for auditors and admins."""
    stmt = select(Agreement)
    if not user.can(Permission.ALL_UNITS):
        stmt = stmt.where(Agreement.org_unit_id == user.org_unit_id)
    return stmt


def get_visible(agreement_id: int, user: User) -> Agreement | None:
    return db.session.scalar(visible(user).where(Agreement.id == agreement_id))


def may_work_on(user: User, agreement: Agreement | str) -> bool:
    """Procurement officers handle contracts, grant managers grants (visibility checked before)."""
    kind = agreement if isinstance(agreement, str) else agreement.kind
    return user.can(MANAGE[kind])


# --- create and edit ------------------------------------------------------------------------

def _plain(value: object) -> object:
    if isinstance(value, Decimal | date):
        return str(value)
    return value


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
        db.session.rollback()
        raise RegistryError(_l("The reference %(ref)s is already registered.",
                               ref=values.get("reference"))) from exc
    idempotency.claim(token, "Agreement", agreement.id)
    audit(f"{kind}.create", "Agreement", agreement.id,
          f"{kind.capitalize()} {agreement.reference} recorded",
          {k: _plain(v) for k, v in values.items()})
    commit()
    return agreement


def update(agreement: Agreement, values: dict[str, Any], expected_version: int,
           user: User) -> Agreement:
    check_version(agreement, expected_version)
    changes = {}
    for name, value in values.items():
        old = getattr(agreement, name)
        if old != value:
            changes[name] = [_plain(old), _plain(value)]
            setattr(agreement, name, value)
    if not changes:
        return agreement
    agreement.updated_at = utcnow()
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise RegistryError(_l("The reference %(ref)s is already registered.",
                               ref=values.get("reference"))) from exc
    except StaleDataError as exc:
        db.session.rollback()
        raise EditConflict(CONFLICT_MESSAGE) from exc
    audit(f"{agreement.kind}.update", "Agreement", agreement.id,
          f"{agreement.reference} changed: {', '.join(changes)}", {"changes": changes})
    commit()
    return agreement


# --- lifecycle ------------------------------------------------------------------------------

def main_declaration(agreement: Agreement) -> Declaration | None:
    return db.session.scalar(
        select(Declaration).where(Declaration.agreement_id == agreement.id,
                                  Declaration.party == MAIN,
                                  Declaration.state != "superseded")
        .order_by(Declaration.id.desc()).limit(1))


def award_blockers(agreement: Agreement, status: str, on: date | None = None) -> list[str]:
    """Why the agreement may not enter `status` yet (empty: it may)."""
    if status not in GUARDED_STATUSES:
        return []
    day = on or utcnow().date()
    problems = []
    if agreement.counterparty_id is None:
        problems.append(str(_l("Name the contractor or grantee.")))
    exempt = agreement.exemption_approved_at is not None
    if agreement.clause_version_id is None and not exempt:
        problems.append(str(_l("Attach the clause (or have an exemption approved).")))
    if not exempt:
        decl = main_declaration(agreement)
        ok = decl is not None and (
            (decl.state in VALID_STATES and (decl.valid_until is None or decl.valid_until >= day))
            or decl.state in ("received", "not_required")
            or (decl.state == "requested" and decl.deadline is not None and decl.deadline >= day)
        )
        if not ok:
            problems.append(str(_l("A declaration must be accepted, or requested with a "
                                   "deadline that has not passed.")))
    return problems


def change_status(agreement: Agreement, status: str, expected_version: int,
                  user: User) -> Agreement:
    check_version(agreement, expected_version)
    allowed = STATUS_TRANSITIONS[agreement.kind].get(agreement.status, frozenset())
    if status not in allowed:
        raise RegistryError(_l("A record in status “%(old)s” cannot become “%(new)s”.",
                               old=status_label(agreement.status), new=status_label(status)))
    problems = award_blockers(agreement, status)
    if problems:
        raise RegistryError(_l("Not yet: %(problems)s", problems=" ".join(problems)))
    old = agreement.status
    agreement.status = status
    agreement.updated_at = utcnow()
    audit(f"{agreement.kind}.status", "Agreement", agreement.id,
          f"{agreement.reference}: {old} → {status}", {"from": old, "to": status})
    commit()
    return agreement


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
           "previous": previous.id if previous else None})
    commit()
    return agreement


# --- exemptions and thresholds --------------------------------------------------------------

def exemption_reasons() -> list[str]:
    """Configured reasons; none configured means no exemptions (the plan says "every")."""
    return [str(r) for r in current_app.config.get("EXEMPTION_REASONS", ()) if str(r).strip()]


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
          {"reason": reason, "note": note})
    commit()
    return agreement


def approve_exemption(agreement: Agreement, expected_version: int, user: User) -> Agreement:
    check_version(agreement, expected_version)
    if not agreement.exemption_reason or agreement.exemption_approved_at is not None:
        raise RegistryError(_l("There is no open exemption request."))
    if agreement.exemption_requested_by_id == user.id:
        raise RegistryError(_l("An exemption needs a second person: you requested it, "
                               "so someone else must approve it."))
    agreement.exemption_approved_by_id = user.id
    agreement.exemption_approved_at = utcnow()
    agreement.updated_at = agreement.exemption_approved_at
    audit("agreement.exemption_approve", "Agreement", agreement.id,
          f"Exemption approved for {agreement.reference}: {agreement.exemption_reason}",
          {"reason": agreement.exemption_reason,
           "requested_by": agreement.exemption_requested_by_id})
    commit()
    return agreement


def threshold_for(org_unit_id: int, kind: str) -> Decimal | None:
    return db.session.scalar(select(ValueThreshold.amount).where(
        ValueThreshold.org_unit_id == org_unit_id, ValueThreshold.kind == kind))


def thresholds() -> list[ValueThreshold]:
    return list(db.session.scalars(select(ValueThreshold).order_by(
        ValueThreshold.org_unit_id, ValueThreshold.kind)))


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
          {"kind": kind, "from": _plain(old), "to": _plain(amount)})
    db.session.commit()


# --- history and labels ---------------------------------------------------------------------

@dataclass(frozen=True)
class RelatedIds:
    declarations: list[int]
    documents: list[int]


def related_ids(agreement: Agreement) -> RelatedIds:
    from clause_tracker.documents.web.models import DocumentRecord

    decls = db.session.scalars(select(Declaration.id).where(
        Declaration.agreement_id == agreement.id))
    docs = db.session.scalars(select(DocumentRecord.id).where(
        DocumentRecord.agreement_id == agreement.id))
    return RelatedIds(list(decls), list(docs))


def history(agreement: Agreement) -> list:
    """The record's audit events and those of its declarations and documents, oldest first."""
    from sqlalchemy import and_, or_

    from clause_tracker.audit.models import AuditEvent

    ids = related_ids(agreement)
    clauses_ = [and_(AuditEvent.object_type == "Agreement",
                     AuditEvent.object_id == str(agreement.id))]
    if ids.declarations:
        clauses_.append(and_(AuditEvent.object_type == "Declaration",
                             AuditEvent.object_id.in_([str(i) for i in ids.declarations])))
    if ids.documents:
        clauses_.append(and_(AuditEvent.object_type == "DocumentRecord",
                             AuditEvent.object_id.in_([str(i) for i in ids.documents])))
    return list(db.session.scalars(select(AuditEvent).where(or_(*clauses_))
                                   .order_by(AuditEvent.id)))


def status_label(status: str) -> str:
    from clause_tracker.agreements.labels import STATUS_LABELS

    return str(STATUS_LABELS.get(status, status))
