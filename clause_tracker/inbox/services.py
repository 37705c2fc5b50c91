"""The tasks of one user, each read by one set-based query over its own table.

Whose task it is follows the rest of the product: officers see the work on their unit's
agreements of the kinds they handle (checks: those assigned to them, or unassigned), a
second pair of eyes sees what others proposed and never their own proposals, and whoever may
approve exemptions sees the requests. The nearest deadline comes first; tasks without one last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, or_, select

from clause_tracker.agreements.models import KINDS, Agreement
from clause_tracker.auth.models import User
from clause_tracker.auth.visibility import in_view
from clause_tracker.checks.models import (
    APPROVED,
    FINDINGS_RECORDED,
    HEARD,
    OPEN_STAGES,
    PROPOSED,
    ComplianceCheck,
    Measure,
)
from clause_tracker.compliance.signed_copy import MONITORED_STATUSES, copy_facts
from clause_tracker.declarations.models import Declaration
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.permissions import MANAGE_KIND, Permission

LIMIT = 200  # per kind of task: enough for a working day, bounded for a page

TITLES = {
    "check_due": _l("Compliance check due"),
    "check_overdue": _l("Compliance check overdue"),
    "hearing": _l("Hold the hearing"),
    "breach_decision": _l("Decide on the breach after the hearing"),
    "declaration_due": _l("Declaration due back"),
    "declaration_overdue": _l("Declaration overdue"),
    "signed_copy_awaited": _l("Signed copy awaited"),
    "signed_copy_overdue": _l("Signed copy overdue"),
    "ocr_confirm": _l("Compare the scanned signed copy and confirm it"),
    "action_plan_due": _l("Action plan due"),
    "action_plan_overdue": _l("Action plan overdue"),
    "approve_measure": _l("Decide on a proposed measure"),
    "approve_exemption": _l("Decide on a requested exemption"),
    "approve_manual_check": _l("Approve a manual check of a signed copy"),
}
APPROVALS = frozenset({"approve_measure", "approve_exemption", "approve_manual_check"})


@dataclass(frozen=True)
class Task:
    kind: str
    reference: str
    subject: str
    unit: str
    deadline: date | None
    url: str

    @property
    def title(self) -> str:
        return str(TITLES[self.kind])

    @property
    def is_approval(self) -> bool:
        return self.kind in APPROVALS

    def overdue(self, today: date) -> bool:
        return self.deadline is not None and self.deadline < today


def _kinds(user: User) -> list[str]:
    return [kind for kind in KINDS if user.can(MANAGE_KIND[kind])]


def _of_mine(user: User) -> ColumnElement[bool]:
    """Agreements of the user's unit (or all) and of the kinds they handle."""
    return and_(in_view(user, Agreement.org_unit_id), Agreement.kind.in_(_kinds(user)))


def _task(kind: str, agreement: Agreement, deadline: date | None, url: str) -> Task:
    return Task(kind, agreement.reference, agreement.subject, agreement.org_unit.code,
                deadline, url)


def _record(agreement: Agreement, anchor: str = "") -> str:
    return url_for("registry.show", agreement_id=agreement.id) + anchor


def _checks(user: User, today: date) -> list[Task]:
    if not user.can(Permission.CHECKS_WORK) or not _kinds(user):
        return []
    check = ComplianceCheck
    mine = or_(check.assigned_to_id == user.id,
               and_(check.assigned_to_id.is_(None), _of_mine(user)))
    waiting = or_(and_(check.stage.in_(OPEN_STAGES), check.due_on <= today),
                  check.stage.in_((FINDINGS_RECORDED, HEARD)))
    rows = db.session.execute(
        select(check, Agreement).join(Agreement, Agreement.id == check.agreement_id)
        .where(mine, waiting, in_view(user, Agreement.org_unit_id))
        .order_by(check.deadline).limit(LIMIT)).tuples()
    found = []
    for item, agreement in rows:
        if item.stage == FINDINGS_RECORDED:
            kind = "hearing"
        elif item.stage == HEARD:
            kind = "breach_decision"
        else:
            kind = "check_overdue" if item.deadline < today else "check_due"
        found.append(_task(kind, agreement, item.deadline,
                           url_for("checks.show", check_id=item.id)))
    return found


def _declarations(user: User, today: date) -> list[Task]:
    if not _kinds(user):
        return []
    rows = db.session.execute(
        select(Declaration, Agreement).join(Agreement, Agreement.id == Declaration.agreement_id)
        .where(Declaration.state == "requested", _of_mine(user))
        .order_by(Declaration.deadline).limit(LIMIT)).tuples()
    return [_task("declaration_overdue" if d.deadline and d.deadline < today
                  else "declaration_due", a, d.deadline, _record(a, "#declarations-heading"))
            for d, a in rows]


