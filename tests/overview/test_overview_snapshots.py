"""Stored overview figures: equal to a fresh computation, read only under their exact key
(scope, period, day, newest audit event), stored only when no change landed while they were
computed, and filled ahead of time by the scheduler's refresh."""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, update

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.services import (
    newest_change,
    record,
    record_verification,
    verify_chain,
)
from clause_tracker.auth.services import set_locale, sign_out
from clause_tracker.auth.visibility import unit_scope
from clause_tracker.extensions import db
from clause_tracker.overview import metrics, snapshots
from clause_tracker.overview.metrics import Period
from clause_tracker.overview.models import OverviewSnapshot

IN_SCOPE = re.compile(r'data-drill="coverage_total">([\d.]+)</a>')


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(OverviewSnapshot))


def _typed(value: object) -> object:
    """The value with the type of every part beside it: == alone takes 8 for Decimal("8.0"),
    a list for a tuple's text, a plain dict for a defaultdict (which the tables rely on)."""
    if is_dataclass(value):
        return type(value), {f.name: _typed(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return (type(value), getattr(value, "default_factory", None),
                {(type(k), k): _typed(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return type(value), [_typed(v) for v in value]
    return type(value), value


def test_encoded_figures_decode_to_equal_figures(app, dataset, make_user) -> None:
    officer = make_user("procurement_officer", "ZVS")
    for unit in (None, unit_scope(officer)):
        for period in (Period(), Period(date(2025, 1, 1), date(2025, 6, 30))):
            data = metrics.compute(unit, period, date.today())
            decoded = snapshots.decode(snapshots.encode(data))
            assert decoded == data
            assert _typed(decoded) == _typed(data)


def test_a_snapshot_is_read_under_its_key_only(client, signed_in, dataset) -> None:
    signed_in("auditor")
    assert _stored() == 0
    client.get("/overview/")
    assert _stored() == 1
    mark = newest_change()
    key = snapshots.key_of(None, Period(), date.today(), mark)
    fresh = snapshots.load(key)
    assert fresh == metrics.compute(None, Period(), date.today())

    # Proof that pages read the stored row: doctor it.
    fresh.coverage.total.in_scope = 4711
    db.session.execute(update(OverviewSnapshot).where(OverviewSnapshot.key == key)
                       .values(figures=snapshots.encode(fresh)))
    db.session.commit()
    assert "4.711" in client.get("/overview/").get_data(as_text=True)

    # Any change to the records (always with its audit event) moves the key on: the doctored
    # row is never read again and the page shows figures computed from the records.
    record("test.touch", "test", None, "a change")
    db.session.commit()
    page = client.get("/overview/").get_data(as_text=True)
    assert "4.711" not in page
    assert _stored() == 2
    assert snapshots.load(snapshots.key_of(None, Period(), date.today(),
                                           newest_change())) \
        == metrics.compute(None, Period(), date.today())


def test_figures_computed_across_a_change_are_not_stored(app, dataset, monkeypatch) -> None:
    real = metrics.compute

    def compute_with_a_write_meanwhile(*args):
        data = real(*args)
        record("test.meanwhile", "test", None, "committed while the figures were computed")
        db.session.commit()
        return data

    monkeypatch.setattr(metrics, "compute", compute_with_a_write_meanwhile)
    mark = newest_change()
    snapshots.compute(None, Period(), date.today(), mark)
    assert _stored() == 0


def test_refresh_computes_each_scope_once_per_change_and_drops_old_days(app, dataset) -> None:
    today = date.today()
    units = db.session.scalar(select(func.count(func.distinct(Agreement.org_unit_id))))
    assert units == 3
    assert snapshots.refresh(today) == 1 + units  # all units, and each unit with agreements
    assert snapshots.refresh(today) == 0  # nothing changed: nothing to compute
    record("test.touch", "test", None, "a change")
    db.session.commit()
    assert snapshots.refresh(today) == 1 + units
    later = today + timedelta(days=snapshots.KEEP_DAYS + 1)
    assert snapshots.refresh(later) == 1 + units
    days = set(db.session.scalars(select(OverviewSnapshot.day)))
    assert days == {later}


def test_scheduler_overview_command_computes_then_finds_them_stored(runner, dataset) -> None:
    first = runner.invoke(args=["scheduler", "overview"])
    assert first.exit_code == 0
    assert first.output.strip() == "overview: 4 views computed"
    again = runner.invoke(args=["scheduler", "overview"])
    assert again.output.strip() == "overview: 0 views computed"


def test_sign_ins_and_other_neutral_events_change_no_key(app, dataset, make_user, login) -> None:
    mark = newest_change()
    user = make_user("auditor")  # user.create: a change
    assert newest_change() != mark
    mark = newest_change()
    assert login(app.test_client(), user.username).status_code == 302
    assert login(app.test_client(), user.username, "wrong password").status_code == 200
    set_locale(user, "en")  # read by no figure or state
    sign_out(user, None)
    record_verification(verify_chain())
    assert newest_change() == mark
    record("test.touch", "test", None, "a change")
    db.session.commit()
    assert newest_change() != mark
