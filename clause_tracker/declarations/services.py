"""Declarations and self-commitments: every state change goes through the transition table
(lifecycle.TRANSITIONS) and is audited in its own transaction."""

from __future__ import annotations

import json
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, update

from clause_tracker import idempotency
from clause_tracker.agreements import services as agreements
from clause_tracker.agreements.models import CONTRACT, GRANT, Agreement
from clause_tracker.agreements.services import RegistryError, decision_basis
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import record as audit
from clause_tracker.auth.models import User
from clause_tracker.auth.visibility import in_view
from clause_tracker.clock import utcnow
from clause_tracker.declarations.evidence import Evidence
from clause_tracker.declarations.lifecycle import target
from clause_tracker.declarations.models import (
    MAIN,
    MAX_SCORE,
    SUBCONTRACTOR,
    Declaration,
    SelfCommitment,
)
from clause_tracker.erasure import ERASED
from clause_tracker.extensions import db
from clause_tracker.transaction import transactional
from clause_tracker.versioning import check_version
from clause_tracker.workdays import DEFAULT_DECLARATION_DAYS, add_working_days


def visible(user: User) -> Select:
    """Declarations of the agreements the user sees (the one visibility rule)."""
    return select(Declaration).join(Agreement, Agreement.id == Declaration.agreement_id) \
        .where(in_view(user, Agreement.org_unit_id))


def for_agreement(agreement: Agreement) -> list[Declaration]:
    return list(db.session.scalars(select(Declaration).where(
        Declaration.agreement_id == agreement.id).order_by(Declaration.id)))


def get(declaration_id: int) -> Declaration | None:
    return db.session.get(Declaration, declaration_id)


def _audit(decl: Declaration, action: str, old: str | None, summary: str,
           details: dict | None = None, personal: dict | None = None) -> None:
    """`personal`: who signed, notes, file names — kept out of the chained content so
    retention can erase them with the agreement."""
    audit(f"declaration.{action}", "Declaration", decl.id,
          f"{decl.agreement.reference}: {summary}",
          {"agreement_id": decl.agreement_id, "party": decl.party, "from": old,
           "to": decl.state, **(details or {})}, personal=personal,
          subject=f"Agreement:{decl.agreement_id}",
          params={"reference": decl.agreement.reference})


def main_declaration(agreement: Agreement) -> Declaration | None:
    """The current declaration of the contractor or grantee (not a subcontractor's)."""
    return db.session.scalar(
        select(Declaration).where(Declaration.agreement_id == agreement.id,
                                  Declaration.party == MAIN,
                                  Declaration.state != "superseded")
        .order_by(Declaration.id.desc()).limit(1))


def award_blockers(agreement: Agreement, day: date) -> list[str]:
    """The award guard (agreements.lifecycle): unless exempt, the main declaration must be
    accepted and valid, received, not required, or requested with a deadline to come."""
    if agreement.exemption_approved_at is not None:
        return []
    decl = main_declaration(agreement)
    ok = decl is not None and (
        decl.is_valid_on(day)
        or decl.state in ("received", "not_required")
        or (decl.state == "requested" and decl.deadline is not None and decl.deadline >= day)
    )
    if ok:
        return []
    return [str(_l("A declaration must be accepted, or requested with a deadline that has "
                   "not passed."))]


@transactional
def request(agreement: Agreement, party: str, party_name: str, requested_on: date,
            working_days: int, user: User, token: str) -> Declaration:
    """Ask the best bidder (or a subcontractor) for the declaration, with a deadline in
    working days."""
    if party == SUBCONTRACTOR and agreement.kind != CONTRACT:
        raise RegistryError(_l("Subcontractor declarations belong to contracts only; "
                               "grantees are never asked to vet their partners."))
    if party == MAIN:
        if main_declaration(agreement) is not None:
            raise RegistryError(_l("There is already a declaration of the contractor or "
                                   "grantee; continue with that one."))
        party_name = party_name or (agreement.counterparty.name if agreement.counterparty
                                    else "")
    if not party_name:
        raise RegistryError(_l("Name who is to sign the declaration."))
    now = utcnow()
    decl = Declaration(
        agreement=agreement, party=party, party_name=party_name, state="requested",
        clause_version_id=agreement.clause_version_id, requested_on=requested_on,
        working_days=working_days, deadline=add_working_days(requested_on, working_days),
        created_at=now, updated_at=now, created_by_id=user.id,
    )
    db.session.add(decl)
    db.session.flush()
    idempotency.spend(token, "Declaration", decl.id)
    _audit(decl, "request", None,
           f"declaration requested from {party_name}, deadline {decl.deadline}",
           {"deadline": str(decl.deadline), "working_days": working_days})
    return decl


