"""THE definition of an agreement's compliance state (DESIGN.md §4), with its reason.

The rules below are an ordered list: the first that matches gives the state and the
reason. They are SQL expressions (CASE over columns and EXISTS, today's date a bound
parameter), so lists can filter and sort 100,000 agreements in the database; the
single-record functions run the very same expressions, so a detail page can never
disagree with a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, exists, literal, or_, select
from sqlalchemy.sql.elements import Case

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.services import utcnow
from clause_tracker.compliance.checks_hook import check_due, check_overdue
from clause_tracker.declarations.lifecycle import VALID_STATES
from clause_tracker.declarations.models import MAIN, Declaration
from clause_tracker.extensions import db

EXEMPT, COMPLIANT, PENDING, NON_COMPLIANT = "exempt", "compliant", "pending", "non_compliant"
STATES = (EXEMPT, COMPLIANT, PENDING, NON_COMPLIANT)
FALLBACK_REASON = "no_declaration"

STATE_LABELS = {
    EXEMPT: _l("Exempt"),
    COMPLIANT: _l("Compliant"),
    PENDING: _l("Pending"),
    NON_COMPLIANT: _l("Not compliant"),
}
REASON_TEXTS = {
    "exemption_approved": _l("An exemption was approved (see its reason)."),
    "no_clause": _l("Awarded without the clause attached."),
    "breach_confirmed": _l("A breach of the clause was confirmed."),
    "declaration_rejected": _l("A declaration was rejected and not yet requested again."),
    "declaration_overdue": _l("A requested declaration is past its deadline."),
    "declaration_expired": _l("A declaration has expired."),
    "check_overdue": _l("A compliance check is overdue."),
    "draft_without_clause": _l("Draft: the clause is not attached yet."),
    "declaration_suspended": _l("A declaration is suspended during an investigation."),
    "declaration_received": _l("A declaration was received and awaits review."),
    "declaration_requested": _l("The clause is attached and a declaration is requested "
                                "within its deadline."),
    "check_due": _l("A compliance check is due."),
    "declaration_valid": _l("The clause is attached and the declaration is accepted "
                            "and valid."),
    "declaration_not_required": _l("The clause is attached; no declaration is required "
                                   "(below the unit's threshold or exempt)."),
    "draft_without_declaration": _l("Draft: no declaration requested yet."),
    FALLBACK_REASON: _l("Awarded without a declaration."),
}


@dataclass(frozen=True)
class Rule:
    state: str
    reason: str
    condition: ColumnElement[bool]


def _declaration(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS a declaration of this agreement (superseded ones no longer count)."""
    return exists().where(Declaration.agreement_id == Agreement.id,
                          Declaration.state != "superseded", *conditions)


def rules(today: date) -> list[Rule]:
    day = literal(today)
    valid = Declaration.state.in_(VALID_STATES)
    return [
        Rule(EXEMPT, "exemption_approved", Agreement.exemption_approved_at.is_not(None)),
        Rule(NON_COMPLIANT, "no_clause",
             and_(Agreement.status != "draft", Agreement.clause_version_id.is_(None))),
        # Measures arrive with issue 5; until then a confirmed breach counts as open.
        Rule(NON_COMPLIANT, "breach_confirmed", _declaration(
            Declaration.state == "breach_confirmed")),
        Rule(NON_COMPLIANT, "declaration_rejected", _declaration(
            Declaration.state == "rejected")),
        Rule(NON_COMPLIANT, "declaration_overdue", _declaration(
            Declaration.state == "requested", Declaration.deadline < day)),
        Rule(NON_COMPLIANT, "declaration_expired", _declaration(or_(
            Declaration.state == "expired", and_(valid, Declaration.valid_until < day)))),
        Rule(NON_COMPLIANT, "check_overdue", check_overdue(Agreement.id, today)),
        Rule(PENDING, "draft_without_clause", Agreement.clause_version_id.is_(None)),
        Rule(PENDING, "declaration_suspended", _declaration(Declaration.state == "suspended")),
        Rule(PENDING, "declaration_received", _declaration(Declaration.state == "received")),
        Rule(PENDING, "declaration_requested", _declaration(Declaration.state == "requested")),
        Rule(PENDING, "check_due", check_due(Agreement.id, today)),
        Rule(COMPLIANT, "declaration_valid", _declaration(Declaration.party == MAIN, valid)),
        Rule(COMPLIANT, "declaration_not_required", _declaration(
            Declaration.party == MAIN, Declaration.state == "not_required")),
        Rule(PENDING, "draft_without_declaration", Agreement.status == "draft"),
    ]


def today() -> date:
    return utcnow().date()


def state_expression(on: date | None = None) -> Case:
    """SQL: the compliance state of each agreement row (for SELECT, WHERE, ORDER BY)."""
    return case(*[(r.condition, r.state) for r in rules(on or today())], else_=NON_COMPLIANT)


def reason_expression(on: date | None = None) -> Case:
    return case(*[(r.condition, r.reason) for r in rules(on or today())], else_=FALLBACK_REASON)


@dataclass(frozen=True)
class Compliance:
    state: str
    reason: str

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def text(self) -> str:
        return str(REASON_TEXTS.get(self.reason, self.reason))


def compliance_of(agreement_id: int, on: date | None = None) -> Compliance:
    """The state and reason of one agreement, from the same SQL the lists use."""
    day = on or today()
    row = db.session.execute(
        select(state_expression(day), reason_expression(day)).where(Agreement.id == agreement_id)
    ).one()
    return Compliance(row[0], row[1])


def reason_text(reason: str) -> str:
    return str(REASON_TEXTS.get(reason, reason))
