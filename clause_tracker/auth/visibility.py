"""Whose records a user sees: the one rule every list, page and figure applies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import QueryableAttribute

from clause_tracker.auth.models import User
from clause_tracker.permissions import Permission

NO_UNIT = 0  # the scope of an account without a unit: no record (unit ids start at 1)


def unit_scope(user: User | None) -> int | None:
    """None for all units (auditors, administrators, the command line), else the id of the
    user's own unit."""
    if user is None or user.can(Permission.ALL_UNITS):
        return None
    return user.org_unit_id or NO_UNIT


def in_view(user: User | None,
            unit_column: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[bool]:
    """SQL: the row's unit (`unit_column`) is one the user sees."""
    unit = unit_scope(user)
    return true() if unit is None else unit_column == unit
