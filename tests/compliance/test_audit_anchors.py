"""Issue 13, finding 15: an emptied or shortened audit trail no longer passes its check.

TRUNCATE is refused by the database (PostgreSQL; SQLite has none, its DELETE trigger
stays); the nightly check keeps anchors outside the database — in the anchor log and by
e-mail through the outbox — and every check (CLI, web page, nightly job) compares the chain
with the newest anchor."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from clause_tracker.audit import anchors
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import event_hash, record, verify_anchored, verify_chain
from clause_tracker.checks import notifications, sweep
from clause_tracker.checks.outbox import SENT, OutboxMessage
from clause_tracker.extensions import db
from clause_tracker.jobs.anchoring import nightly_check
from tests.helpers import german

LINE = re.compile(r"\A\d+:[0-9a-f]{64}\Z")


def _events(n: int = 5) -> None:
    for i in range(n):
        record("test.event", "Thing", i, f"event {i}", {"n": i})
    db.session.commit()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _behind_the_apps_back(*statements: str | tuple[str, dict[str, object]]) -> None:
    """An intruder with the database owner's rights: the guards lifted, the trail changed."""
    postgres = db.engine.dialect.name == "postgresql"
    db.session.commit()
    with db.engine.begin() as conn:
        if postgres:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            sql, params = (statement, {}) if isinstance(statement, str) else statement
            conn.execute(text(sql), params)
        if postgres:
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    db.session.expire_all()


def _empty_the_trail() -> None:
    if db.engine.dialect.name == "postgresql":
        _behind_the_apps_back("TRUNCATE audit_events")
    else:
        _behind_the_apps_back("DELETE FROM audit_events")


def _anchor_log(app) -> Path:
    return Path(app.config["AUDIT_ANCHOR_FILE"])


def test_the_database_refuses_truncate_and_delete_of_the_trail(app) -> None:
    _events(3)
    db.session.commit()
    refused = ["DELETE FROM audit_events", "DELETE FROM audit_events WHERE id >= 2",
               "UPDATE audit_events SET summary = 'x' WHERE id = 3"]
    if db.engine.dialect.name == "postgresql":
        refused += ["TRUNCATE audit_events", "TRUNCATE audit_events CASCADE"]
    for statement in refused:
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    db.session.expire_all()
    assert _count() == 3 and verify_chain().ok


def test_the_nightly_check_appends_anchors_and_mails_them(app, mail_config, runner) -> None:
    mail_config.start()
    log = _anchor_log(app)
    app.config["AUDIT_ANCHOR_FILE"] = str(log.parent / "elsewhere" / "anker.log")
    app.config["AUDIT_ANCHOR_MAIL_TO"] = ("rpa@jena.example", "archiv@jena.example")
    _events(4)
    first = nightly_check()
    assert first.result.ok and first.mailed == 2
    head = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    # The anchor is the trail's new head: the recorded result of this very check.
    assert head.action == "audit.verified" and first.anchor == f"{head.id}:{head.hash}"
    path = Path(app.config["AUDIT_ANCHOR_FILE"])
    assert path.read_text().splitlines() == [first.anchor]
    assert path.stat().st_mode & 0o777 == 0o640
    _events(2)
    out = runner.invoke(args=["scheduler", "audit"])
    assert out.exit_code == 0, out.output
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and lines[0] == first.anchor and all(LINE.match(x) for x in lines)
    assert anchors.newest() == lines[1] and int(lines[1].split(":")[0]) == _count()

    # Mailed through the outbox: one prepared message per address and day, sent like all.
    queued = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.prepared)))
    assert sorted(m.recipient for m in queued) == ["archiv@jena.example", "rpa@jena.example"]
    report = notifications.dispatch(now=datetime.utcnow() + timedelta(minutes=1))
    assert report.sent == 2
    assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {SENT}
    mail = next(m for m in mail_config.messages if m["To"] == "rpa@jena.example")
    assert "Anker des Audit-Trails" in mail["Subject"]
    assert first.anchor in mail.get_content()  # the first night's; the second is the same day
    assert notifications.dispatch(now=datetime.utcnow() + timedelta(minutes=2)).sent == 0