@transactional
def not_required(agreement: Agreement, reason: str, user: User) -> Declaration:
    """Record that no declaration is needed: below the unit's threshold, or exempt."""
    if main_declaration(agreement) is not None:
        raise RegistryError(_l("There is already a declaration of the contractor or grantee."))
    if reason == "below_threshold":
        limit = agreements.threshold_for(agreement.org_unit_id, agreement.kind)
        if limit is None or agreement.value is None or agreement.value >= limit:
            raise RegistryError(_l("The value is not below a threshold set for this unit."))
    elif reason == "exempt":
        if agreement.exemption_approved_at is None:
            raise RegistryError(_l("No exemption has been approved for this record."))
    else:
        raise RegistryError(_l("Unknown reason."))
    now = utcnow()
    basis = decision_basis(agreement)
    decl = Declaration(agreement=agreement, party=MAIN,
                       party_name=agreement.counterparty.name if agreement.counterparty else "",
                       state="not_required", not_required_reason=reason,
                       decided_basis=json.dumps(basis, default=str, sort_keys=True),
                       created_at=now, updated_at=now, created_by_id=user.id)
    db.session.add(decl)
    db.session.flush()
    _audit(decl, "not_required", None, f"no declaration required: {reason}",
           {"reason": reason, "basis": basis})
    return decl


def void_not_required(agreement: Agreement, changes: dict[str, list[object]]) -> None:
    """The values a "no declaration required" was decided on changed: it is void, and the
    agreement needs a declaration again (basis listener, agreements.lifecycle)."""
    decl = main_declaration(agreement)
    if decl is None or decl.state != "not_required":
        return
    old = decl.state
    decl.state = target(old, "void")
    decl.note = "; ".join(sorted(changes))
    decl.updated_at = utcnow()
    _audit(decl, "void", old, "no declaration required: void, the values it was decided on "
           f"changed ({', '.join(sorted(changes))})", {"changes": changes})


@transactional
def receive(decl: Declaration, *, signer_name: str, signer_function: str, signed_on: date,
            received_on: date, channel: str, valid_until: date | None,
            evidence: Evidence | None, expected_version: int, user: User) -> Declaration:
    check_version(decl, expected_version)
    old = decl.state
    decl.state = target(old, "receive")
    decl.signer_name, decl.signer_function = signer_name, signer_function
    decl.signed_on, decl.received_on, decl.channel = signed_on, received_on, channel
    decl.valid_until = valid_until
    if evidence is not None:
        decl.evidence_key, decl.evidence_sha256 = evidence.key, evidence.sha256
        decl.evidence_mimetype, decl.evidence_size = evidence.mimetype, evidence.size
        decl.evidence_filename = evidence.filename
    decl.updated_at = utcnow()
    _audit(decl, "receive", old, "declaration received",
           {"signed_on": str(signed_on), "received_on": str(received_on), "channel": channel,
            "valid_until": str(valid_until) if valid_until else None,
            "evidence_sha256": decl.evidence_sha256},
           {"signer_name": signer_name, "signer_function": signer_function,
            "evidence_file": decl.evidence_filename})
    return decl


@transactional
def transition(decl: Declaration, action: str, note: str, expected_version: int,
               user: User, on: date | None = None) -> Declaration:
    """Every other step of the lifecycle; `request` here means "request again"."""
    check_version(decl, expected_version)
    if action in ("receive",):
        raise RegistryError(_l("Recording a receipt needs its own form."))
    old = decl.state
    new = target(old, action, by_hand=True)
    details: dict[str, object] = {}
    if action == "accept" and not decl.evidence_key:
        raise RegistryError(_l("A declaration can be accepted only with its evidence file."))
    if action == "request":
        # A fresh request: the earlier receipt stays in the audit trail (and its file in
        # the store), the row starts over with a new deadline.
        day = on or utcnow().date()
        days = decl.working_days or DEFAULT_DECLARATION_DAYS
        details |= {"previous_evidence_sha256": decl.evidence_sha256,
                    "previous_signed_on": str(decl.signed_on) if decl.signed_on else None}
        decl.requested_on, decl.deadline = day, add_working_days(day, days)
        decl.clause_version_id = decl.agreement.clause_version_id
        for name in ("signer_name", "signer_function", "signed_on", "received_on", "channel",
                     "valid_until", "evidence_key", "evidence_sha256", "evidence_mimetype",
                     "evidence_size", "evidence_filename"):
            setattr(decl, name, None)
        details["deadline"] = str(decl.deadline)
    decl.state = new
    decl.note = note or decl.note
    decl.updated_at = utcnow()
    _audit(decl, action, old, f"declaration {old} → {new}", details, {"note": note})
    return decl


