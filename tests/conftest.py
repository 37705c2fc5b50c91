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
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy import SQLAlchemy
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from werkzeug.routing import Rule

from clause_tracker import create_app
from clause_tracker.clauses.services import sync
from clause_tracker.extensions import db
from tests import audit_guard
from tests.helpers import PASSWORD

TEST_DATABASE_ENV = "CLAUSE_TRACKER_TEST_DATABASE_URL"
TEST_REDIS_ENV = "CLAUSE_TRACKER_TEST_REDIS_URL"
REQUIRE_ALL_ENV = "CLAUSE_TRACKER_REQUIRE_ALL"
pytest_plugins = ("tests.factories",)  # make_user, officer, counterparty, agreement, …


def pytest_configure(config: pytest.Config) -> None:
    audit_guard.install()
    event.listen(Engine, "connect", _sqlite_without_fsync)
    _share_url_builders()
    _share_engines()


def _sqlite_without_fsync(dbapi_connection: object, connection_record: object) -> None:
    """A test database need not survive a power cut: SQLite skips fsync on commit (the
    commits' fsyncs were a fifth of the suite's time on a busy disk). Locking, which the
    tests of concurrent processes rely on, is unchanged."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.close()


def _share_engines() -> None:
    """One SQLAlchemy engine per database URL and options in a test process, instead of one
    per test's app. An engine caches its compiled SQL (keyed by its own dialect object), so
    every test compiled every statement it ran anew: the largest cost left in the suite.
    Each test gets its database at the same URL (a fresh copy of the template, or the same
    PostgreSQL database emptied), and the `app` fixture disposes of the engine's
    connections after each test, so nothing but the compiled SQL outlives a test."""
    make_engine = SQLAlchemy._make_engine
    engines: dict[str, Engine] = {}

    def shared(extension: SQLAlchemy, bind_key: str | None, options: dict[str, object],
               app: Flask) -> Engine:
        key = repr((bind_key, sorted(options.items(), key=lambda item: item[0])))
        if key not in engines:
            engines[key] = make_engine(extension, bind_key, options, app)
        return engines[key]

    SQLAlchemy._make_engine = shared  # type: ignore[method-assign]


def _share_url_builders() -> None:
    """Werkzeug generates and compiles two URL-builder functions (Python code) for each
    route of each app; every test builds its own app of about 60 routes, and that was a
    quarter of the suite's CPU time. The generated code is a function of the rule's text,
    defaults and converters only (converters are looked up on the rule when it runs), so
    the apps of one test process share it. Without Werkzeug's private hook: no sharing,
    only slower."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:
        return
    built: dict[tuple[object, ...], object] = {}

    def shared(rule: Rule, append_unknown: bool = True) -> object:
        converters = tuple(sorted(
            (name, type(c).__qualname__, repr({k: v for k, v in vars(c).items() if k != "map"}))
            for name, c in rule._converters.items()))
        key = (append_unknown, rule.rule, rule.host, rule.subdomain, rule.map.host_matching,
               rule.merge_slashes, repr(rule._trace), repr(sorted((rule.defaults or {}).items())),
               converters)
        if key not in built:
            built[key] = compile_builder(rule, append_unknown)
        return built[key]

    Rule._compile_builder = shared  # type: ignore[method-assign]


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates, shared by the apps of one test process. Each test builds its own
    app, whose Jinja environment compiled every template it rendered anew; Jinja checks a
    cached template against its source's checksum, so an edited template is compiled."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_BYTECODE = SharedBytecodeCache()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The browser tests run on one xdist worker, one after another, with one Chromium:
    two at once on two cores starve each other and the apps they drive."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


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
        "AUDIT_ANCHOR_FILE": str(tmp / "audit_anchors.log"),  # per test, beside its files
        "SECRET_KEY": "test-only-not-secret",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        "SERVER_NAME": None,
        # The real Redis (as in production), each app's counters under a key prefix of its
        # own so that no test sees another's sign-in attempts.
        "RATELIMIT_STORAGE_URI": os.environ.get(TEST_REDIS_ENV, "redis://127.0.0.1:6379"),
        "RATELIMIT_KEY_PREFIX": f"clause_tracker_test_{uuid.uuid4().hex}",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False,
        "RATELIMIT_SWALLOW_ERRORS": False,
    }


