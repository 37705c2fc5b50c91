"""`ComplianceColumns.state_is` (a shortcut read off the ordered rules) selects exactly the
agreements the state CASE gives that value, for every state, on the hand-built data set."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from clause_tracker.agreements.models import Agreement
from clause_tracker.compliance.state import EXEMPT, STATES, compliance_columns
from clause_tracker.extensions import db


def test_state_is_selects_what_the_case_gives(dataset) -> None:
    columns = compliance_columns(date.today())
    every = dict(db.session.execute(columns.join(
        select(Agreement.id, columns.state).select_from(Agreement))).all())
    assert EXEMPT in every.values()  # the data set exercises the shortcut's state
    for value in STATES:
        chosen = set(db.session.scalars(columns.join(
            select(Agreement.id).select_from(Agreement)).where(columns.state_is(value))))
        others = set(db.session.scalars(columns.join(
            select(Agreement.id).select_from(Agreement)).where(~columns.state_is(value))))
        assert chosen == {i for i, s in every.items() if s == value}, value
        assert others == set(every) - chosen, value


def test_exempt_is_read_off_the_first_rule(app) -> None:
    # The point of the shortcut: no CASE (and so no declaration facts) for `exempt`.
    columns = compliance_columns(date.today())
    assert "CASE" not in str(columns.state_is(EXEMPT))
    assert "CASE" in str(columns.state_is("compliant"))
