"""HOOK for compliance checks (Überprüfungen), which arrive with issue 5.

The compliance state asks these two questions of every agreement. Until scheduled and
ad-hoc checks exist, no check is ever due or overdue; issue 5 replaces the bodies with
EXISTS over its own table of due checks (one row per agreement and due date).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, false


def check_overdue(agreement_id: ColumnElement[int], today: date) -> ColumnElement[bool]:
    """True where a check of the agreement is past its due date and not done."""
    return false()


def check_due(agreement_id: ColumnElement[int], today: date) -> ColumnElement[bool]:
    """True where a check of the agreement is due (scheduled) but not yet overdue."""
    return false()
