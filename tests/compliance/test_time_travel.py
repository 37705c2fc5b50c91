"""Two years of schedule, one Monday sweep after another, with the clock moved by
time-machine: interval checks (one of them at a month end), a contract whose renewal option
is exercised, two declarations expiring through the transition table, a subcontractor, a
new funding period and a new clause version published from the texts folder. Checked:
exactly the checks expected, their due/overdue marks, reminders queued once and mailed at
most once per recipient and day, and that a second sweep on any day changes nothing."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from clause_tracker.agreements import services as agreements
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import verify_chain
from clause_tracker.checks import models as m
from clause_tracker.checks import notifications, services, sweep
from clause_tracker.checks.outbox import OutboxMessage, Reminder
from clause_tracker.clauses import services as clauses
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.declarations.models import Declaration
from clause_tracker.extensions import db
from tests.factories import add_declaration

REPO_TEXTS = Path(__file__).resolve().parents[2] / "clause_texts"
FIRST, LAST = date(2026, 1, 5), date(2028, 1, 3)  # Mondays, two years apart
VERA, GRANTS = "vera@jena.example", "grants@jena.example"
HEAD, OFFICE = "head.zvs@jena.example", "bmi@jena.example"


def _publish_new_clause_version(texts: Path) -> None:
    """procurement 1.1 (de), valid from 1 June 2026, as an editor would add it."""
    old = (texts / "procurement" / "1.0.de.md").read_text(encoding="utf-8")
    new = old.replace('version = "1.0"', 'version = "1.1"', 1)
    new = new.replace("valid_from = 2026-01-01", "valid_from = 2026-06-01", 1)
    assert new != old
    (texts / "procurement" / "1.1.de.md").write_text(new + "\nEin klarstellender Absatz.\n",
                                                     encoding="utf-8")
    assert clauses.sync(texts).added == ["procurement 1.1 (de)"]


def _snapshot() -> tuple:
    """Everything a sweep could change."""
    return (
        sorted(db.session.execute(select(m.ComplianceCheck.id, m.ComplianceCheck.stage,
                                         m.ComplianceCheck.version_id)).all()),
        sorted(db.session.execute(select(Reminder.check_id, Reminder.kind,
                                         Reminder.recipient)).all()),
        sorted(db.session.execute(select(Declaration.id, Declaration.state)).all()),
        db.session.scalar(select(func.count(AuditEvent.id))),
    )


def test_two_years_of_schedule(app, agreement, officer, mail_config, tmp_path) -> None:
    app.config.update(
        COMPLIANCE_INTERVALS=("KIJ:contract=6",),
        COMPLIANCE_RESIGN_POLICY=("procurement=all", "grant=renewal"),
        COMPLIANCE_UNIT_HEADS=(f"ZVS={HEAD}",), COMPLIANCE_ESCALATION_EMAILS=(OFFICE,))
    mail_config.start()
    texts = tmp_path / "clause_texts"
    shutil.copytree(REPO_TEXTS, texts)
    app.config["CLAUSE_TEXTS_DIR"] = str(texts)
    clauses.sync(texts)
    version = {v.variant: v.id for v in db.session.scalars(
        select(ClauseVersion).where(ClauseVersion.language == "de"))}

    vera = officer("procurement_officer", "ZVS", email=VERA)
    grants = officer("grant_manager", "FDJB", email=GRANTS)
    # C1: a contract with renewal options; its declaration runs out on 30 September 2026.
    c1 = agreement(reference="C1", start_date=date(2025, 2, 10), end_date=date(2026, 12, 31),
                   renewal_options="2 × 1 Jahr", clause_version_id=version["procurement"])
    d1 = add_declaration(c1, "accepted", valid_until=date(2026, 9, 30))
    # K1: checked every 6 months, started on 31 August: the first check falls on
    # 28 February (the month's last day), on both databases.
    k1 = agreement(reference="K1", code="KIJ", start_date=date(2025, 8, 31),
                   end_date=date(2028, 6, 30), clause_version_id=version["procurement"])
    # G1 continues G0 (same grantee and programme): a new funding period from 2 March 2026.
    agreement(reference="G0", kind="grant", code="FDJB", status="ended",
              programme="Demokratie leben", start_date=date(2024, 3, 1),
              end_date=date(2026, 2, 28), clause_version_id=version["grant"])
    g1 = agreement(reference="G1", kind="grant", code="FDJB", programme="Demokratie leben",
                   start_date=date(2026, 3, 2), end_date=date(2027, 12, 31),
                   clause_version_id=version["grant"])
    add_declaration(g1, "accepted", valid_until=date(2028, 12, 31))
    agreement(reference="D1", status="draft")  # not monitored: never a check

    worker = {c1.id: vera, k1.id: vera, g1.id: grants}
    # Nobody handles these two until they are overdue (and escalated).
    neglected = {("K1", "interval", "2026-02-28"),
                 ("C1", "declaration_expiry", f"declaration:{d1.id}")}
    stages: dict[tuple[date, str, str, str], str] = {}
    mails: dict[date, list[str]] = {}
    d2_id = s1_id = None

    day = FIRST
    while day <= LAST:
        with time_machine.travel(datetime(day.year, day.month, day.day, 6, 0), tick=False):
            # --- what happens in the week before the sweep -------------------------------
            if day == date(2026, 5, 11):
                _publish_new_clause_version(texts)
            if day == date(2026, 11, 16):
                # The option is exercised (the term moves by a year) and a new declaration
                # is in hand, valid until mid-2027.
                db.session.refresh(c1)
                agreements.update(c1, {"end_date": date(2027, 12, 31)}, c1.version_id, vera)
                d2_id = add_declaration(c1, "accepted", valid_until=date(2027, 6, 30)).id
            if day == date(2027, 4, 19):
                s1_id = add_declaration(c1, "requested", party="subcontractor",
                                    requested_on=date(2027, 4, 14), deadline=date(2027, 4, 28)).id

            # --- the sweep, then the same sweep again: the second changes nothing ----------
            first = sweep.run()  # today from the (travelled) clock
            assert first.run_on == day
            before = _snapshot()
            again = sweep.run(day)
            assert again.total == 0, (day, again.counts)
            assert _snapshot() == before, day

            # --- the mail goes out: at most one message per recipient and day -------------
            sent_before = len(mail_config.messages)
            notifications.dispatch()
            notifications.dispatch()  # a second dispatcher run sends nothing more
            todays = [msg["To"] for msg in mail_config.messages[sent_before:]]
            assert len(todays) == len(set(todays)), (day, todays)
            if todays:
                mails[day] = sorted(todays)

            # --- the officers work: every check a week after it fell due, except the
            # neglected ones, which are done once they are overdue --------------------------
            for check in db.session.scalars(select(m.ComplianceCheck).where(
                    m.ComplianceCheck.stage.in_(m.OPEN_STAGES))):
                key = (check.agreement.reference, check.trigger, check.occasion)
                stages[(day, *key)] = check.stage
                late = key in neglected
                if (check.stage == m.OVERDUE if late else
                        check.stage == m.DUE and check.due_on <= day - timedelta(days=7)):
                    services.record_outcome(check, m.COMPLIANT, "", "",
                                            worker[check.agreement_id], check.version_id, day)
        day += timedelta(days=7)

    # --- exactly these checks, and where each stands --------------------------------------
    rows = db.session.execute(
        select(m.ComplianceCheck).order_by(m.ComplianceCheck.id)).scalars().all()
    got = sorted((c.agreement.reference, c.trigger, c.occasion, c.due_on, c.deadline, c.stage)
                 for c in rows)
    d = date
    expected = sorted([
        ("C1", "interval", "2026-02-10", d(2026, 2, 10), d(2026, 3, 12), "done"),
        ("C1", "interval", "2027-02-10", d(2027, 2, 10), d(2027, 3, 12), "done"),
        ("C1", "interval", "2028-02-10", d(2028, 2, 10), d(2028, 3, 11), "scheduled"),
        ("C1", "clause_change", "clause:2026-06-01", d(2026, 6, 1), d(2026, 7, 1), "done"),
        ("C1", "declaration_expiry", f"declaration:{d1.id}", d(2026, 10, 5), d(2026, 11, 4),
         "done"),
        ("C1", "renewal", "end:2026-12-31", d(2026, 10, 5), d(2026, 11, 4), "done"),
        ("C1", "subcontractor", f"subcontractor:{s1_id}", d(2027, 4, 19), d(2027, 5, 19),
         "done"),
        ("C1", "declaration_expiry", f"declaration:{d2_id}", d(2027, 7, 5), d(2027, 8, 4),
         "done"),
        ("C1", "renewal", "end:2027-12-31", d(2027, 10, 4), d(2027, 11, 3), "done"),
        ("K1", "interval", "2026-02-28", d(2026, 2, 28), d(2026, 3, 30), "done"),
        ("K1", "interval", "2026-08-28", d(2026, 8, 28), d(2026, 9, 27), "done"),
        ("K1", "interval", "2027-02-28", d(2027, 2, 28), d(2027, 3, 30), "done"),
        ("K1", "interval", "2027-08-28", d(2027, 8, 28), d(2027, 9, 27), "done"),
        ("K1", "interval", "2028-02-28", d(2028, 2, 28), d(2028, 3, 29), "scheduled"),
        ("K1", "clause_change", "clause:2026-06-01", d(2026, 6, 1), d(2026, 7, 1), "done"),
        ("G1", "interval", "2027-03-02", d(2027, 3, 2), d(2027, 4, 1), "done"),
        ("G1", "interval", "2028-03-02", d(2028, 3, 2), d(2028, 4, 1), "scheduled"),
        ("G1", "funding_period", "period:2026-03-02", d(2026, 3, 2), d(2026, 4, 1), "done"),
    ])
    assert got == expected

    # --- due and overdue marks on the sweep days --------------------------------------
    c1_first = ("C1", "interval", "2026-02-10")
    assert stages[(d(2026, 2, 9), *c1_first)] == "scheduled"
    assert stages[(d(2026, 2, 16), *c1_first)] == "due"
    k1_first = ("K1", "interval", "2026-02-28")
    assert stages[(d(2026, 2, 23), *k1_first)] == "scheduled"
    assert stages[(d(2026, 3, 30), *k1_first)] == "due"  # deadline day: not yet overdue
    assert stages[(d(2026, 4, 6), *k1_first)] == "overdue"
    d1_check = ("C1", "declaration_expiry", f"declaration:{d1.id}")
    assert stages[(d(2026, 11, 2), *d1_check)] == "due"
    assert stages[(d(2026, 11, 9), *d1_check)] == "overdue"

    # --- the declarations expired through the transition table, each audited once ------
    assert db.session.get(Declaration, d1.id).state == "expired"
    assert db.session.get(Declaration, d2_id).state == "expired"
    expiries = db.session.execute(select(AuditEvent.object_id, AuditEvent.occurred_at).where(
        AuditEvent.action == "declaration.expire").order_by(AuditEvent.id)).all()
    assert [(int(oid), at.date()) for oid, at in expiries] == [
        (d1.id, d(2026, 10, 5)), (d2_id, d(2027, 7, 5))]
    assert verify_chain().ok

    # --- reminders: queued once per check, kind and recipient ---------------------------
    reminders = Counter(db.session.execute(
        select(Reminder.kind, Reminder.recipient)).tuples().all())
    assert reminders == Counter({("due", VERA): 8, ("overdue", VERA): 1, ("due", GRANTS): 2,
                                 ("escalation", HEAD): 1, ("escalation", OFFICE): 2})
    assert db.session.scalar(select(func.count()).where(Reminder.message_id.is_(None))) == 0
    assert set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}
    # ... and mailed on these days, one message per recipient and day (two reminders of
    # 5 October 2026 went to Vera in one message).
    assert mails == {
        d(2026, 2, 16): [VERA],
        d(2026, 3, 2): [GRANTS],
        d(2026, 4, 6): [OFFICE],
        d(2026, 6, 1): [VERA],
        d(2026, 10, 5): [VERA],
        d(2026, 11, 9): [OFFICE, HEAD, VERA],
        d(2027, 2, 15): [VERA],
        d(2027, 3, 8): [GRANTS],
        d(2027, 4, 19): [VERA],
        d(2027, 7, 5): [VERA],
        d(2027, 10, 4): [VERA],
    }
    october = next(msg for msg in mail_config.messages
                   if msg["To"] == VERA and "C1" in msg.get_content()
                   and msg["Message-ID"].endswith("20261005@clause-tracker.jena>"))
    assert october.get_content().count("C1") >= 2
