"""The application's clock: every "now" and "today" comes from here, so tests can travel in time
(time-machine) and every module agrees on the time zone of stored timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Naive UTC with microseconds: stored alike by SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """Today's date in UTC, the day the compliance rules and the sweep work on."""
    return utcnow().date()
