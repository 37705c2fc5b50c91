"""The signed copy: the document the counterparty signed, filed on the agreement, and checked.

"Clause attached" is a database link; what binds is the clause in what the counterparty
signed. Each award of a kind in SIGNED_COPY_KINDS expects its signed copy back within
SIGNED_COPY_DUE_WORKING_DAYS working days of the award (the compliance state reads the due
day set here). The latest returned file filed on the agreement is its signed copy: a file
checked by the engine (DOCX, PDF, scan), or, for a paper copy nothing could be read from, a
manual check whose reason a second person approves. An OCR match counts only once an
officer has compared it on the page and confirmed it.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.services import record as audit
from clause_tracker.auth.models import User
from clause_tracker.clock import today, utcnow
from clause_tracker.documents.provenance import app_version
from clause_tracker.documents.web.models import RETURNED_ACTIONS, DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.transaction import transactional
from clause_tracker.versioning import RefusedChange
from clause_tracker.workdays import add_working_days

MANUAL = "manual"


class SignedCopyError(RefusedChange):
    """A refused step on a signed copy; the message is for the user."""


def expected_for(agreement: Agreement) -> bool:
    """Whether awards of the agreement's kind expect a signed copy back (a setting)."""
    return agreement.kind in current_app.config.get("SIGNED_COPY_KINDS", ())


def due_on(agreement: Agreement, on: date | None = None) -> date:
    """The day the signed copy is expected by: working days after the award date (or
    after `on`, the day of the award, when the record has no award date yet)."""
    days = int(current_app.config.get("SIGNED_COPY_DUE_WORKING_DAYS", 20))
    return add_working_days(agreement.decided_on or on or today(), days)


def returned(agreement_id: int) -> list[DocumentRecord]:
    """Every returned file filed on the agreement, newest first (the first is its copy)."""
    return list(db.session.scalars(select(DocumentRecord).where(
        DocumentRecord.agreement_id == agreement_id,
        DocumentRecord.action.in_(RETURNED_ACTIONS)).order_by(DocumentRecord.id.desc())))


def current(agreement_id: int) -> DocumentRecord | None:
    found = returned(agreement_id)
    return found[0] if found else None


def _own(agreement: Agreement, record_id: int) -> DocumentRecord:
    record = db.session.get(DocumentRecord, record_id)
    if record is None or record.agreement_id != agreement.id \
            or record.action not in RETURNED_ACTIONS:
        raise SignedCopyError(_l("This returned document does not belong to the record."))
    return record


@transactional
def confirm_ocr_match(agreement: Agreement, record_id: int, user: User) -> DocumentRecord:
    """The officer compared the scan with the published clause on the page: it matches."""
    record = _own(agreement, record_id)
    if record.status != "ocr_match":
        raise SignedCopyError(_l("Only a scan read as a near match needs a confirmation."))
    if record.confirmed_at is not None:
        raise SignedCopyError(_l("This scan was confirmed already."))
    record.confirmed_at, record.confirmed_by_id = utcnow(), user.id
    agreement.updated_at = record.confirmed_at
    audit("document.ocr_confirm", "DocumentRecord", record.id,
          f"Scan of {agreement.reference} confirmed as the clause",
          {"agreement_id": agreement.id, "sha256": record.input_sha256,
           "similarity": record.details.get("similarity")},
          personal={"filename": record.filename}, subject=f"Agreement:{agreement.id}",
          params={"reference": agreement.reference})
    return record


@transactional
def propose_manual_check(agreement: Agreement, reason: str, user: User) -> DocumentRecord:
    """A paper copy nothing can be read from: the officer checked it by eye and says why;
    it counts once a second person approves."""
    reason = reason.strip()
    if not reason:
        raise SignedCopyError(_l("Say why the signed copy can only be checked by hand."))
    now = utcnow()
    record = DocumentRecord(action=MANUAL, status=MANUAL, filename="", note=reason,
                            created_by_id=user.id, org_unit_id=agreement.org_unit_id,
                            created_at=now, app_version=app_version(),
                            agreement_id=agreement.id, details_json="{}")
    db.session.add(record)
    db.session.flush()
    agreement.updated_at = now
    audit("document.manual_check", "DocumentRecord", record.id,
          f"Manual check of the signed copy of {agreement.reference} proposed",
          {"agreement_id": agreement.id}, personal={"reason": reason},
          subject=f"Agreement:{agreement.id}",
          params={"reference": agreement.reference})
    return record


@transactional
def approve_manual_check(agreement: Agreement, record_id: int, user: User) -> DocumentRecord:
    record = _own(agreement, record_id)
    if record.status != MANUAL or record.confirmed_at is not None:
        raise SignedCopyError(_l("There is no manual check waiting for approval."))
    if record.created_by_id == user.id:
        raise SignedCopyError(_l("A manual check needs a second person: you recorded it, "
                                 "so someone else must approve it."))
    record.confirmed_at, record.confirmed_by_id = utcnow(), user.id
    agreement.updated_at = record.confirmed_at
    audit("document.manual_check_approve", "DocumentRecord", record.id,
          f"Manual check of the signed copy of {agreement.reference} approved",
          {"agreement_id": agreement.id, "proposed_by": record.created_by_id},
          params={"reference": agreement.reference})
    return record
