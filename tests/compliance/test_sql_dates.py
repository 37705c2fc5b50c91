"""Month and day arithmetic in SQL gives the same dates on SQLite and PostgreSQL."""

from __future__ import annotations

from calendar import monthrange
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import Date, literal, select

from clause_tracker.extensions import db
from clause_tracker.sql import add_days, add_months, days_between


def _shift(function, day: date, amount: int) -> date:
    value = db.session.scalar(select(function(literal(day, Date), literal(amount))))
    # SQLite hands a computed date back as text; the comparison is on the date.
    return value if isinstance(value, date) else date.fromisoformat(value)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),  # clamped, not rolled over to 3 March
    (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
    (date(2025, 3, 31), 1, date(2025, 4, 30)),
    (date(2025, 3, 31), -1, date(2025, 2, 28)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2024, 2, 29), 48, date(2028, 2, 29)),
    (date(2025, 1, 15), 12, date(2026, 1, 15)),
    (date(2025, 8, 31), 6, date(2026, 2, 28)),
    (date(2025, 12, 31), 2, date(2026, 2, 28)),
    (date(2025, 5, 1), 0, date(2025, 5, 1)),
])
def test_add_months_clamps_to_the_month_end(app, day: date, months: int,
                                            expected: date) -> None:
    assert _shift(add_months, day, months) == expected


def test_add_months_agrees_with_relativedelta(app) -> None:
    """The schedule and retention (in SQL) and the measures (in Python) count months alike."""
    days = [date(year, month, day) for year in (2023, 2024) for month in range(1, 13)
            for day in (1, 28, 29, 30, 31) if day <= monthrange(year, month)[1]]
    for months in (1, 6, 12, 36, 48, -1):
        shifts = [add_months(literal(day, Date), literal(months)) for day in days]
        found = db.session.execute(select(*shifts)).one()
        for day, value in zip(days, found, strict=True):
            value = value if isinstance(value, date) else date.fromisoformat(value)
            assert value == day + relativedelta(months=months), (day, months)


@pytest.mark.parametrize(("day", "days", "expected"), [
    (date(2025, 1, 31), 30, date(2025, 3, 2)),
    (date(2024, 2, 28), 1, date(2024, 2, 29)),
    (date(2025, 3, 1), -1, date(2025, 2, 28)),
])
def test_add_days(app, day: date, days: int, expected: date) -> None:
    assert _shift(add_days, day, days) == expected


@pytest.mark.parametrize(("later", "earlier", "expected"), [
    (date(2026, 3, 3), date(2025, 3, 3), 365),
    (date(2025, 3, 3), date(2024, 3, 3), 365),
    (date(2024, 3, 3), date(2023, 3, 3), 366),  # across 29 February
    (date(2025, 9, 3), date(2025, 3, 3), 184),
    (date(2025, 3, 3), date(2025, 3, 3), 0),
])
def test_days_between(app, later: date, earlier: date, expected: int) -> None:
    value = db.session.scalar(select(days_between(literal(later, Date), literal(earlier, Date))))
    assert value == expected