def _signed_copies(user: User, today: date) -> list[Task]:
    expected = [k for k in _kinds(user) if k in current_app.config.get("SIGNED_COPY_KINDS", ())]
    if not _kinds(user):
        return []
    copies = copy_facts()
    rows = db.session.execute(
        select(Agreement, copies.c.status, copies.c.verified)
        .outerjoin(copies, copies.c.agreement_id == Agreement.id)
        .where(_of_mine(user), Agreement.status.in_(MONITORED_STATUSES),
               or_(copies.c.verified.is_(None), copies.c.verified == 0),
               or_(Agreement.kind.in_(expected), copies.c.status == "ocr_match"))
        .order_by(Agreement.signed_copy_due_on).limit(LIMIT)).tuples()
    found = []
    for agreement, status, _verified in rows:
        due = agreement.signed_copy_due_on
        if status == "ocr_match":
            kind = "ocr_confirm"
        elif status == "manual":
            continue  # waits on a second person: their task, below
        else:
            kind = "signed_copy_overdue" if due and due < today else "signed_copy_awaited"
        found.append(_task(kind, agreement, due, _record(agreement, "#signed-copy")))
    return found


def _action_plans(user: User, today: date) -> list[Task]:
    if not user.can(Permission.CHECKS_WORK) or not _kinds(user):
        return []
    rows = db.session.execute(
        select(Measure, Agreement).join(ComplianceCheck, ComplianceCheck.id == Measure.check_id)
        .join(Agreement, Agreement.id == ComplianceCheck.agreement_id)
        .where(Measure.kind == "action_plan", Measure.state == APPROVED,
               Measure.completion.is_(None), _of_mine(user))
        .order_by(Measure.deadline).limit(LIMIT)).tuples()
    return [_task("action_plan_overdue" if m.deadline and m.deadline < today
                  else "action_plan_due", a, m.deadline,
                  url_for("checks.show", check_id=m.check_id) + f"#measure-{m.id}")
            for m, a in rows]


def _approvals(user: User) -> list[Task]:
    found: list[Task] = []
    if user.can(Permission.MEASURES_APPROVE):
        # Officers approve within their unit and kinds; all-unit approvers everywhere.
        scope = (in_view(user, Agreement.org_unit_id) if user.can(Permission.ALL_UNITS)
                 else _of_mine(user))
        rows = db.session.execute(
            select(Measure, Agreement)
            .join(ComplianceCheck, ComplianceCheck.id == Measure.check_id)
            .join(Agreement, Agreement.id == ComplianceCheck.agreement_id)
            .where(Measure.state == PROPOSED, Measure.proposed_by_id != user.id, scope)
            .order_by(Measure.proposed_at).limit(LIMIT)).tuples()
        found += [_task("approve_measure", a, None,
                        url_for("checks.show", check_id=m.check_id) + f"#measure-{m.id}")
                  for m, a in rows]
    if user.can(Permission.EXEMPTIONS_APPROVE):
        agreements = db.session.scalars(
            select(Agreement).where(
                Agreement.exemption_reason.is_not(None),
                Agreement.exemption_approved_at.is_(None),
                or_(Agreement.exemption_requested_by_id.is_(None),
                    Agreement.exemption_requested_by_id != user.id),
                in_view(user, Agreement.org_unit_id))
            .order_by(Agreement.updated_at).limit(LIMIT))
        found += [_task("approve_exemption", a, None, _record(a, "#clause-heading"))
                  for a in agreements]
    if _kinds(user):
        manual = db.session.execute(
            select(DocumentRecord, Agreement)
            .join(Agreement, Agreement.id == DocumentRecord.agreement_id)
            .where(DocumentRecord.action == "manual", DocumentRecord.confirmed_at.is_(None),
                   DocumentRecord.created_by_id != user.id, _of_mine(user))
            .order_by(DocumentRecord.id).limit(LIMIT)).tuples()
        found += [_task("approve_manual_check", a, None, _record(a, "#signed-copy"))
                  for _r, a in manual]
    return found


def tasks_for(user: User, today: date) -> list[Task]:
    """Everything that waits on `user`: the nearest deadline first, then the rest."""
    found = (_checks(user, today) + _declarations(user, today) + _signed_copies(user, today)
             + _action_plans(user, today) + _approvals(user))
    return sorted(found, key=lambda t: (t.deadline is None, t.deadline or today, t.reference))
