"""Stored compliance states for the lists: equal to the live rules, read only while their
mark (day, newest record-changing audit event, rules) is current."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.services import record
from clause_tracker.clock import today
from clause_tracker.compliance import stored_states
from clause_tracker.compliance.state import compliance_columns
from clause_tracker.compliance.stored_states import StoredState, StoredStateMark
from clause_tracker.extensions import db
from tests.overview import overview_dataset


def _live(day: date) -> dict[int, tuple[str, str]]:
    columns = compliance_columns(day)
    rows = db.session.execute(columns.join(
        select(Agreement.id, columns.state, columns.reason).select_from(Agreement)))
    return {i: (s, r) for i, s, r in rows}


def _stored() -> dict[int, tuple[str, str]]:
    return {s.agreement_id: (s.state, s.reason) for s in db.session.scalars(select(StoredState))}


def test_stored_states_equal_the_rules_for_every_agreement(app, published_clauses) -> None:
    overview_dataset.build()
    day = today()
    assert not stored_states.current(day)
    assert stored_states.refresh(day)
    assert stored_states.current(day)
    live = _live(day)
    assert len({state for state, _ in live.values()}) >= 3  # a varied data set
    assert _stored() == live
    assert not stored_states.refresh(day)  # current: nothing to do


def test_lists_read_stored_states_only_while_current(app, client, signed_in,
                                                     published_clauses) -> None:
    agreements = overview_dataset.build()
    signed_in("auditor")  # a sign-in changes no record: the stored states stay current
    day = today()
    stored_states.refresh(day)
    assert stored_states.current(day)
    victim = next(a for a in agreements.values() if _live(day)[a.id][0] == "compliant")

    def listed(state: str) -> bool:
        page = client.get(f"/agreements/?compliance={state}").get_data(as_text=True)
        return f">{victim.reference}<" in page

    assert listed("compliant") and not listed("pending")
    # Proof that the list reads the stored rows: doctor one.
    db.session.execute(update(StoredState).where(StoredState.agreement_id == victim.id)
                       .values(state="pending"))
    db.session.commit()
    assert listed("pending") and not listed("compliant")
    # A change to the records moves the mark on: the list computes the states again.
    record("test.touch", "test", None, "a change")
    db.session.commit()
    assert not stored_states.current(day)
    assert listed("compliant") and not listed("pending")


def test_another_day_or_other_rules_make_stored_states_stale(app, published_clauses) -> None:
    overview_dataset.build()
    day = today()
    stored_states.refresh(day)
    assert stored_states.current(day) and not stored_states.current(day + timedelta(days=1))
    db.session.execute(update(StoredStateMark).values(rules="0" * 64))
    db.session.commit()
    assert not stored_states.current(day)
