"""Retention: records past their period are listed; on an administrator's confirmation
the personal data in them is erased — names, notes and summaries in the rows, and the
stored files (declaration evidence, documents generated for the agreement: signed
declarations and contracts name people). The agreement rows, checks, outcomes, measure
kinds and the files' SHA-256 stay, so the aggregate figures (ECCAR report, overview) and the
proof of what had been issued survive. Audited.

Periods (config): contracts RETENTION_CONTRACT_YEARS after the end of the contract or,
without an end, after the award (§ 8(4) VgV, § 6(2) UVgO); grants RETENTION_GRANT_YEARS
after the proof of use (its due date; else the end of the funding period).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, func, literal, or_, select, update

from clause_tracker.agreements.models import CONTRACT, Agreement
from clause_tracker.audit.services import Actor, current_actor, record, utcnow
from clause_tracker.compliance import models as m
from clause_tracker.compliance.settings import settings
from clause_tracker.compliance.sql_dates import add_months
from clause_tracker.counterparties.models import ContactPerson
from clause_tracker.declarations.models import Declaration
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.storage import storage
from clause_tracker.versioning import RefusedChange

log = logging.getLogger(__name__)
FINISHED_STATUSES = ("ended", "terminated", "revoked")
ERASED = "[erased]"


class RetentionError(RefusedChange):
    pass


@dataclass(frozen=True)
class RetentionRow:
    id: int
    kind: str
    reference: str
    status: str
    retain_until: date


def retain_until_expression():
    cfg = settings()
    contract_from = func.coalesce(Agreement.end_date, Agreement.decided_on)
    grant_from = func.coalesce(Agreement.proof_due_on, Agreement.end_date, Agreement.decided_on)
    return case(
        (Agreement.kind == CONTRACT, add_months(contract_from, cfg.retention_contract_years * 12)),
        else_=add_months(grant_from, cfg.retention_grant_years * 12))


def _past_retention(today: date):
    until = retain_until_expression()
    return until, (Agreement.status.in_(FINISHED_STATUSES), until.is_not(None),
                   until < literal(today),
                   ~exists().where(m.RetentionPurge.agreement_id == Agreement.id))


def due_for_deletion(today: date | None = None, limit: int = 500) -> list[RetentionRow]:
    day = today or utcnow().date()
    until, conditions = _past_retention(day)
    rows = db.session.execute(
        select(Agreement.id, Agreement.kind, Agreement.reference, Agreement.status, until)
        .where(*conditions).order_by(until, Agreement.id).limit(limit))
    return [RetentionRow(*row) for row in rows]


def purge(agreement_id: int, user_id: int | None, today: date | None = None,
          actor: Actor | None = None) -> dict[str, int]:
    """Erase the personal data of one agreement past its retention."""
    day = today or utcnow().date()
    _, conditions = _past_retention(day)
    agreement = db.session.scalar(select(Agreement).where(Agreement.id == agreement_id,
                                                          *conditions))
    if agreement is None:
        raise RetentionError(_l("This record is not past its retention period, or it was "
                                "already erased."))
    counts: dict[str, int] = {}
    files = _files_of(agreement_id)
    counts["declarations"] = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(Declaration).where(Declaration.agreement_id == agreement_id)
        .values(signer_name=None, signer_function=None, note=None, evidence_key=None,
                evidence_filename=None, version_id=Declaration.version_id + 1)).rowcount or 0
    files -= _still_named(files, agreement_id)
    counts["files"] = len(files)
    check_ids = select(m.ComplianceCheck.id).where(m.ComplianceCheck.agreement_id == agreement_id)
    counts["hearings"] = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(m.Hearing).where(m.Hearing.check_id.in_(check_ids))
        .values(summary=ERASED)).rowcount or 0
    counts["findings"] = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(m.Finding).where(m.Finding.check_id.in_(check_ids))
        .values(description=ERASED)).rowcount or 0
    db.session.execute(update(m.Measure).where(m.Measure.check_id.in_(check_ids))
                       .values(description=ERASED, decision_note=None,
                               version_id=m.Measure.version_id + 1))
    db.session.execute(update(m.ComplianceCheck).where(m.ComplianceCheck.id.in_(check_ids),
                                                       m.ComplianceCheck.outcome_note.is_not(None))
                       .values(outcome_note=ERASED, version_id=m.ComplianceCheck.version_id + 1))
    # The counterparty's contact persons serve its other agreements too: erased only when
    # none of them is still within its retention.
    counts["contact_persons"] = 0
    if agreement.counterparty_id is not None:
        until, _ = _past_retention(day)
        still_needed = db.session.scalar(select(exists().where(
            Agreement.counterparty_id == agreement.counterparty_id,
            Agreement.id != agreement_id,
            ~(Agreement.status.in_(FINISHED_STATUSES) & (until < literal(day))))))
        if not still_needed:
            counts["contact_persons"] = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
                update(ContactPerson)
                .where(ContactPerson.counterparty_id == agreement.counterparty_id,
                       ContactPerson.name != ERASED)
                .values(name=ERASED, function="", email="")).rowcount or 0
    db.session.add(m.RetentionPurge(agreement_id=agreement_id, purged_at=utcnow(),
                                    purged_by_id=user_id))
    record("retention.purge", "Agreement", agreement_id,
           f"{agreement.reference}: personal data erased after the retention period",
           {"counts": counts, "status": agreement.status}, actor=actor or current_actor())
    db.session.commit()
    # Files go only after the commit: a failed purge must not leave records naming
    # missing files. A file that cannot be removed now stays unnamed (logged).
    for key in sorted(files):
        try:
            storage().delete(key)
        except OSError as exc:
            log.error("retention: stored file %s not removed: %s", key, exc)
    return counts


def _files_of(agreement_id: int) -> set[str]:
    """Stored files of the agreement: declaration evidence, generated documents."""
    evidence = select(Declaration.evidence_key).where(
        Declaration.agreement_id == agreement_id, Declaration.evidence_key.is_not(None))
    issued = select(DocumentRecord.output_sha256).where(
        DocumentRecord.agreement_id == agreement_id, DocumentRecord.output_sha256.is_not(None))
    keys = {*db.session.scalars(evidence), *db.session.scalars(issued)}
    return {key for key in keys if key is not None}  # the WHERE left out NULL already


def _still_named(keys: set[str], agreement_id: int) -> set[str]:
    """Of `keys`, those another record still names (a content-addressed file is shared by
    every record of equal content): they stay."""
    if not keys:
        return set()
    other = or_(DocumentRecord.agreement_id.is_(None),
                DocumentRecord.agreement_id != agreement_id)
    named = set(db.session.scalars(select(Declaration.evidence_key)
                                   .where(Declaration.evidence_key.in_(keys))))
    named |= set(db.session.scalars(select(DocumentRecord.output_sha256).where(
        DocumentRecord.output_sha256.in_(keys), other)))
    named |= set(db.session.scalars(select(DocumentRecord.input_sha256).where(
        DocumentRecord.input_sha256.in_(keys), other)))
    return {key for key in named if key is not None}  # IN (keys) matches no NULL
