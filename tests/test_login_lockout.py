"""The lockout holds under parallel sign-ins, and its answer reveals nothing: unknown, wrong
and locked look alike."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from clause_tracker.audit.models import AuditEvent
from clause_tracker.auth import services
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from tests.conftest import _csrf_token
from tests.helpers import PASSWORD

WRONG = "not the password at all"
PARALLEL = 10


def _serialised_on_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite the sign-ins run one at a time: two write transactions at once end in
    "database is locked" there (its rollback journal has one writer; parallel writers are
    what PostgreSQL is for), so only PostgreSQL — the production database, and CI's second
    run — shows the race. There everything runs in parallel."""
    if db.engine.dialect.name != "sqlite":
        return
    gate = threading.Lock()
    original = services.authenticate

    def one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with gate:
            return original(*args, **kwargs)

    monkeypatch.setattr(services, "authenticate", one_at_a_time)


def _count_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each password really checked for the account (slowly, as argon2 in production:
    every parallel attempt is in flight at once)."""
    checked: list[str] = []
    original = services.check_password

    def slow_check(password_hash: str, password: str) -> bool:
        checked.append(password)
        threading.Event().wait(0.3)
        return original(password_hash, password)

    monkeypatch.setattr(services, "check_password", slow_check)
    return checked


def _attempts(app, username: str, passwords: list[str]) -> list[int]:
    db.session.rollback()  # the test's own session holds nothing while the attempts run
    clients = [app.test_client() for _ in passwords]
    tokens = [_csrf_token(client, "/login") for client in clients]
    start = threading.Barrier(len(passwords))

    def attempt(index: int) -> int:
        start.wait(timeout=30)
        return clients[index].post("/login", data={
            "username": username, "password": passwords[index],
            "csrf_token": tokens[index]}).status_code

    with ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(attempt, range(len(passwords))))


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    _serialised_on_sqlite(monkeypatch)
    return _count_checks(monkeypatch)


def test_parallel_wrong_passwords_lock_after_the_limit(app, make_user, login,
                                                       parallel: list[str]) -> None:
    limit = app.config["LOGIN_MAX_FAILURES"]
    user = make_user("auditor")
    statuses = _attempts(app, user.username, [WRONG] * PARALLEL)
    assert statuses == [200] * PARALLEL
    assert len(parallel) <= limit  # no more guesses checked than the lock allows
    db.session.expire_all()
    locked = db.session.get(User, user.id)
    assert locked.locked_until is not None and locked.locked_until > utcnow()
    # The right password now is refused, too (by the lock, or already by the throttle).
    after = app.test_client()
    assert login(after, user.username, PASSWORD).status_code in (200, 429)
    assert after.get("/").status_code == 302


def test_right_password_among_parallel_guesses_gets_no_extra_checks(
        app, make_user, parallel: list[str]) -> None:
    limit = app.config["LOGIN_MAX_FAILURES"]
    user = make_user("auditor")
    statuses = _attempts(app, user.username, [WRONG] * (PARALLEL - 1) + [PASSWORD])
    assert statuses.count(302) <= 1
    if statuses[-1] == 302:  # signed in: only if checked within the attempts the lock allows
        assert parallel.index(PASSWORD) < limit
    else:  # refused: no more guesses checked than allowed, and the account is locked
        assert len(parallel) <= limit
        db.session.expire_all()
        assert db.session.get(User, user.id).locked_until is not None
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert len(actions) == PARALLEL + 1  # user.create, then every attempt audited


_CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]*"')


def _answer(client, username: str, password: str) -> tuple[int, str]:
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": _csrf_token(client, "/login")})
    page = _CSRF.sub("", response.get_data(as_text=True)).replace(f'value="{username}"', "")
    return response.status_code, page


def test_unknown_wrong_and_locked_accounts_get_the_same_answer(app, make_user) -> None:
    user = make_user("auditor")
    locked = make_user("auditor")
    locked.locked_until = utcnow().replace(year=utcnow().year + 1)
    db.session.commit()
    unknown = _answer(app.test_client(), "nobody.here", PASSWORD)
    wrong = _answer(app.test_client(), user.username, WRONG)
    refused = _answer(app.test_client(), locked.username, PASSWORD)
    assert unknown[0] == wrong[0] == refused[0] == 200
    assert unknown[1] == wrong[1] == refused[1]
    assert 'role="alert"' in unknown[1]


def test_locking_gives_the_same_answer_as_a_wrong_password(app, make_user) -> None:
    user = make_user("auditor")
    client = app.test_client()
    answers = {_answer(client, user.username, WRONG)
               for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1)}
    assert len(answers) == 1
