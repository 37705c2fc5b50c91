"""THE rule of a valid declaration is one rule: its SQL (declarations.models.valid_on, read by
the state, the lists and the figures) and its Python form for a loaded row agree."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from clause_tracker.declarations.models import Declaration, valid_on
from clause_tracker.extensions import db
from tests.factories import add_declaration

DAY = date(2026, 6, 15)


@pytest.mark.parametrize(("state", "valid_until", "valid"), [
    ("accepted", None, True),
    ("accepted", DAY, True),            # valid through its last day
    ("accepted", date(2026, 6, 14), False),
    ("cleared", date(2027, 1, 1), True),  # cleared after an investigation
    ("received", None, False),          # in hand, not yet accepted
    ("suspended", date(2027, 1, 1), False),
    ("expired", None, False),
])
def test_sql_and_python_agree(make_agreement, state: str, valid_until: date | None,
                              valid: bool) -> None:
    decl = add_declaration(make_agreement(), state, valid_until=valid_until)
    in_sql = db.session.scalar(select(valid_on(DAY)).where(Declaration.id == decl.id))
    assert (bool(in_sql), decl.is_valid_on(DAY)) == (valid, valid)
