"""Deadlines in working days (Monday to Friday).

Public holidays are deliberately not counted: a deadline of a few working days that
ends on a holiday is one day short at worst, and a holiday calendar for Thuringia is
not worth its upkeep here. The officer can always set a later date by hand.
"""

from __future__ import annotations

from datetime import date, timedelta

DEFAULT_DECLARATION_DAYS = 5


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (Mon–Fri, no holiday calendar)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current
