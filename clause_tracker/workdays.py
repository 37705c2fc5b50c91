"""Deadlines in working days: Monday to Friday, without the public holidays of Thuringia.

A German authority counts a deadline in working days this way. Jena's calendar is
Thuringia's: Weltkindertag (20 September) is a holiday there alone, Reformationstag
(31 October) there and in eight other states. The `holidays` package keeps the calendar,
Easter's moving feasts included.
"""

from __future__ import annotations

from datetime import date

import holidays

DEFAULT_DECLARATION_DAYS = 5
SUBDIVISION = "TH"  # Thuringia


def _calendar(start: date) -> holidays.HolidayBase:
    """Thuringia's holidays, filled for the start's year and the next.

    A new calendar per use: a shared one fills further years lazily on first lookup,
    and a concurrent lookup may see the year as known before its holidays are in.
    """
    return holidays.Germany(subdiv=SUBDIVISION, years=(start.year, start.year + 1))


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start`, which itself does not count."""
    if days < 1:
        raise ValueError(f"a deadline is at least one working day, not {days}")
    return _calendar(start).get_nth_working_day(start, days)
