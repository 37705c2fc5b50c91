"""A database connection terminated (pg_terminate_backend) at the worst moments of a save:
right after its COMMIT, before it, and while the request's session ends. What the user is
told must match what the database holds, and no answer is a bare 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask, has_request_context
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.orm import Session

from clause_tracker.audit.models import AuditEvent
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.extensions import db
from tests.helpers import german, hidden_fields

pytestmark = pytest.mark.faults

SAVED = "Die Änderungen wurden gespeichert."


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    # No ping before each checkout: the test terminates a connection *after* it was checked
    # out, as a termination between the ping and the next statement would in production.
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": False}
    return app_config


@pytest.fixture
def probe(app: Flask) -> Iterator[Session]:
    """A session of its own, for what the test reads (the app's pool holds connections the
    test terminated)."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_pre_ping=True)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def terminate(app: Flask) -> Iterator[Callable[[int], None]]:
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")

    def kill(pid: int) -> None:
        with admin.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.execute(text("SELECT pg_sleep(0.05)"))

    yield kill
    admin.dispose()


def _backend_pid(session: Session) -> int:
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    return dbapi.info.backend_pid  # type: ignore[attr-defined]  # psycopg 3


@pytest.fixture
def editing(app, client, signed_in, counterparty):
    signed_in("procurement_officer")
    german(client)
    path = f"/counterparties/{counterparty.id}/edit"
    return path, hidden_fields(client, path)


def _in_request_sessions(hook: str, action: Callable[[Session], None]) -> Callable[[], None]:
    """Call `action` at the session event `hook` of the next write of a request."""
    fired: list[bool] = []

    def listener(session: Session, *args: object) -> None:
        if not fired and session.info.get("clause_tracker.unit_of_work_depth"):
            fired.append(True)
            action(session)

    event.listen(Session, hook, listener)
    return lambda: event.remove(Session, hook, listener)


def _saved_name(probe: Session, counterparty_id: int) -> str:
    probe.rollback()
    return probe.scalar(select(Counterparty.name).where(Counterparty.id == counterparty_id))


def _events(probe: Session) -> int:
    return probe.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "counterparty.update")) or 0


def test_connection_lost_right_after_commit_is_told_as_saved(app, client, editing, counterparty,
                                                            terminate, probe) -> None:
    path, form = editing
    pids: list[int] = []
    undo_pid = _in_request_sessions("before_commit", lambda s: pids.append(_backend_pid(s)))
    undo_kill = _in_request_sessions("after_commit", lambda s: terminate(pids[-1]))
    try:
        answer = client.post(path, data={**form, "name": "Gespeichert GmbH"})
    finally:
        undo_pid()
        undo_kill()
    assert pids, "the save never reached its commit"
    assert answer.status_code == 302, answer.get_data(as_text=True)[-2000:]
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert SAVED in shown and "Gespeichert GmbH" in shown
    assert _saved_name(probe, counterparty.id) == "Gespeichert GmbH"
    assert _events(probe) == 1


def test_connection_lost_before_commit_is_told_as_not_saved(app, client, editing, counterparty,
                                                            terminate, probe) -> None:
    path, form = editing
    undo = _in_request_sessions("before_commit", lambda s: terminate(_backend_pid(s)))
    try:
        answer = client.post(path, data={**form, "name": "Verloren GmbH"})
    finally:
        undo()
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert "Nichts wurde gespeichert" in page and "<nav" in page  # the full error page
    assert _saved_name(probe, counterparty.id) == "Muster Bau GmbH"
    assert _events(probe) == 0
    again = client.post(path, data={**form, "name": "Nochmal GmbH"})  # a new connection
    assert again.status_code == 302
    assert _saved_name(probe, counterparty.id) == "Nochmal GmbH"


def test_connection_lost_at_the_end_of_a_page_view_gives_the_page(app, client, signed_in,
                                                                  counterparty,
                                                                  terminate) -> None:
    """The connection dies after the page was rendered, before the session's rollback at
    the end of the request: the page is still answered (not a bare 500)."""
    armed: list[bool] = []

    @app.after_request
    def kill_connection(response):
        if armed and db.session().in_transaction():
            armed.clear()
            terminate(_backend_pid(db.session()))
        return response

    signed_in("procurement_officer")
    german(client)
    armed.append(True)
    answer = client.get(f"/counterparties/{counterparty.id}")
    assert answer.status_code == 200
    assert "Muster Bau GmbH" in answer.get_data(as_text=True)
    assert client.get(f"/counterparties/{counterparty.id}").status_code == 200


def test_a_read_whose_connection_is_lost_is_read_again(app, client, signed_in, counterparty,
                                                       terminate) -> None:
    signed_in("procurement_officer")
    german(client)
    path = f"/counterparties/{counterparty.id}"
    killed: list[int] = []

    def kill_first(conn, cursor, statement, *args) -> None:
        if not killed and has_request_context() and "FROM counterparties" in statement:
            killed.append(conn.connection.dbapi_connection.info.backend_pid)
            terminate(killed[-1])

    event.listen(db.engine, "before_cursor_execute", kill_first)
    try:
        answer = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", kill_first)
    assert killed
    assert answer.status_code == 200
    assert "Muster Bau GmbH" in answer.get_data(as_text=True)
