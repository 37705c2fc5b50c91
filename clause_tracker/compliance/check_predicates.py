"""The compliance state's two questions about checks, answered from THE table of checks.

`state.py` asks these of every agreement; the answers read the check's dates (not the
sweep's stage marks), so the state is right even on a day the sweep has not yet run.

Both are set-based: `agreement_id IN (SELECT agreement_id FROM compliance_checks WHERE …)`
with an uncorrelated subquery. Inside the state's CASE a correlated EXISTS cannot be pulled
up into a join, so PostgreSQL ran it as a subplan once per agreement (120,000 index lookups
at bench size); the uncorrelated IN is computed once and probed as a hash ("hashed SubPlan")
or joined as a semi-join where it stands in WHERE. `compliance_checks.agreement_id` is NOT
NULL, so IN answers exactly what the EXISTS did (never NULL instead of false).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, literal, select

from clause_tracker.checks.models import OPEN_STAGES, ComplianceCheck


def overdue_check_row(today: date) -> ColumnElement[bool]:
    """The condition on ONE check row: past its deadline and not carried out (the overview
    counts it per agreement in a grouped pass over the checks)."""
    return and_(ComplianceCheck.stage.in_(OPEN_STAGES), ComplianceCheck.deadline < literal(today))


def _of(only: Select | None) -> tuple[ColumnElement[bool], ...]:
    """Limit a subquery to the agreements in `only` (a page's ids): it then reads their
    checks by index instead of every check."""
    return () if only is None else (ComplianceCheck.agreement_id.in_(only),)


def check_overdue(agreement_id: SQLColumnExpression[int], today: date,
                  only: Select | None = None) -> ColumnElement[bool]:
    """True where a check of the agreement is past its deadline and not done."""
    return agreement_id.in_(select(ComplianceCheck.agreement_id).where(
        overdue_check_row(today), *_of(only)))


def check_due(agreement_id: SQLColumnExpression[int], today: date,
              only: Select | None = None) -> ColumnElement[bool]:
    """True where a check of the agreement is due (due date reached) but not yet overdue."""
    day = literal(today)
    return agreement_id.in_(select(ComplianceCheck.agreement_id).where(
        ComplianceCheck.stage.in_(OPEN_STAGES), ComplianceCheck.due_on <= day,
        ComplianceCheck.deadline >= day, *_of(only)))
