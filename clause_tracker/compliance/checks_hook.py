"""The compliance state's two questions about checks, answered from THE table of checks.

`state.py` asks these of every agreement; the answers read the check's dates (not the
sweep's stage marks), so the state is right even on a day the sweep has not yet run.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, exists, literal

from clause_tracker.compliance.models import DONE, ComplianceCheck


def check_overdue(agreement_id: ColumnElement[int], today: date) -> ColumnElement[bool]:
    """True where a check of the agreement is past its deadline and not done."""
    return exists().where(ComplianceCheck.agreement_id == agreement_id,
                          ComplianceCheck.stage != DONE,
                          ComplianceCheck.deadline < literal(today))


def check_due(agreement_id: ColumnElement[int], today: date) -> ColumnElement[bool]:
    """True where a check of the agreement is due (due date reached) but not yet overdue."""
    day = literal(today)
    return exists().where(ComplianceCheck.agreement_id == agreement_id,
                          ComplianceCheck.stage != DONE,
                          ComplianceCheck.due_on <= day,
                          ComplianceCheck.deadline >= day)
