"""The audit trail: written with the change, append-only, and tamper-evident."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import record, verify_chain
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit, UnitKind
from tests.helpers import german


def _events(n: int = 5) -> None:
    for i in range(n):
        record("test.event", "Thing", i, f"event {i}", {"n": i})
    db.session.commit()


def _raw(sql: str, **params: object) -> None:
    """Change the table behind the application's back, as an intruder with DB access would."""
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        conn.execute(text(sql), params)
        if dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def test_event_is_written_in_the_same_transaction_as_the_change(app) -> None:
    unit = OrgUnit(code="X", name="Test unit", kind=UnitKind.DEPARTMENT)
    db.session.add(unit)
    db.session.flush()
    record("orgunit.create", "OrgUnit", unit.id, "created")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert db.session.scalar(select(func.count()).select_from(OrgUnit)) == 0


def test_intact_chain_verifies(app) -> None:
    _events()
    result = verify_chain()
    assert result.ok and result.checked == 5


def test_database_refuses_update_and_delete(app) -> None:
    _events(2)
    for statement in ("UPDATE audit_events SET summary = 'x' WHERE id = 1",
                      "DELETE FROM audit_events WHERE id = 1"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))


def test_edited_event_is_named(app, runner) -> None:
    _events()
    _raw("UPDATE audit_events SET summary = 'harmless' WHERE id = 3")
    result = verify_chain()
    assert not result.ok
    assert (result.problem.event_id, result.problem.kind) == (3, "edited")
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1
    assert "event 3" in out.output


def test_removed_event_is_named(app) -> None:
    _events()
    _raw("DELETE FROM audit_events WHERE id = 2")
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (3, "removed")
    assert "event 2 missing" in problem.message


def test_reordered_events_are_named(app) -> None:
    _events()
    # Swap the contents of events 2 and 4, hashes included.
    _raw("UPDATE audit_events SET id = 100 WHERE id = 2")
    _raw("UPDATE audit_events SET id = 2 WHERE id = 4")
    _raw("UPDATE audit_events SET id = 4 WHERE id = 100")
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (2, "reordered")
    assert problem.message == "event 2 does not follow event 1 (predecessor hash differs)"


def test_rehashed_edit_is_still_detected(app) -> None:
    """An intruder who recomputes the edited row's hash breaks the link to the next one."""
    from clause_tracker.audit.services import event_hash

    _events()
    event = db.session.get(AuditEvent, 3)
    event.summary = "forged"
    forged_hash = event_hash(event)
    db.session.expunge(event)
    _raw("UPDATE audit_events SET summary = 'forged', hash = :h WHERE id = 3", h=forged_hash)
    problem = verify_chain().problem
    assert problem.event_id == 4


def test_cli_verify_ok(app, runner) -> None:
    _events(3)
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 0
    assert "3 events" in out.output


def test_auditor_browses_and_filters(client, signed_in) -> None:
    _events(3)
    signed_in("auditor")
    german(client)
    page = client.get("/audit/?action=test.event&object_id=1").get_data(as_text=True)
    assert "event 1" in page and "event 2" not in page
    assert '<p role="status">1 Eintrag</p>' in page
    page = client.get("/audit/?action=auth.login").get_data(as_text=True)
    # The event's message in the reader's language, with a link to the record.
    assert re.search(r'<td class="audit-message">Angemeldet</td>\s*'
                     r'<td class="audit-record">Benutzerkonto \d+</td>',
                     page)  # an auditor may not open user pages: no link
    assert "auth.login" not in page.split("<tbody>")[1]
    assert '<p role="status">1 Eintrag</p>' in page and "event 1" not in page


def test_auditor_sees_tampering_in_the_ui(client, signed_in) -> None:
    _events(3)
    signed_in("auditor")
    assert client.get("/audit/verify").status_code == 200
    _raw("UPDATE audit_events SET summary = 'x' WHERE id = 2")
    page = client.get("/audit/verify").get_data(as_text=True)
    assert "#2" in page


def test_bad_filter_input_is_a_message_not_an_error(client, signed_in) -> None:
    _events(3)
    signed_in("auditor")
    german(client)
    response = client.get("/audit/?since=not-a-date&page=abc")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The bad date is named at its field and kept for correction; the list is unfiltered
    # (every event: the three, the auditor's creation and sign-in) and the bad page number
    # means the first page.
    assert re.search(r'<input id="since" [^>]*type="text" value="not-a-date">\s*'
                     r'<p class="error-message">[^<]+</p>', page)
    assert page.count('class="error-message"') == 1
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert events == 5 and f'<p role="status">{events} Einträge</p>' in page
    assert "event 0" in page and "event 2" in page and "Traceback" not in page


def test_anchor_detects_a_cut_off_tail(app, runner) -> None:
    _events(5)
    anchor = runner.invoke(args=["audit", "head"]).output.strip()
    assert anchor.startswith("5:")
    ok = runner.invoke(args=["audit", "verify", "--anchor", anchor])
    assert ok.exit_code == 0 and "1 anchor(s) present" in ok.output
    # Removing the newest events leaves a chain that is intact in itself ...
    _raw("DELETE FROM audit_events WHERE id >= 4")
    assert verify_chain().ok
    # ... but not the anchor noted before.
    cut = runner.invoke(args=["audit", "verify", "--anchor", anchor])
    assert cut.exit_code == 1 and "event 5 is gone" in cut.output
    bad = runner.invoke(args=["audit", "verify", "--anchor", "5:abc"])
    assert bad.exit_code == 2


