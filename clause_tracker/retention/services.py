"""Retention: records past their period are listed; on an administrator's confirmation
the personal data in them is erased — names, notes and summaries in the rows, and the
stored files (declaration evidence, documents generated for the agreement: signed
declarations and contracts name people; every evidence file ever named, returned signed
copies), and the personal part of the audit events about the agreement and its erased
contact persons (audit.services.erase_personal: the chain verifies as before). The agreement
rows, checks, outcomes, measure kinds and the files' SHA-256 stay, so the aggregate figures
(ECCAR report, overview) and the proof of what had been issued survive. Audited.

Periods (config): contracts RETENTION_CONTRACT_YEARS after the end of the contract or,
without an end, after the award (§ 8(4) VgV, § 6(2) UVgO); grants RETENTION_GRANT_YEARS
after the proof of use (its due date; else the end of the funding period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, false, func, literal, select

from clause_tracker.agreements.models import CONTRACT, Agreement
from clause_tracker.audit.services import Actor, current_actor, erase_personal, record
from clause_tracker.checks import services as checks
from clause_tracker.checks.models import (
    RetentionPurge,
)
from clause_tracker.checks.settings import settings
from clause_tracker.clock import utcnow
from clause_tracker.counterparties import services as counterparties
from clause_tracker.declarations import services as declarations
from clause_tracker.documents.web import services as documents
from clause_tracker.erasure import ERASED
from clause_tracker.extensions import db
from clause_tracker.sql import add_months
from clause_tracker.storage import storage
from clause_tracker.transaction import transactional
from clause_tracker.versioning import RefusedChange

FINISHED_STATUSES = ("ended", "terminated", "revoked")


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
                   ~exists().where(RetentionPurge.agreement_id == Agreement.id))


def due_for_deletion(today: date | None = None, limit: int = 500) -> list[RetentionRow]:
    day = today or utcnow().date()
    until, conditions = _past_retention(day)
    rows = db.session.execute(
        select(Agreement.id, Agreement.kind, Agreement.reference, Agreement.status, until)
        .where(*conditions).order_by(until, Agreement.id).limit(limit))
    return [RetentionRow(*row) for row in rows]


def purge(agreement_id: int, user_id: int | None, today: date | None = None,
          actor: Actor | None = None) -> dict[str, int]:
    """Erase the personal data of one agreement past its retention: the records and the
    stored files no record names any more, in one transaction. In the database's file
    storage the files go with the commit; a local folder's files are removed right after
    it (a failed purge never leaves records naming missing files; a file that cannot be
    removed then stays unnamed, logged)."""
    counts, _files = _erase_records(agreement_id, user_id, today or utcnow().date(), actor)
    return counts


@transactional
def _erase_records(agreement_id: int, user_id: int | None, day: date,
                   actor: Actor | None) -> tuple[dict[str, int], set[str]]:
    _, conditions = _past_retention(day)
    agreement = db.session.scalar(select(Agreement).where(Agreement.id == agreement_id,
                                                          *conditions))
    if agreement is None:
        raise RetentionError(_l("This record is not past its retention period, or it was "
                                "already erased."))
    declaration_rows, files = declarations.erase_personal_data(agreement_id)
    files |= documents.files_of_agreement(agreement_id)
    store = storage()
    store.lock(files)  # a concurrent upload of equal content waits, then names it anew
    files -= declarations.files_named(files) | documents.files_named_elsewhere(files, agreement_id)
    store.release(files)  # with this transaction: at its commit, never on a rollback
    counts = {"declarations": declaration_rows, "files": len(files),
              **checks.erase_personal_data(agreement_id), "contact_persons": 0,
              "manual_checks": documents.erase_notes(agreement_id)}
    if agreement.end_reason:  # why it was terminated or revoked may name people
        agreement.end_reason = ERASED
    if agreement.exemption_note:  # so may the note on a requested exemption
        agreement.exemption_note = ERASED
    subjects = [f"Agreement:{agreement_id}"]
    # The counterparty's contact persons serve its other agreements too: erased only when
    # none of them is still within its retention.
    if agreement.counterparty_id is not None:
        until, _ = _past_retention(day)
        # Needed unless finished and past its own retention (a missing date: needed).
        done = Agreement.status.in_(FINISHED_STATUSES) & func.coalesce(until < literal(day),
                                                                       false())
        still_needed = db.session.scalar(select(exists().where(
            Agreement.counterparty_id == agreement.counterparty_id,
            Agreement.id != agreement_id, ~done)))
        if not still_needed:
            counts["contact_persons"], contacts = counterparties.erase_contacts(
                agreement.counterparty_id)
            subjects += [f"ContactPerson:{ident}" for ident in contacts]
    # The personal parts of the audit events about it: the chain stays as it was.
    counts["audit_events"] = erase_personal(subjects, actor=actor or current_actor())
    db.session.add(RetentionPurge(agreement_id=agreement_id, purged_at=utcnow(),
                                    purged_by_id=user_id))
    record(documents.RETENTION_PURGE, "Agreement", agreement_id,
           f"{agreement.reference}: personal data erased after the retention period",
           {"counts": counts, "status": agreement.status}, actor=actor or current_actor(),
           params={"reference": agreement.reference})
    return counts, files