def test_an_emptied_trail_fails_every_check(app, client, signed_in, runner) -> None:
    _events(5)
    anchor = nightly_check().anchor
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    _empty_the_trail()
    assert _count() == 0
    # The chain alone is "intact" when there is none: the anchor says otherwise.
    assert verify_chain().ok and verify_chain().checked == 0
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1
    ident = anchor.split(":")[0]
    assert f"anchored event {ident} is gone" in out.output
    assert "ok: 0 events" not in out.output
    # Only when told to leave the log aside does the bare chain pass.
    assert runner.invoke(args=["audit", "verify", "--no-anchor-log"]).exit_code == 0

    # The nightly check records the failure, appends no anchor and says so.
    night = nightly_check()
    assert not night.result.ok and night.anchor is None
    assert anchors.newest() == anchor
    assert _anchor_log(app).read_text().splitlines() == [anchor]
    assert runner.invoke(args=["scheduler", "audit"]).exit_code == 1

    signed_in("auditor")
    german(client)
    page = client.get("/audit/verify").get_data(as_text=True)
    assert 'role="alert"' in page and f"#{ident} (Einträge fehlen)" in page


def test_deleting_the_newest_events_fails_against_the_anchor(app, runner) -> None:
    _events(6)
    anchor = nightly_check().anchor
    ident = int(anchor.split(":")[0])
    _behind_the_apps_back(("DELETE FROM audit_events WHERE id >= :id", {"id": ident - 2}))
    assert verify_chain().ok  # what is left is a valid chain …
    result = verify_anchored()
    assert not result.ok and result.problem.kind == "removed"  # … shorter than the anchor
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1 and f"anchored event {ident} is gone" in out.output


def test_a_rewritten_chain_fails_on_the_anchored_hash(app, runner) -> None:
    """The whole trail rewritten from the start and re-hashed: a valid chain of the same
    length, but its anchored event has another hash."""
    _events(4)
    anchor = nightly_check().anchor
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    statements: list[tuple[str, dict[str, object]]] = []
    prev = "0" * 64
    for event in events:
        db.session.expunge(event)
        event.summary = "forged" if event.id == 1 else event.summary
        event.prev_hash = prev
        event.hash = prev = event_hash(event)
        statements.append(("UPDATE audit_events SET summary = :summary, prev_hash = :prev, "
                           "hash = :hash WHERE id = :id",
                           {"summary": event.summary, "prev": event.prev_hash,
                            "hash": event.hash, "id": event.id}))
    # Unique hashes: move them out of the way first, then write the forged chain.
    _behind_the_apps_back("UPDATE audit_events SET hash = 'x' || id", *statements)
    assert verify_chain().ok
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1
    assert f"anchored event {anchor.split(':')[0]} has another hash" in out.output


def test_the_newest_anchor_in_the_log_counts(app, runner) -> None:
    _events(3)
    log = _anchor_log(app)
    first = nightly_check().anchor
    _events(2)
    second = nightly_check().anchor
    log.write_text(f"# Anker der Rechnungsprüfung\n{first}\nnot an anchor\n{second}\n\n")
    assert anchors.newest() == second
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "1 anchor(s) present" in ok.output
    extra = runner.invoke(args=["audit", "verify", "--anchor", first])
    assert extra.exit_code == 0 and "2 anchor(s) present" in extra.output


def test_a_prepared_message_never_swallows_the_days_reminders(app, agreement, officer,
                                                               mail_config) -> None:
    """The audit office may get reminders too: its anchor mail and its reminder message are
    two messages of the same day, each sent once."""
    mail_config.start()
    day, now = date(2025, 3, 3), datetime(2025, 3, 3, 8, 0)
    vera = officer(email="rpa@jena.example")
    agreement(start_date=date(2023, 1, 1))
    notifications.queue_prepared(vera.email, "Anker", "1:" + "a" * 64, day, now)
    db.session.commit()
    sweep.run(day)
    assert notifications.dispatch(now=now).sent == 2
    subjects = sorted(m["Subject"] for m in mail_config.messages)
    assert subjects[0] == "Anker" and "Überprüfung(en) fällig" in subjects[1]
    prepared = db.session.scalar(select(OutboxMessage).where(OutboxMessage.prepared))
    assert prepared.body == "1:" + "a" * 64 and prepared.status == SENT
    assert notifications.dispatch(now=now + timedelta(minutes=5)).sent == 0


def test_an_unreadable_anchor_log_fails_the_check(app, client, signed_in, runner) -> None:
    _events(2)
    log = _anchor_log(app)
    log.mkdir(parents=True)  # there, but no file to read
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1 and "cannot be read" in out.output
    assert not nightly_check().result.ok
    signed_in("auditor")
    response = client.get("/audit/verify")
    assert response.status_code == 200 and 'role="alert"' in response.get_data(as_text=True)