def _migrate(url: str, tmp: Path) -> None:
    app = create_app(_base_config(url, tmp))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _publish_clauses(url: str, tmp: Path) -> None:
    """Publish clause_texts/ into the database at `url`, as `clause-tracker init` does."""
    app = create_app(_base_config(url, tmp))
    with app.app_context():
        sync()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


class Database:
    """The run's database (one per xdist worker): migrated once, then handed to each test
    empty, or with the clause library of clause_texts/ published when the test asks for
    `published_clauses` — parsing and publishing the texts per test took longer than the
    tests that need them.

    SQLite: each test gets a copy of one of two template files (migrated; migrated and
    published). PostgreSQL: one database, emptied with TRUNCATE before each test, and the
    library's rows (kept from publishing it once) inserted again when asked for.
    """

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
            _migrate(self.url, tmp)
            self._engine = create_engine(self.url)
            with self._engine.connect() as conn:
                self._tables = [t for t in inspect(conn).get_table_names()
                                if t != "alembic_version"]
            _publish_clauses(self.url, tmp)
            self._library = self._rows()
        else:
            self.template = tmp / "template.db"
            self.url = f"sqlite:///{self.template}"
            _migrate(self.url, tmp)
            self.published_template = tmp / "template-published.db"
            shutil.copyfile(self.template, self.published_template)
            _publish_clauses(f"sqlite:///{self.published_template}", tmp)

    def _rows(self) -> dict[str, list[dict[str, object]]]:
        """Every row of every model table, in foreign-key order (PostgreSQL)."""
        found: dict[str, list[dict[str, object]]] = {}
        with self._engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                rows = [dict(row._mapping) for row in conn.execute(select(table))]
                if rows:
                    found[table.name] = rows
        return found

    def fresh_url(self, tmp: Path, published: bool) -> str:
        if not self.postgres:
            # Always the same file: its engine (with its compiled SQL) is shared.
            copy = self.tmp / "test.db"
            shutil.copyfile(self.published_template if published else self.template, copy)
            return f"sqlite:///{copy}"
        with self._engine.begin() as conn:
            # The audit trail refuses TRUNCATE (migrations 0017, 0019): lifted for this one
            # statement, inside this transaction, as only the table's owner can.
            names = ", ".join(f'"{t}"' for t in self._tables)
            guarded = [("audit_events", "audit_events_no_truncate"),
                       ("audit_personal", "audit_personal_no_truncate"),
                       ("audit_redactions", "audit_redactions_no_truncate")]
            for table_name, trigger in guarded:
                conn.execute(text(f"ALTER TABLE {table_name} DISABLE TRIGGER {trigger}"))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table_name, trigger in guarded:
                conn.execute(text(f"ALTER TABLE {table_name} ENABLE TRIGGER {trigger}"))
            if published:
                for name, rows in self._library.items():
                    table = db.metadata.tables[name]
                    conn.execute(table.insert(), rows)
                    if "id" in table.c:  # the ids were inserted: move the sequence past them
                        conn.execute(select(func.setval(
                            func.pg_get_serial_sequence(name, "id"),
                            select(func.max(table.c.id)).scalar_subquery())))
        return self.url

    def drop(self) -> None:
        if self.postgres:
            self._engine.dispose()
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self._admin.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(tmp_path_factory.mktemp("database"))
    yield db
    db.drop()


@pytest.fixture
def app_config(database: Database, tmp_path: Path, request: pytest.FixtureRequest
               ) -> dict[str, object]:
    """Tests may change settings here before `app` is built. The database comes with the
    clause library published if the test uses `published_clauses`."""
    published = "published_clauses" in request.fixturenames
    return _base_config(database.fresh_url(tmp_path, published), tmp_path)


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
    application.jinja_env.bytecode_cache = TEMPLATE_BYTECODE
    with application.app_context():
        yield application
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
    """The clause texts of clause_texts/, published into the test's database (which
    `app_config` took from the published template: see Database)."""


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
