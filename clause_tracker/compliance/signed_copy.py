"""The compliance state's questions about the signed copy, answered from the returned files
filed on each agreement (THE document records; the latest filed is the signed copy).

One grouped pass finds each agreement's latest returned record, a join reads its status: a
set-based subquery outer-joined like the declaration facts, never a lookup per agreement.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    Subquery,
    and_,
    case,
    func,
    or_,
    select,
)

from clause_tracker.documents.web.models import (
    CONFIRMABLE_STATUSES,
    PASSING_STATUSES,
    RETURNED_ACTIONS,
    DocumentRecord,
)

MONITORED_STATUSES = ("awarded", "active")


def copy_facts(only: Select | None = None) -> Subquery:
    """Per agreement with a returned file: the latest one's status and whether it counts
    (1: it passes, or was confirmed where it must be)."""
    latest = select(DocumentRecord.agreement_id, func.max(DocumentRecord.id).label("id")) \
        .where(DocumentRecord.action.in_(RETURNED_ACTIONS),
               DocumentRecord.agreement_id.is_not(None))
    if only is not None:
        latest = latest.where(DocumentRecord.agreement_id.in_(only))
    newest = latest.group_by(DocumentRecord.agreement_id).subquery("latest_copy")
    counts = or_(DocumentRecord.status.in_(PASSING_STATUSES),
                 and_(DocumentRecord.status.in_(CONFIRMABLE_STATUSES),
                      DocumentRecord.confirmed_at.is_not(None)))
    return select(
        newest.c.agreement_id.label("agreement_id"),
        DocumentRecord.status.label("status"),
        case((counts, 1), else_=0).label("verified"),
    ).join(DocumentRecord, DocumentRecord.id == newest.c.id).subquery("copy_facts")


def has_verified_copy(agreement_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """The agreement's signed copy counts (the registry's drill-down condition)."""
    copies = copy_facts()
    return agreement_id.in_(select(copies.c.agreement_id).where(copies.c.verified == 1))


def not_verified(copies: Subquery) -> ColumnElement[bool]:
    """No returned file counts yet (none filed, or the latest fails or awaits confirmation)."""
    return func.coalesce(copies.c.verified, 0) == 0
