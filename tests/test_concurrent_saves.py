"""Two people save the same record at the same moment while a third transaction holds its
row: one save goes through, the other is told of the conflict (409, what was typed still in
the form, or the message on the record's page) — never an error page.

On PostgreSQL the third transaction holds the row with SELECT … FOR UPDATE, on SQLite the
database's write lock; both requests are at their UPDATE, waiting for it, before it is let
go, so they race for certain."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.models import AuditEvent
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.extensions import db
from tests.helpers import german, hidden_fields

CONFLICT = "Jemand anderes hat diesen Vorgang geändert"


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _waiting_for_locks() -> int:
    with db.engine.connect() as conn:
        return conn.scalar(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()")) or 0


def _until(condition: Callable[[], bool], seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@contextmanager
def _row_held(table: str, row_id: int) -> Iterator[Callable[[], None]]:
    """Hold the row (PostgreSQL) or the write lock (SQLite); yields the release."""
    if _postgres():
        holder = db.engine.connect()
        holder.execute(text(f"SELECT 1 FROM {table} WHERE id = :id FOR UPDATE"),  # noqa: S608
                       {"id": row_id})
        release, close = holder.rollback, holder.close
    else:
        raw = sqlite3.connect(make_url(db.engine.url).database, isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        release, close = (lambda: raw.in_transaction and raw.rollback()), raw.close
    try:
        yield release
    finally:
        release()
        close()


@contextmanager
def _updates_of(table: str) -> Iterator[list[str]]:
    """The UPDATE statements on `table` the app has begun to execute (SQLite: there the
    write lock is taken by the first UPDATE)."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith(f"UPDATE {table.upper()} "):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _race(table: str, row_id: int, posts: list[Callable[[], Any]]) -> list[Any]:
    """Run the posts at once while the row is held; let go once both wait at their UPDATE."""
    answers: list[Any] = [None] * len(posts)

    def run(i: int) -> None:
        answers[i] = posts[i]()

    with _updates_of(table) as seen, _row_held(table, row_id) as release:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
        for thread in threads:
            thread.start()
        try:
            if _postgres():  # at the row lock: the UPDATE, or a SELECT … FOR UPDATE before it
                _until(lambda: _waiting_for_locks() >= len(posts))
            else:
                _until(lambda: len(seen) >= len(posts))
        except AssertionError:
            release()
            for thread in threads:
                thread.join(timeout=60)
            raise AssertionError([(a.status_code, a.get_data(as_text=True)[:2000])
                                  for a in answers if a is not None]) from None
        release()
        for thread in threads:
            thread.join(timeout=60)
    return answers


def _two_officers(app: Flask, login, make_user) -> list[FlaskClient]:
    user = make_user("procurement_officer")
    clients = []
    for _ in range(2):
        client = german(app.test_client())
        assert login(client, user.username).status_code == 302
        clients.append(client)
    return clients


def _events(action: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == action)) or 0


def test_concurrent_counterparty_edits(app, login, make_user, counterparty) -> None:
    clients = _two_officers(app, login, make_user)
    path = f"/counterparties/{counterparty.id}/edit"
    forms = [hidden_fields(c, path) for c in clients]
    names = ["Erste Bau GmbH", "Zweite Bau GmbH"]
    answers = _race("counterparties", counterparty.id, [
        lambda i=i: clients[i].post(path, data={**forms[i], "name": names[i],
                                                "address": f"Adresse {i}"})
        for i in range(2)])
    codes = sorted(a.status_code for a in answers)
    assert codes == [302, 409], codes
    saved = next(i for i, a in enumerate(answers) if a.status_code == 302)
    refused = answers[1 - saved].get_data(as_text=True)
    assert CONFLICT in refused
    assert names[1 - saved] in refused and f"Adresse {1 - saved}" in refused  # kept as typed
    db.session.rollback()
    assert db.session.get(Counterparty, counterparty.id).name == names[saved]
    assert _events("counterparty.update") == 1