# --- self-commitment (grants only; never a condition) ---------------------------------------

def commitment_of(agreement: Agreement) -> SelfCommitment | None:
    return db.session.scalar(select(SelfCommitment).where(
        SelfCommitment.agreement_id == agreement.id))


@transactional
def record_commitment(agreement: Agreement, score: int, notes: str,
                      user: User) -> SelfCommitment:
    if agreement.kind != GRANT:
        raise RegistryError(_l("A voluntary self-commitment belongs to grants only."))
    if not 0 <= score <= MAX_SCORE:
        raise RegistryError(_l("The score lies between 0 and %(max)d.", max=MAX_SCORE))
    row = commitment_of(agreement)
    old = (row.score, row.notes) if row else None
    if row is None:
        row = SelfCommitment(agreement=agreement, score=score, notes=notes,
                             recorded_at=utcnow(), recorded_by_id=user.id)
        db.session.add(row)
    else:
        row.score, row.notes = score, notes
        row.recorded_at, row.recorded_by_id = utcnow(), user.id
    db.session.flush()
    audit("grant.self_commitment", "Agreement", agreement.id,
          f"{agreement.reference}: voluntary self-commitment scored {score}/{MAX_SCORE} "
          "(quality criterion)", {"score": score, "previous": old}, personal={"notes": notes},
          params={"reference": agreement.reference, "max": MAX_SCORE})
    return row


# --- retention ---------------------------------------------------------------------------------

EVIDENCE_KEYS_IN_EVENTS = ("evidence_sha256", "previous_evidence_sha256")


def _earlier_evidence(declaration_ids: list[int]) -> set[str]:
    """Every evidence file the declarations ever named — a receipt requested again or
    replaced leaves its file in the store, named only by the audit trail (storage keys are
    the files' SHA-256)."""
    keys: set[str] = set()
    if not declaration_ids:
        return keys
    for details in db.session.scalars(select(AuditEvent.details).where(
            AuditEvent.object_type == "Declaration",
            AuditEvent.object_id.in_([str(i) for i in declaration_ids]))):
        found = json.loads(details or "{}")
        keys |= {found[name] for name in EVIDENCE_KEYS_IN_EVENTS
                 if isinstance(found.get(name), str) and found[name]}
    return keys


def erase_personal_data(agreement_id: int) -> tuple[int, set[str]]:
    """Erase who signed, the notes and the evidence of the agreement's declarations, and the
    notes of its self-commitment (the states, dates and scores stay for the figures). Returns
    the rows changed and every evidence file they named, earlier ones included (the caller
    deletes those no other record names, after commit)."""
    ids = list(db.session.scalars(select(Declaration.id).where(
        Declaration.agreement_id == agreement_id)))
    keys = {key for key in db.session.scalars(select(Declaration.evidence_key).where(
        Declaration.agreement_id == agreement_id)) if key}
    keys |= _earlier_evidence(ids)
    rows = db.session.execute(
        update(Declaration).where(Declaration.agreement_id == agreement_id)
        .values(signer_name=None, signer_function=None, note=None, evidence_key=None,
                evidence_filename=None, version_id=Declaration.version_id + 1)
    ).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
    db.session.execute(update(SelfCommitment).where(SelfCommitment.agreement_id == agreement_id,
                                                    SelfCommitment.notes != "")
                       .values(notes=ERASED))
    return rows or 0, keys


def files_named(keys: set[str]) -> set[str]:
    """Of the stored files `keys`, those a declaration names as its evidence."""
    if not keys:
        return set()
    return {key for key in db.session.scalars(select(Declaration.evidence_key)
                                              .where(Declaration.evidence_key.in_(keys))) if key}
