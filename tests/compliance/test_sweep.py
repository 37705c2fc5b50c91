"""The sweep: set-based, idempotent, every trigger, due and overdue, reminders once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from clause_tracker.audit.models import AuditEvent
from clause_tracker.checks import models as m
from clause_tracker.checks import sweep
from clause_tracker.checks.outbox import Reminder
from clause_tracker.extensions import db
from tests.factories import add_declaration
from tests.helpers import checks_of

DAY = date(2025, 3, 3)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_interval_checks_for_monitored_agreements_only(app, agreement) -> None:
    active = agreement(start_date=date(2023, 6, 1))
    fresh = agreement(start_date=date(2025, 2, 1))
    agreement(status="draft")
    agreement(status="ended")
    report = sweep.run(DAY)
    assert report.counts["schedule_interval"] == 2
    (old,) = checks_of(active.id)
    # First met after its interval has passed: due today, not a year ago.
    assert (old.trigger, old.due_on, old.stage) == ("interval", DAY, "due")
    assert old.deadline == DAY + timedelta(days=30)
    (new,) = checks_of(fresh.id)
    assert (new.due_on, new.stage) == (date(2026, 2, 1), "scheduled")


def test_first_routine_checks_are_spread_over_the_coming_interval(app, agreement,
                                                                  officer) -> None:
    """COMPLIANCE_SPREAD_FIRST_CHECKS (the default; off in these tests' config): agreements
    never checked whose interval has passed are given `id mod (days of the interval)` days
    from today, so each is checked within one interval and few fall due on one day. An
    agreement checked before whose next check has passed is still due today."""
    app.config.update(COMPLIANCE_SPREAD_FIRST_CHECKS=True, COMPLIANCE_INTERVALS=("KIJ:*=6",))
    vera = officer(email="vera@jena.example")
    old = [agreement(start_date=date(2022, 1, 1), commit=False) for _ in range(40)]
    kij = agreement(code="KIJ", start_date=date(2022, 1, 1))
    fresh = agreement(start_date=date(2025, 2, 1))
    checked = agreement(start_date=date(2022, 1, 1))
    db.session.add(m.ComplianceCheck(
        agreement_id=checked.id, trigger="interval", occasion="2023-01-01",
        due_on=date(2023, 1, 1), deadline=date(2023, 1, 31), stage="done",
        created_at=datetime(2023, 1, 1)))
    db.session.commit()
    sweep.run(DAY)

    year = (date(2026, 3, 3) - DAY).days  # 365: DAY plus 12 months
    due = {a.id: checks_of(a.id)[0].due_on for a in old}
    assert due == {a.id: DAY + timedelta(days=a.id % year) for a in old}
    assert len(set(due.values())) == 40  # forty agreements, forty days
    half_year = (date(2025, 9, 3) - DAY).days
    assert checks_of(kij.id)[0].due_on == DAY + timedelta(days=kij.id % half_year)
    assert checks_of(fresh.id)[0].due_on == date(2026, 2, 1)  # not passed: as planned
    assert checks_of(checked.id)[-1].due_on == DAY  # checked before: due at once
    reminded = set(db.session.scalars(select(m.ComplianceCheck.agreement_id).join(
        Reminder, Reminder.check_id == m.ComplianceCheck.id)))
    assert reminded == {a.id for a in (*old, kij, checked) if checks_of(a.id)[-1].due_on == DAY}
    assert sweep.run(DAY).total == 0

    # On its day a spread check falls due like any other, with its reminder.
    later = old[5]
    report = sweep.run(due[later.id])
    assert report.counts["mark_due"] >= 1
    assert checks_of(later.id)[0].stage == "due"
    assert db.session.scalar(select(func.count()).select_from(Reminder).join(
        m.ComplianceCheck, m.ComplianceCheck.id == Reminder.check_id).where(
        m.ComplianceCheck.agreement_id == later.id, Reminder.recipient == vera.email)) == 1


def test_sweep_twice_changes_nothing_more(app, agreement, officer) -> None:
    officer()
    for _ in range(5):
        agreement(start_date=date(2023, 1, 1))
    first = sweep.run(DAY)
    checks, reminders = _count(m.ComplianceCheck), _count(Reminder)
    assert first.total > 0 and checks == 5 and reminders == 5
    second = sweep.run(DAY)
    assert second.total == 0
    assert (_count(m.ComplianceCheck), _count(Reminder)) == (checks, reminders)


def test_statistics_refreshed_before_the_reminders(app, agreement, officer,
                                                   monkeypatch) -> None:
    """PostgreSQL: after a step inserted many checks the sweep ANALYZEs them, so the
    reminder joins are planned with the real row count (the threshold lowered here)."""
    officer()
    for _ in range(3):
        agreement(start_date=date(2023, 1, 1))
    monkeypatch.setattr(sweep, "ANALYZE_AFTER_ROWS", 3)
    report = sweep.run(DAY)
    assert report.counts["schedule_interval"] == 3 and _count(Reminder) == 3
    if db.session.get_bind().dialect.name == "postgresql":
        reltuples = db.session.scalar(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'compliance_checks'"))
        assert reltuples == 3  # only ANALYZE (or VACUUM) sets it; none runs otherwise


def test_rerun_inserts_nothing_and_audits_no_step(app, agreement, officer) -> None:
    """A re-run leaves already scheduled checks out before inserting (no conflicts to
    retry) and, with nothing due, audits no step — the same facts as before."""
    officer()
    agreement(start_date=date(2023, 1, 1))
    sweep.run(DAY)
    events = _count(AuditEvent)
    second = sweep.run(DAY)
    assert second.total == 0 and set(second.counts.values()) == {0}
    assert _count(AuditEvent) == events


def test_overdue_is_escalated_once_to_officer_head_and_office(app, agreement, officer) -> None:
    app.config.update(COMPLIANCE_UNIT_HEADS=("ZVS=head.zvs@jena.example",),
                      COMPLIANCE_ESCALATION_EMAILS=("bmi@jena.example",))
    vera = officer(email="vera@jena.example")
    officer("grant_manager", "ZVS", email="grants@jena.example")  # grants only: not asked
    contract = agreement(start_date=date(2023, 1, 1))
    sweep.run(DAY)
    later = DAY + timedelta(days=31)
    sweep.run(later)
    sweep.run(later)
    (check,) = checks_of(contract.id)
    assert check.stage == "overdue"
    rows = sorted(db.session.execute(select(Reminder.kind, Reminder.recipient)).all())
    assert rows == [("due", vera.email), ("escalation", "bmi@jena.example"),
                    ("escalation", "head.zvs@jena.example"), ("overdue", vera.email)]


def test_unit_and_kind_intervals(app, agreement) -> None:
    app.config["COMPLIANCE_INTERVALS"] = ("KIJ:contract=6", "*:grant=24")
    kij = agreement(code="KIJ", start_date=date(2025, 1, 10))
    grant = agreement(kind="grant", code="FDJB", start_date=date(2025, 1, 10))
    zvs = agreement(start_date=date(2025, 1, 10))
    sweep.run(DAY)
    assert checks_of(kij.id)[0].due_on == date(2025, 7, 10)
    assert checks_of(grant.id)[0].due_on == date(2027, 1, 10)
    assert checks_of(zvs.id)[0].due_on == date(2026, 1, 10)


def test_declaration_expires_through_the_lifecycle_and_opens_a_check(app, agreement) -> None:
    contract = agreement(start_date=date(2025, 1, 1))
    decl = add_declaration(contract, "accepted", valid_until=date(2025, 3, 1))
    sweep.run(DAY)
    db.session.refresh(decl)
    assert decl.state == "expired"
    assert {c.trigger for c in checks_of(contract.id)} == {"interval", "declaration_expiry"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "declaration.expire"))
    assert event.object_id == str(decl.id)
    sweep.run(DAY)
    assert _count(AuditEvent.__table__) == db.session.scalar(select(func.count(AuditEvent.id)))
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "declaration.expire")) == 1


def test_many_expiries_are_audited_each_in_an_intact_chain(app, agreement) -> None:
    from clause_tracker.audit.services import verify_chain

    contracts = [agreement(commit=False) for _ in range(30)]
    db.session.commit()
    for contract in contracts:
        add_declaration(contract, "accepted", valid_until=date(2025, 3, 1))
    assert sweep.run(DAY).counts["expire_declarations"] == 30
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "declaration.expire")) == 30
    assert verify_chain().ok


def test_renewal_subcontractor_funding_period(app, agreement) -> None:
    option = agreement(renewal_options="2 × 1 Jahr", end_date=DAY + timedelta(days=60))
    plain = agreement(end_date=DAY + timedelta(days=60))
    sub = agreement()
    add_declaration(sub, "requested", party="subcontractor", requested_on=DAY - timedelta(days=3))
    add_declaration(sub, "requested", party="subcontractor", requested_on=DAY - timedelta(days=300))
    first = agreement(kind="grant", code="FDJB", programme="Demokratie",
                      start_date=date(2024, 1, 1))
    follow = agreement(kind="grant", code="FDJB", programme="Demokratie",
                       start_date=DAY - timedelta(days=5))
    sweep.run(DAY)
    triggers = lambda a: sorted(c.trigger for c in checks_of(a.id))  # noqa: E731
    assert triggers(option) == ["interval", "renewal"]
    assert triggers(plain) == ["interval"]
    assert triggers(sub) == ["interval", "subcontractor"]
    assert triggers(first) == ["interval"]
    assert triggers(follow) == ["funding_period", "interval"]
    # The option is exercised: the term moves, a new occasion at the next term's end.
    option.end_date = DAY + timedelta(days=400)
    db.session.commit()
    sweep.run(DAY + timedelta(days=340))
    assert triggers(option) == ["interval", "renewal", "renewal"]


def test_random_sample_is_reproducible_from_its_recorded_seed(app, agreement) -> None:
    from clause_tracker.checks.triggers import sampled_ids

    app.config["COMPLIANCE_SAMPLE_SHARE"] = "0.3"
    for _ in range(60):
        agreement(commit=False)
    db.session.commit()
    sweep.run(DAY)
    draw = db.session.scalar(select(m.SampleDraw))
    assert draw.period == "2025-03"
    sampled = set(db.session.scalars(select(m.ComplianceCheck.agreement_id).where(
        m.ComplianceCheck.trigger == "sample")))
    assert 5 < len(sampled) < 35
    assert sampled == set(db.session.scalars(sampled_ids(draw.seed, float(draw.share))))
    sweep.run(DAY + timedelta(days=1))  # same month: the same draw, nothing new
    assert db.session.scalar(select(func.count()).where(
        m.ComplianceCheck.trigger == "sample")) == len(sampled)


def test_clause_change_policy_all(app, agreement, published_clauses) -> None:
    from clause_tracker.clauses.models import ClauseVersion

    current = db.session.scalars(select(ClauseVersion).where(
        ClauseVersion.variant == "procurement", ClauseVersion.language == "de")
        .order_by(ClauseVersion.valid_from.desc())).first()
    contract = agreement(clause_version_id=current.id)
    newer = ClauseVersion(**{c.key: getattr(current, c.key) for c in ClauseVersion.__table__.c
                             if c.key not in ("id", "version", "valid_from")},
                          version="99.0", valid_from=current.valid_from + timedelta(days=1))
    db.session.add(newer)
    db.session.commit()
    day = newer.valid_from + timedelta(days=1)
    sweep.run(day)
    assert "clause_change" not in {c.trigger for c in checks_of(contract.id)}  # policy: renewal
    app.config["COMPLIANCE_RESIGN_POLICY"] = ("procurement=all",)
    sweep.run(day)
    sweep.run(day)
    assert [c.trigger for c in checks_of(contract.id)].count("clause_change") == 1


def test_compliance_state_reads_the_checks(app, agreement) -> None:
    from clause_tracker.compliance.state import compliance_of

    contract = agreement(start_date=date(2023, 1, 1), clause_version_id=None)
    sweep.run(DAY)
    assert compliance_of(contract.id, DAY + timedelta(days=40)).reason in (
        "no_clause", "check_overdue")


def test_an_interval_under_one_month_is_refused(app) -> None:
    """The spread divides by the interval's days: zero months is a configuration error,
    named, not a division by zero in the middle of a sweep."""
    from clause_tracker.checks.settings import settings

    app.config["COMPLIANCE_INTERVALS"] = ("KIJ:contract=0",)
    with pytest.raises(RuntimeError, match="at least one month"):
        settings()