def test_recorded_checks_show_on_the_audit_page(client, signed_in, runner) -> None:
    """`audit verify --record` (the scheduler's nightly job) writes the result into the
    trail; the viewer shows the newest one — intact, then tampered — without walking the
    chain itself."""
    _events(3)
    signed_in("auditor")
    assert "Noch nicht geprüft" in client.get("/audit/").get_data(as_text=True)
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    out = runner.invoke(args=["audit", "verify", "--record"])
    assert out.exit_code == 0
    page = client.get("/audit/").get_data(as_text=True)
    assert re.search(rf'class="status status-ok"[^<]*intakt, {events} Einträge', page)

    _raw("UPDATE audit_events SET summary = 'x' WHERE id = 2")
    out = runner.invoke(args=["audit", "verify", "--record"])
    assert out.exit_code == 1
    page = client.get("/audit/").get_data(as_text=True)
    assert 'role="alert"' in page and "#2 (nach dem Schreiben geändert)" in page
    newest = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert newest.action == "audit.verified" and newest.actor_name == "system"


def test_a_changed_flag_is_named(app) -> None:
    """changes_records decides what newest_change() sees: the hash covers it."""
    _events(3)
    _raw("UPDATE audit_events SET changes_records = false WHERE id = 2")
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (2, "edited")


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    """A database of its own, for migrating one step at a time."""
    server = os.environ.get("CLAUSE_TRACKER_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"clause_tracker_migration_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_events_before_the_flag_verify_and_keep_their_meaning(app_config, scratch_url) -> None:
    """Migration 0009 on a trail written without changes_records: sign-ins and recorded
    checks become neutral, everything else a change; the old hashes still verify, events
    appended afterwards cover the flag, and an old event's flag cannot be changed unseen."""
    from flask_migrate import downgrade, upgrade

    from clause_tracker import create_app
    from clause_tracker.audit.services import (
        GENESIS,
        TIMESTAMP_FORMAT,
        content_hash,
        newest_change,
    )

    old = create_app(app_config | {"SQLALCHEMY_DATABASE_URI": scratch_url})
    with old.app_context():
        upgrade(revision="0008_stored_states")
        prev, at = GENESIS, datetime(2026, 1, 5, 8, 30)
        actions = ["user.create", "agreement.create", "auth.login", "audit.verified",
                   "agreement.update", "auth.logout", "auth.login_failed"]
        with db.engine.begin() as conn:
            for ident, action in enumerate(actions, start=1):
                row = {"id": ident, "occurred_at": at, "actor_id": None, "actor_name": "old",
                       "actor_role": "system", "action": action, "object_type": "Thing",
                       "object_id": str(ident), "summary": action, "details": "{}",
                       "prev_hash": prev}
                # As the code before revision 0009 hashed: without the flag.
                row["hash"] = prev = content_hash(
                    [ident, at.strftime(TIMESTAMP_FORMAT), None, "old", "system", action,
                     "Thing", str(ident), action, "{}", row["prev_hash"]])
                conn.execute(text(
                    "INSERT INTO audit_events (id, occurred_at, actor_id, actor_name, "
                    "actor_role, action, object_type, object_id, summary, details, prev_hash, "
                    "hash) VALUES (:id, :occurred_at, :actor_id, :actor_name, :actor_role, "
                    ":action, :object_type, :object_id, :summary, :details, :prev_hash, "
                    ":hash)"), row)
        db.engine.dispose()

    app = create_app(app_config | {"SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        upgrade()
        flags = dict(db.session.execute(select(AuditEvent.action, AuditEvent.changes_records))
                     .tuples().all())
        assert flags == {"user.create": True, "agreement.create": True, "auth.login": False,
                         "audit.verified": False, "agreement.update": True,
                         "auth.logout": False, "auth.login_failed": False}
        assert newest_change()[0] == 5  # agreement.update; the sign-out after it is neutral
        assert verify_chain().ok
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_events WHERE id = 1"))

        record("auth.login", "User", 1, "new sign-in", changes_records=False)
        record("agreement.update", "Agreement", 1, "new change")
        db.session.commit()
        assert newest_change()[0] == 9
        result = verify_chain()
        assert result.ok and result.checked == 9

        _raw("UPDATE audit_events SET changes_records = true WHERE id = 6")  # an old sign-out
        assert (verify_chain().problem.event_id, verify_chain().problem.kind) == (6, "edited")
        _raw("UPDATE audit_events SET changes_records = true WHERE id = 8")  # a new sign-in
        _raw("UPDATE audit_events SET changes_records = false WHERE id = 6")
        assert (verify_chain().problem.event_id, verify_chain().problem.kind) == (8, "edited")
        _raw("UPDATE audit_events SET changes_records = false WHERE id = 8")
        assert verify_chain().ok

        db.session.remove()
        downgrade(revision="0008_stored_states")
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET summary = 'x' WHERE id = 1"))
        upgrade()
        db.session.remove()
        db.engine.dispose()