def _agreement_page_forms(client: FlaskClient, agreement_id: int) -> dict[str, str]:
    return hidden_fields(client, f"/agreements/{agreement_id}")


@pytest.mark.parametrize("action", ["status", "clause", "edit", "end"])
def test_concurrent_agreement_saves(app, login, make_user, make_agreement, published_clauses,
                                    action) -> None:
    draft = make_agreement("contract", unit="ZVS")
    if action in ("end", "status"):
        draft.status = "active"
        db.session.commit()
    clients = _two_officers(app, login, make_user)
    base = f"/agreements/{draft.id}"
    if action == "status":
        path, audited = f"{base}/status", "contract.status"
        forms = [_agreement_page_forms(c, draft.id) | {"status": "ended"} for c in clients]
    elif action == "clause":
        path, audited = f"{base}/clause", "agreement.clause_attach"
        forms = [_agreement_page_forms(c, draft.id)
                 | {"method": "contract_document", "language": "de"} for c in clients]
    elif action == "end":
        path, audited = f"{base}/end/terminated", "contract.status"
        forms = [hidden_fields(c, path) | {"ended_on": "01.06.2026", "confirm": "y",
                                           "reason": f"Grund Nummer {i}"}
                 for i, c in enumerate(clients)]
    else:
        path, audited = f"{base}/edit", "contract.update"
        page = clients[0].get(path).get_data(as_text=True)
        assert page
        forms = [hidden_fields(c, path) | _contract_fields(draft, f"Betreff Nummer {i}")
                 for i, c in enumerate(clients)]
    before = _events(audited)
    answers = _race("agreements", draft.id, [
        lambda i=i: clients[i].post(path, data=forms[i]) for i in range(2)])
    codes = sorted(a.status_code for a in answers)
    assert codes == [302, 409], (codes, [a.get_data(as_text=True)[:300] for a in answers])
    refused = next(a for a in answers if a.status_code == 409)
    assert CONFLICT in refused.get_data(as_text=True)
    if action in ("end", "edit"):
        loser = next(i for i, a in enumerate(answers) if a.status_code == 409)
        typed = f"Grund Nummer {loser}" if action == "end" else f"Betreff Nummer {loser}"
        assert typed in refused.get_data(as_text=True)
    assert _events(audited) == before + 1


def _contract_fields(agreement: Agreement, subject: str) -> dict[str, str]:
    return {"reference": agreement.reference, "subject": subject, "counterparty_id":
            str(agreement.counterparty_id), "value": "12.345,67", "vat_rate": "19",
            "start_date": "01.01.2026", "end_date": "31.12.2026", "decided_on": "01.12.2025",
            "contract_kind": "services", "procedure": "open"}


@pytest.fixture
def short_lock_wait(app_config: dict[str, object]) -> dict[str, object]:
    """The app gives up waiting for a lock after 300 ms (PostgreSQL's lock_timeout, SQLite's
    busy timeout)."""
    if str(app_config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True, "connect_args": {"options": "-c lock_timeout=300"}}
    else:
        app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 0.3}}
    return app_config


def test_a_lock_timeout_is_a_conflict_not_an_error(short_lock_wait, app, login, make_user,
                                                   counterparty) -> None:
    """A third transaction holds the row (PostgreSQL) or the write lock (SQLite) longer than
    the app waits: the save is refused with the conflict message, as typed, nothing saved."""
    client = _two_officers(app, login, make_user)[0]
    path = f"/counterparties/{counterparty.id}/edit"
    form = hidden_fields(client, path)
    with _row_held("counterparties", counterparty.id):
        answer = client.post(path, data={**form, "name": "Dritte Bau GmbH"})
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    assert CONFLICT in page and "Dritte Bau GmbH" in page
    db.session.rollback()
    assert db.session.get(Counterparty, counterparty.id).name == "Muster Bau GmbH"
    assert _events("counterparty.update") == 0
