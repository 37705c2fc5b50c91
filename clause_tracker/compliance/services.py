"""Doing a check: outcome, findings, hearing, measures (four eyes), complaints. Each
operation owns its transaction and writes its audit event in it.

Who approves a measure: a person with MEASURES_APPROVE who is not its proposer — an
officer of the agreement's own unit who works on its kind (procurement officer for a
contract, grant manager for a grant), or an administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements.models import CONTRACT, GRANT, STATUS_TRANSITIONS, Agreement
from clause_tracker.audit.services import record as audit
from clause_tracker.audit.services import utcnow
from clause_tracker.auth.models import User
from clause_tracker.auth.permissions import Permission
from clause_tracker.compliance import models as m
from clause_tracker.compliance.settings import settings
from clause_tracker.compliance.sweep import roles_for
from clause_tracker.extensions import db
from clause_tracker.i18n import format_day
from clause_tracker.versioning import RefusedChange, check_version, commit

UPCOMING_DAYS = 30  # "Meine Fristen" shows checks due within this many days, too
# An approved measure of these kinds ends the agreement: the status it moves to.
ENDING_MEASURES = {"termination": "terminated", "revocation": "revoked"}


class CheckError(RefusedChange):
    pass


# --- reading --------------------------------------------------------------------------------

def _visible_checks(user: User) -> Select:
    stmt = select(m.ComplianceCheck).join(Agreement, Agreement.id == m.ComplianceCheck.agreement_id)
    if not user.can(Permission.ALL_UNITS):
        stmt = stmt.where(Agreement.org_unit_id == user.org_unit_id)
    return stmt


def get_visible(check_id: int, user: User) -> m.ComplianceCheck | None:
    return db.session.scalar(_visible_checks(user).where(m.ComplianceCheck.id == check_id))


def my_deadlines(user: User, today: date, limit: int = 300) -> list[m.ComplianceCheck]:
    """Open checks due now or within UPCOMING_DAYS: an officer's own and the unassigned ones
    of their unit and kind; everyone with all units in view sees all that are due."""
    check = m.ComplianceCheck
    stmt = _visible_checks(user).where(check.stage != m.DONE,
                                       check.due_on <= today + timedelta(days=UPCOMING_DAYS))
    kinds = [kind for kind in (CONTRACT, GRANT) if user.role in roles_for(kind)]
    if kinds:
        stmt = stmt.where(or_(check.assigned_to_id == user.id,
                              (check.assigned_to_id.is_(None)) & Agreement.kind.in_(kinds)))
    return list(db.session.scalars(stmt.order_by(check.deadline, check.id).limit(limit)))


def checks_of(agreement: Agreement) -> list[m.ComplianceCheck]:
    return list(db.session.scalars(select(m.ComplianceCheck).where(
        m.ComplianceCheck.agreement_id == agreement.id).order_by(m.ComplianceCheck.due_on.desc())))


def is_overdue(check: m.ComplianceCheck, today: date) -> bool:
    return check.stage != m.DONE and check.deadline < today


def may_work(user: User, check: m.ComplianceCheck) -> bool:
    return user.can(Permission.CHECKS_WORK) and agreements.may_work_on(user, check.agreement)


def may_approve(user: User, measure: m.Measure) -> bool:
    if not user.can(Permission.MEASURES_APPROVE) or user.id == measure.proposed_by_id:
        return False
    if user.can(Permission.ALL_UNITS):
        return True
    agreement = measure.check.agreement
    return user.org_unit_id == agreement.org_unit_id and agreements.may_work_on(user, agreement)


def _audit(check: m.ComplianceCheck, action: str, summary: str, details: dict) -> None:
    audit(f"compliance.{action}", "ComplianceCheck", check.id,
          f"{check.agreement.reference}: {summary}",
          {"agreement_id": check.agreement_id, **details})


# --- a check ---------------------------------------------------------------------------------

def assign(check: m.ComplianceCheck, user: User, expected_version: int) -> None:
    check_version(check, expected_version)
    old = check.assigned_to_id
    check.assigned_to_id = user.id
    _audit(check, "assign", f"check assigned to {user.username}", {"from": old, "to": user.id})
    commit()


def record_outcome(check: m.ComplianceCheck, outcome: str, note: str, findings: str,
                   user: User, expected_version: int, today: date) -> None:
    check_version(check, expected_version)
    if check.stage == m.DONE:
        raise CheckError(_l("The outcome of this check is already recorded."))
    if outcome not in m.OUTCOMES:
        raise CheckError(_l("Unknown outcome."))
    if outcome == m.FINDINGS and not findings.strip():
        raise CheckError(_l("Describe the findings."))
    old = check.stage
    check.outcome, check.outcome_note = outcome, note or None
    check.stage, check.completed_on, check.completed_by_id = m.DONE, today, user.id
    if outcome == m.FINDINGS:
        db.session.add(m.Finding(check=check, description=findings.strip(),
                                 recorded_at=utcnow(), recorded_by_id=user.id))
    _audit(check, "outcome", f"check done: {outcome}",
           {"from": old, "outcome": outcome, "note": note, "findings": findings.strip() or None})
    commit()


def record_hearing(check: m.ComplianceCheck, held_on: date, summary: str, user: User,
                   today: date) -> m.Hearing:
    if held_on > today:
        raise CheckError(_l("A hearing is recorded once it has taken place."))
    if not summary.strip():
        raise CheckError(_l("Summarise the hearing."))
    hearing = m.Hearing(check=check, held_on=held_on, summary=summary.strip(),
                        recorded_at=utcnow(), recorded_by_id=user.id)
    db.session.add(hearing)
    db.session.flush()
    _audit(check, "hearing", f"hearing held on {held_on}", {"held_on": str(held_on)})
    commit()
    return hearing


# --- measures --------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeasureInput:
    kind: str
    description: str
    deadline: date | None = None
    breaches: int | None = None
    exclusion_until: date | None = None


def penalty_used(agreement: Agreement, excluding: int | None = None) -> Decimal:
    """Percent of the contract value already imposed (approved) or proposed."""
    stmt = (select(func.coalesce(func.sum(m.Measure.penalty_percent), 0))
            .join(m.ComplianceCheck, m.ComplianceCheck.id == m.Measure.check_id)
            .where(m.ComplianceCheck.agreement_id == agreement.id, m.Measure.kind == "penalty",
                   m.Measure.state.in_(m.OPEN_MEASURE_STATES)))
    if excluding is not None:
        stmt = stmt.where(m.Measure.id != excluding)
    return Decimal(str(db.session.scalar(stmt) or 0))


def propose_measure(check: m.ComplianceCheck, data: MeasureInput, user: User,
                    today: date) -> m.Measure:
    cfg = settings()
    agreement = check.agreement
    if check.outcome != m.FINDINGS:
        raise CheckError(_l("A measure follows only from a check with findings."))
    if not any(h.held_on <= today for h in check.hearings):
        raise CheckError(_l("Before any measure the contractor or grantee must be heard: "
                            "record the hearing first."))
    if data.kind not in m.MEASURE_KINDS:
        raise CheckError(_l("Unknown measure."))
    if data.kind == "termination" and agreement.kind != CONTRACT:
        raise CheckError(_l("Termination applies to contracts; a grant is revoked."))
    if data.kind == "revocation" and agreement.kind != GRANT:
        raise CheckError(_l("Revocation applies to grants; a contract is terminated."))
    if not data.description.strip():
        raise CheckError(_l("Describe the measure."))
    # Validated first, built last: a refused proposal leaves nothing in the session.
    measure = m.Measure(kind=data.kind, description=data.description.strip(),
                        proposed_by_id=user.id, proposed_at=utcnow())
    if data.kind == "action_plan":
        if data.deadline is None or data.deadline <= today:
            raise CheckError(_l("An action plan needs a deadline in the future."))
        measure.deadline = data.deadline
    elif data.kind == "penalty":
        if agreement.kind != CONTRACT or agreement.value is None:
            raise CheckError(_l("A contractual penalty needs a contract with its value."))
        if not data.breaches or data.breaches < 1:
            raise CheckError(_l("State the number of breaches."))
        room = cfg.penalty_cap - penalty_used(agreement)
        if room <= 0:
            raise CheckError(_l("The penalties for this contract have reached the cap of "
                                "%(cap)s %%.", cap=cfg.penalty_cap))
        percent = min(cfg.penalty_per_breach * data.breaches, room)
        measure.breaches, measure.penalty_percent = data.breaches, percent
        measure.penalty_amount = (agreement.value * percent / 100).quantize(
            Decimal("0.01"), ROUND_HALF_UP)
    elif data.kind == "exclusion":
        # Calendar years: from 29 February the last day is 28 February, or 29 February
        # again when the end falls in a leap year.
        latest = today + relativedelta(years=cfg.exclusion_max_years)
        if data.exclusion_until is None or not today < data.exclusion_until <= latest:
            raise CheckError(_l("An exclusion from awards ends after today and no later than "
                                "%(latest)s (%(years)d years, § 126 GWB).",
                                latest=format_day(latest), years=cfg.exclusion_max_years))
        measure.exclusion_until = data.exclusion_until
    measure.check = check
    db.session.add(measure)
    db.session.flush()
    _audit(check, "measure.propose", f"measure proposed: {data.kind}",
           {"measure_id": measure.id, "kind": data.kind, "deadline": data.deadline,
            "penalty_percent": measure.penalty_percent, "penalty_amount": measure.penalty_amount,
            "exclusion_until": measure.exclusion_until})
    commit()
    return measure


def decide_measure(measure: m.Measure, approve: bool, note: str, user: User,
                   expected_version: int) -> None:
    check_version(measure, expected_version)
    if measure.state != m.PROPOSED:
        raise CheckError(_l("This measure was already decided."))
    if user.id == measure.proposed_by_id:
        raise CheckError(_l("A measure needs a second person: you proposed it, so someone "
                            "else must decide."))
    if not may_approve(user, measure):
        raise CheckError(_l("You may not decide on measures of this unit."))
    agreement = measure.check.agreement
    ends_as = ENDING_MEASURES.get(measure.kind) if approve else None
    # Refused before anything changes: the lifecycle rules of the agreement decide whether
    # it can still be terminated or revoked (an ended one, for instance, cannot).
    if ends_as and ends_as not in STATUS_TRANSITIONS[agreement.kind].get(agreement.status, ()):
        raise CheckError(_l("A record in status “%(old)s” cannot become “%(new)s”.",
                            old=agreements.status_label(agreement.status),
                            new=agreements.status_label(ends_as)))
    measure.state = m.APPROVED if approve else m.REJECTED
    measure.decided_by_id, measure.decided_at = user.id, utcnow()
    measure.decision_note = note or None
    _audit(measure.check, f"measure.{measure.state}", f"measure {measure.kind} {measure.state}",
           {"measure_id": measure.id, "proposed_by": measure.proposed_by_id, "note": note})
    if ends_as:
        # Through the agreements service (its own audit event and lifecycle check); it
        # commits the approval and the status change together, in one transaction.
        agreements.change_status(agreement, ends_as, agreement.version_id, user)
        return
    commit()


# --- complaints ------------------------------------------------------------------------------

def record_complaint(agreement: Agreement, case_reference: str, received_on: date,
                     user: User, today: date) -> m.ComplianceCheck:
    """A complaint known only by the anti-discrimination office's case reference opens an
    ad-hoc check (which, like every check, needs a hearing before any measure)."""
    case_reference = case_reference.strip()
    if db.session.scalar(select(m.Complaint.id).where(
            m.Complaint.agreement_id == agreement.id,
            m.Complaint.case_reference == case_reference)):
        raise CheckError(_l("This case reference is already linked to this record."))
    if received_on > today:
        raise CheckError(_l("The date of receipt cannot lie in the future."))
    now = utcnow()
    check = m.ComplianceCheck(
        agreement=agreement, trigger=m.COMPLAINT, occasion=f"complaint:{case_reference}"[:80],
        due_on=today, deadline=today + timedelta(days=settings().grace_days),
        stage=m.DUE, assigned_to_id=user.id, created_at=now)
    db.session.add(check)
    db.session.flush()
    complaint = m.Complaint(agreement_id=agreement.id, case_reference=case_reference,
                            received_on=received_on, check_id=check.id, recorded_at=now,
                            recorded_by_id=user.id)
    db.session.add(complaint)
    db.session.flush()
    _audit(check, "complaint", f"complaint {case_reference} linked; ad-hoc check opened",
           {"complaint_id": complaint.id, "case_reference": case_reference,
            "received_on": str(received_on)})
    commit()
    return check


def complaints_of(check: m.ComplianceCheck) -> list[m.Complaint]:
    return list(db.session.scalars(select(m.Complaint).where(m.Complaint.check_id == check.id)))
