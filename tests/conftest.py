"""Fixtures: a real database per run (SQLite by default, PostgreSQL when
CLAUSE_TRACKER_TEST_DATABASE_URL names a server), the app, clients and users.

With CLAUSE_TRACKER_REQUIRE_ALL=1 (set by .ci/run) a skipped test counts as failed:
CI must not go green on tests that did not run.
"""

from __future__ import annotations

import contextvars
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from clause_tracker import create_app
from tests import audit_guard
from tests.helpers import PASSWORD

TEST_DATABASE_ENV = "CLAUSE_TRACKER_TEST_DATABASE_URL"
REQUIRE_ALL_ENV = "CLAUSE_TRACKER_REQUIRE_ALL"
pytest_plugins = ("tests.factories",)  # make_user, officer, counterparty, agreement, …


def pytest_configure(config: pytest.Config) -> None:
    audit_guard.install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    skipped = report.skipped and not hasattr(report, "wasxfail")
    if skipped and os.environ.get(REQUIRE_ALL_ENV) == "1":
        report.outcome = "failed"
        report.longrepr = f"skipped, but {REQUIRE_ALL_ENV}=1 forbids skipping: {report.longrepr}"


def _base_config(url: str, tmp: Path) -> dict[str, object]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "SECRET_KEY": "test-only-not-secret",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        "SERVER_NAME": None,
    }


def _migrate(url: str, tmp: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(_base_config(url, tmp))
    with app.app_context():
        upgrade()
        from clause_tracker.extensions import db

        db.engine.dispose()


class Database:
    """The run's database: migrated once, handed to each test empty."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        server = os.environ.get(TEST_DATABASE_ENV)
        self.postgres = bool(server)
        if server:
            base = make_url(server)
            self.name = f"clause_tracker_test_{uuid.uuid4().hex[:10]}"
            self._admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = base.set(database=self.name).render_as_string(hide_password=False)
        else:
            self.template = tmp / "template.db"
            self.url = f"sqlite:///{self.template}"
        _migrate(self.url, tmp)

    def fresh_url(self, tmp: Path) -> str:
        if not self.postgres:
            copy = tmp / "test.db"
            shutil.copyfile(self.template, copy)
            return f"sqlite:///{copy}"
        engine = create_engine(self.url)
        with engine.begin() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            if tables:
                # TRUNCATE passes the append-only triggers, which guard rows, not tables.
                names = ", ".join(f'"{t}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return self.url

    def drop(self) -> None:
        if self.postgres:
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self._admin.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(tmp_path_factory.mktemp("database"))
    yield db
    db.drop()


@pytest.fixture
def app_config(database: Database, tmp_path: Path) -> dict[str, object]:
    """Tests may change settings here before `app` is built."""
    return _base_config(database.fresh_url(tmp_path), tmp_path)


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    The test itself holds an app context for database access; without this, requests
    would share its `g` and database session and hide bugs (stale CSRF tokens, leaked
    transactions).
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(app_config: dict[str, object]) -> Iterator[Flask]:
    application = create_app(app_config)
    application.test_client_class = IsolatedClient
    with application.app_context():
        yield application
        from clause_tracker.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def published_clauses(app: Flask) -> None:
    """The clause texts of clause_texts/, published into the test's database."""
    from clause_tracker.clauses.services import sync

    sync()


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF_PATTERN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _login(client: FlaskClient, username: str, password: str = PASSWORD):
    token = _csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


@pytest.fixture
def signed_in(client: FlaskClient, make_user: Callable[..., object]) -> Callable[..., object]:
    """signed_in("auditor") → a user of that role, signed in on `client`."""

    def sign_in(role: str, unit: str | None = None) -> object:
        user = make_user(role, unit)
        response = _login(client, user.username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return sign_in


@pytest.fixture
def csrf() -> Callable[..., str]:
    """csrf(client, path) → the CSRF token of the form on that page."""
    return _csrf_token


@pytest.fixture
def login() -> Callable[..., object]:
    """login(client, username, password=PASSWORD) → the response of the sign-in POST."""
    return _login
