"""Doing a check: outcome, findings, hearing, measures (four eyes), complaints. Each
operation owns its transaction and writes its audit event in it.

Who approves a measure: a person with MEASURES_APPROVE who is not its proposer — an
officer of the agreement's own unit who works on its kind (procurement officer for a
contract, grant manager for a grant), or an administrator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, cast, func, literal, or_, select, update

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements.models import CONTRACT, GRANT, STATUS_TRANSITIONS, Agreement
from clause_tracker.audit.services import record as audit
from clause_tracker.auth.models import User
from clause_tracker.auth.visibility import in_view
from clause_tracker.checks.models import (
    APPROVED,
    BREACH,
    BREACH_CONFIRMED,
    COMPLAINT,
    DECISIONS,
    DONE,
    DUE,
    FINDINGS,
    FINDINGS_RECORDED,
    HEARD,
    LATE,
    MEASURE_KINDS,
    NO_BREACH,
    NOT_DONE,
    ON_TIME,
    OPEN_MEASURE_STATES,
    OPEN_STAGES,
    OUTCOMES,
    PROPOSED,
    REJECTED,
    Complaint,
    ComplianceCheck,
    Finding,
    Hearing,
    Measure,
)
from clause_tracker.checks.settings import settings
from clause_tracker.clock import utcnow
from clause_tracker.erasure import ERASED
from clause_tracker.extensions import db
from clause_tracker.i18n import format_day, format_percent
from clause_tracker.permissions import Permission, roles_for
from clause_tracker.transaction import transactional
from clause_tracker.versioning import RefusedChange, check_version

UPCOMING_DAYS = 30  # "Meine Fristen" shows checks due within this many days, too
# An approved measure of these kinds ends the agreement: the status it moves to.
ENDING_MEASURES = {"termination": "terminated", "revocation": "revoked"}


class CheckError(RefusedChange):
    pass


# --- reading --------------------------------------------------------------------------------

def _visible_checks(user: User) -> Select:
    return (select(ComplianceCheck)
            .join(Agreement, Agreement.id == ComplianceCheck.agreement_id)
            .where(in_view(user, Agreement.org_unit_id)))


def visible(user: User) -> Select:
    """Checks of the agreements the user sees."""
    return _visible_checks(user)


def get_visible(check_id: int, user: User) -> ComplianceCheck | None:
    return db.session.scalar(_visible_checks(user).where(ComplianceCheck.id == check_id))


def my_deadlines(user: User, today: date, limit: int = 300) -> list[ComplianceCheck]:
    """Open checks due now or within UPCOMING_DAYS: an officer's own and the unassigned ones
    of their unit and kind; everyone with all units in view sees all that are due."""
    check = ComplianceCheck
    stmt = _visible_checks(user).where(check.stage.not_in((DONE, BREACH)),
                                       check.due_on <= today + timedelta(days=UPCOMING_DAYS))
    kinds = [kind for kind in (CONTRACT, GRANT) if user.role in roles_for(kind)]
    if kinds:
        stmt = stmt.where(or_(check.assigned_to_id == user.id,
                              (check.assigned_to_id.is_(None)) & Agreement.kind.in_(kinds)))
    return list(db.session.scalars(stmt.order_by(check.deadline, check.id).limit(limit)))


def checks_of(agreement: Agreement) -> list[ComplianceCheck]:
    return list(db.session.scalars(select(ComplianceCheck).where(
        ComplianceCheck.agreement_id == agreement.id).order_by(ComplianceCheck.due_on.desc())))


def may_work(user: User, check: ComplianceCheck) -> bool:
    return user.can(Permission.CHECKS_WORK) and agreements.may_work_on(user, check.agreement)


def may_approve(user: User, measure: Measure) -> bool:
    if not user.can(Permission.MEASURES_APPROVE) or user.id == measure.proposed_by_id:
        return False
    if user.can(Permission.ALL_UNITS):
        return True
    agreement = measure.check.agreement
    return user.org_unit_id == agreement.org_unit_id and agreements.may_work_on(user, agreement)


def _audit(check: ComplianceCheck, action: str, summary: str, details: dict,
           personal: dict | None = None) -> None:
    """`personal`: texts that may name people (notes, findings, the case reference), kept
    out of the chained content so retention can erase them with the agreement."""
    audit(f"compliance.{action}", "ComplianceCheck", check.id,
          f"{check.agreement.reference}: {summary}",
          {"agreement_id": check.agreement_id, **details}, personal=personal,
          subject=f"Agreement:{check.agreement_id}",
          params={"reference": check.agreement.reference})


# --- a check ---------------------------------------------------------------------------------

@transactional
def assign(check: ComplianceCheck, user: User, expected_version: int | None) -> None:
    check_version(check, expected_version)
    old = check.assigned_to_id
    check.assigned_to_id = user.id
    _audit(check, "assign", f"check assigned to {user.username}", {"from": old, "to": user.id})


@transactional
def record_outcome(check: ComplianceCheck, outcome: str, note: str, findings: str,
                   user: User, expected_version: int | None, today: date) -> None:
    check_version(check, expected_version)
    if check.stage not in OPEN_STAGES:
        raise CheckError(_l("The outcome of this check is already recorded."))
    if outcome not in OUTCOMES:
        raise CheckError(_l("Unknown outcome."))
    if outcome == FINDINGS and not findings.strip():
        raise CheckError(_l("Describe the findings."))
    old = check.stage
    check.outcome, check.outcome_note = outcome, note or None
    # Findings keep the check going: the counterparty is heard before anything is decided.
    check.stage = FINDINGS_RECORDED if outcome == FINDINGS else DONE
    check.completed_on, check.completed_by_id = today, user.id
    if outcome == FINDINGS:
        db.session.add(Finding(check=check, description=findings.strip(),
                                 recorded_at=utcnow(), recorded_by_id=user.id))
    _audit(check, "outcome", f"check done: {outcome}",
           {"from": old, "outcome": outcome},
           {"note": note, "findings": findings.strip() or None})


@transactional
def record_hearing(check: ComplianceCheck, held_on: date, summary: str, user: User,
                   today: date, statement: str = "") -> Hearing:
    if held_on > today:
        raise CheckError(_l("A hearing is recorded once it has taken place."))
    if not summary.strip():
        raise CheckError(_l("Summarise the hearing."))
    hearing = Hearing(check=check, held_on=held_on, summary=summary.strip(),
                      statement=statement.strip() or None,
                      recorded_at=utcnow(), recorded_by_id=user.id)
    db.session.add(hearing)
    old = check.stage
    if check.stage == FINDINGS_RECORDED:
        check.stage = HEARD
    db.session.flush()
    _audit(check, "hearing", f"hearing held on {held_on}",
           {"held_on": str(held_on), "from": old, "to": check.stage,
            "statement": bool(hearing.statement)})
    return hearing


@transactional
def decide_breach(check: ComplianceCheck, decision: str, note: str, user: User,
                  expected_version: int | None, today: date) -> None:
    """After the hearing: no breach (the check is done) or breach confirmed (the agreement is
    non-compliant until the measures decided on it have run their course)."""
    check_version(check, expected_version)
    if decision not in DECISIONS:
        raise CheckError(_l("Choose whether the clause was breached."))
    if check.stage == FINDINGS_RECORDED:
        raise CheckError(_l("Before the decision the contractor or grantee must be heard: "
                            "record the hearing first."))
    if check.stage != HEARD:
        raise CheckError(_l("This check has no findings waiting for a decision."))
    if not note.strip():
        raise CheckError(_l("Give the reasons for the decision."))
    check.decision, check.decision_note = decision, note.strip()
    check.decided_on, check.decided_by_id = today, user.id
    check.stage = DONE if decision == NO_BREACH else BREACH
    _audit(check, "decision", f"decided: {decision}",
           {"decision": decision, "from": HEARD, "to": check.stage}, {"note": note.strip()})


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
    stmt = (select(func.coalesce(func.sum(Measure.penalty_percent), 0))
            .join(ComplianceCheck, ComplianceCheck.id == Measure.check_id)
            .where(ComplianceCheck.agreement_id == agreement.id, Measure.kind == "penalty",
                   Measure.state.in_(OPEN_MEASURE_STATES)))
    if excluding is not None:
        stmt = stmt.where(Measure.id != excluding)
    return Decimal(str(db.session.scalar(stmt) or 0))


@transactional
def propose_measure(check: ComplianceCheck, data: MeasureInput, user: User,
                    today: date) -> Measure:
    cfg = settings()
    agreement = check.agreement
    if check.outcome != FINDINGS:
        raise CheckError(_l("A measure follows only from a check with findings."))
    if not any(h.held_on <= today for h in check.hearings):
        raise CheckError(_l("Before any measure the contractor or grantee must be heard: "
                            "record the hearing first."))
    if check.decision != BREACH_CONFIRMED:
        raise CheckError(_l("A measure follows only once the breach is confirmed: record "
                            "the decision first."))
    if data.kind not in MEASURE_KINDS:
        raise CheckError(_l("Unknown measure."))
    if data.kind == "termination" and agreement.kind != CONTRACT:
        raise CheckError(_l("Termination applies to contracts; a grant is revoked."))
    if data.kind == "revocation" and agreement.kind != GRANT:
        raise CheckError(_l("Revocation applies to grants; a contract is terminated."))
    if not data.description.strip():
        raise CheckError(_l("Describe the measure."))
    # Validated first, built last: a refused proposal leaves nothing in the session.
    measure = Measure(kind=data.kind, description=data.description.strip(),
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
                                "%(cap)s.", cap=format_percent(cfg.penalty_cap)))
        percent = min(cfg.penalty_per_breach * data.breaches, room)
        measure.breaches, measure.penalty_percent = data.breaches, percent
        # On the net value, as the clause says (agreement.value is net of VAT).
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
    return measure


@transactional
def decide_measure(measure: Measure, approve: bool, note: str, user: User,
                   expected_version: int | None) -> None:
    check_version(measure, expected_version)
    if measure.state != PROPOSED:
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
    measure.state = APPROVED if approve else REJECTED
    measure.decided_by_id, measure.decided_at = user.id, utcnow()
    measure.decision_note = note or None
    _audit(measure.check, f"measure.{measure.state}", f"measure {measure.kind} {measure.state}",
           {"measure_id": measure.id, "proposed_by": measure.proposed_by_id,
            "kind": measure.kind}, {"note": note})
    if ends_as:
        # Through the agreements service (its own audit event and lifecycle check); it
        # commits the approval and the status change together, in one transaction.
        agreements.change_status(
            agreement, ends_as, agreement.version_id, user,
            reason=f"{measure.description} ({note})" if note else measure.description,
            on=utcnow().date())
        return


@transactional
def record_plan_completion(measure: Measure, done: bool, on: date, note: str, user: User,
                           expected_version: int | None, today: date) -> None:
    """How an approved action plan ended: done (on time or late, by its deadline) or not
    done. Done, it no longer holds the breach open; not done, the breach stays open."""
    check_version(measure, expected_version)
    if measure.kind != "action_plan" or measure.state != APPROVED:
        raise CheckError(_l("Only an approved action plan is completed."))
    if measure.completion is not None:
        raise CheckError(_l("The completion of this action plan is already recorded."))
    if on > today:
        raise CheckError(_l("A completion is recorded once it has happened."))
    if not done and not note.strip():
        raise CheckError(_l("Say what was not done."))
    assert measure.deadline is not None  # an action plan has one (propose_measure)
    measure.completion = (ON_TIME if on <= measure.deadline else LATE) if done else NOT_DONE
    measure.completed_on, measure.completed_by_id = on, user.id
    measure.completion_note = note.strip() or None
    _audit(measure.check, "measure.completion", f"action plan {measure.completion}",
           {"measure_id": measure.id, "completion": measure.completion, "on": str(on),
            "deadline": str(measure.deadline)}, {"note": measure.completion_note})


# --- complaints ------------------------------------------------------------------------------

def case_reference_refused(case_reference: str) -> str | None:
    """Why `case_reference` is not a case reference of the anti-discrimination office
    (`COMPLAINT_REFERENCE_PATTERN`, matched as a whole, ASCII digits only), or None."""
    config = current_app.config
    pattern = re.compile(config["COMPLAINT_REFERENCE_PATTERN"], re.ASCII)
    if pattern.fullmatch(case_reference):
        return None
    return str(_l("Enter only the case reference of the anti-discrimination office, in its "
                  "format (e.g. %(example)s): no names, contact details, dates of birth, "
                  "origin or anything about the incident. Such details stay in the office's "
                  "case file.", example=config["COMPLAINT_REFERENCE_EXAMPLE"]))


@transactional
def record_complaint(agreement: Agreement, case_reference: str, received_on: date,
                     user: User, today: date) -> ComplianceCheck:
    """A complaint known only by the anti-discrimination office's case reference opens an
    ad-hoc check (which, like every check, needs a hearing before any measure). Anything
    but a reference in the office's format is refused before it reaches a table or the
    audit trail."""
    case_reference = case_reference.strip()
    refused = case_reference_refused(case_reference)
    if refused:
        raise CheckError(refused)
    if db.session.scalar(select(Complaint.id).where(
            Complaint.agreement_id == agreement.id,
            Complaint.case_reference == case_reference)):
        raise CheckError(_l("This case reference is already linked to this record."))
    if received_on > today:
        raise CheckError(_l("The date of receipt cannot lie in the future."))
    now = utcnow()
    complaint = Complaint(agreement_id=agreement.id, case_reference=case_reference,
                          received_on=received_on, recorded_at=now, recorded_by_id=user.id)
    db.session.add(complaint)
    db.session.flush()
    # The check's occasion names the complaint row, never text that was typed in.
    check = ComplianceCheck(
        agreement=agreement, trigger=COMPLAINT, occasion=f"complaint:{complaint.id}",
        due_on=today, deadline=today + timedelta(days=settings().grace_days),
        stage=DUE, assigned_to_id=user.id, created_at=now)
    db.session.add(check)
    db.session.flush()
    complaint.check_id = check.id
    _audit(check, "complaint", "complaint linked; ad-hoc check opened",
           {"complaint_id": complaint.id, "received_on": str(received_on)},
           {"case_reference": case_reference})
    return check


def complaints_of(check: ComplianceCheck) -> list[Complaint]:
    return list(db.session.scalars(select(Complaint).where(Complaint.check_id == check.id)))


# --- retention ---------------------------------------------------------------------------------

def erase_personal_data(agreement_id: int) -> dict[str, int]:
    """Erase the texts of the agreement's checks (hearing summaries and statements, findings,
    measure descriptions, decision and completion notes, outcome notes and the reasons of the
    breach decision): they may name people. Stages, outcomes, decisions, measure kinds and
    dates stay for the figures."""
    check_ids = select(ComplianceCheck.id).where(ComplianceCheck.agreement_id == agreement_id)
    hearings = db.session.execute(
        update(Hearing).where(Hearing.check_id.in_(check_ids))
        .values(summary=ERASED, statement=None)).rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult
    findings = db.session.execute(
        update(Finding).where(Finding.check_id.in_(check_ids))
        .values(description=ERASED)).rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult
    db.session.execute(update(Measure).where(Measure.check_id.in_(check_ids))
                       .values(description=ERASED, decision_note=None, completion_note=None,
                               version_id=Measure.version_id + 1))
    db.session.execute(update(ComplianceCheck).where(ComplianceCheck.id.in_(check_ids),
                                                       ComplianceCheck.outcome_note.is_not(None))
                       .values(outcome_note=ERASED, version_id=ComplianceCheck.version_id + 1))
    db.session.execute(update(ComplianceCheck).where(ComplianceCheck.id.in_(check_ids),
                                                       ComplianceCheck.decision_note.is_not(None))
                       .values(decision_note=ERASED, version_id=ComplianceCheck.version_id + 1))
    complaints = db.session.execute(  # the office's case reference leads to a person
        update(Complaint).where(Complaint.agreement_id == agreement_id)
        # unique per agreement: the mark and the row's own number
        .values(case_reference=literal(f"{ERASED} #").concat(cast(Complaint.id, String)))
    ).rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult
    return {"hearings": hearings, "findings": findings, "complaints": complaints}
