"""An agreement's history: its own audit events, those of its declarations and documents,
and the import of the file it came from, oldest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.models import AuditEvent
from clause_tracker.declarations.models import Declaration
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db


@dataclass(frozen=True)
class RelatedIds:
    declarations: list[int]
    documents: list[int]


def related_ids(agreement: Agreement) -> RelatedIds:
    decls = db.session.scalars(select(Declaration.id).where(
        Declaration.agreement_id == agreement.id))
    docs = db.session.scalars(select(DocumentRecord.id).where(
        DocumentRecord.agreement_id == agreement.id))
    return RelatedIds(list(decls), list(docs))


def of(agreement: Agreement) -> list[AuditEvent]:
    """The record's audit events and those of its declarations and documents, oldest first."""
    ids = related_ids(agreement)
    clauses_ = [and_(AuditEvent.object_type == "Agreement",
                     AuditEvent.object_id == str(agreement.id))]
    if ids.declarations:
        clauses_.append(and_(AuditEvent.object_type == "Declaration",
                             AuditEvent.object_id.in_([str(i) for i in ids.declarations])))
    if ids.documents:
        clauses_.append(and_(AuditEvent.object_type == "DocumentRecord",
                             AuditEvent.object_id.in_([str(i) for i in ids.documents])))
    if agreement.import_id is not None:  # the file it came from (one event per file)
        clauses_.append(and_(AuditEvent.object_type == "Import",
                             AuditEvent.object_id == str(agreement.import_id),
                             AuditEvent.action == f"{agreement.kind}.import_file"))
    return list(db.session.scalars(select(AuditEvent).where(or_(*clauses_))
                                   .order_by(AuditEvent.id)))
