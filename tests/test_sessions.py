"""Sessions end server-side: signing out, idling and the absolute lifetime make the cookie
worthless, copies of it included; the last-seen time is written at most once a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from clause_tracker import create_app
from clause_tracker.auth.models import User, UserSession
from clause_tracker.auth.services import create_user
from clause_tracker.extensions import db
from tests.conftest import IsolatedClient

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _copy_of(app, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_signing_out_makes_a_copied_cookie_worthless(app, client, signed_in, csrf) -> None:
    signed_in("admin")
    thief = _copy_of(app, client)
    assert thief.get("/admin/users").status_code == 200
    token = csrf(thief, "/admin/users")  # a form the copy had open

    assert client.post("/logout", data={"csrf_token": csrf(client, "/")}).status_code == 302

    # Reads ...
    for path in ("/", "/admin/users", "/audit/"):
        response = thief.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path
    # ... and writes through a form opened before the sign-out.
    response = thief.post("/admin/users", data={
        "csrf_token": token, "username": "planted", "display_name": "Planted",
        "email": "", "role": "admin", "org_unit": "0", "password": "long enough password",
    })
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert db.session.scalar(select(User).where(User.username == "planted")) is None
    # The session row says so.
    assert db.session.scalars(select(UserSession.revoked_at)).all() != [None]


def test_signing_out_ends_only_that_session(app, make_user, login, csrf) -> None:
    user = make_user("auditor")
    office, laptop = app.test_client(), app.test_client()
    login(office, user.username)
    login(laptop, user.username)
    office.post("/logout", data={"csrf_token": csrf(office, "/")})
    assert office.get("/").status_code == 302
    assert laptop.get("/").status_code == 200


def test_idle_session_ends(app, client, make_user, login) -> None:
    assert app.config["SESSION_IDLE_MINUTES"] == 60
    user = make_user("auditor")
    with time_machine.travel(START, tick=False) as clock:
        login(client, user.username)
        clock.shift(timedelta(minutes=59))
        assert client.get("/").status_code == 200  # in use: the idle time starts again
        clock.shift(timedelta(minutes=59))
        assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=61))
        response = client.get("/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_idle_timeout_is_configurable(app_config, login) -> None:
    app_config.update(SESSION_IDLE_MINUTES=5)
    application = create_app(app_config)
    application.test_client_class = IsolatedClient
    with application.app_context():
        create_user("idle.test", "correct horse battery", "auditor")
        db.session.remove()
    client = application.test_client()
    with time_machine.travel(START, tick=False) as clock:
        login(client, "idle.test")
        clock.shift(timedelta(minutes=4))
        assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=6))
        assert client.get("/").status_code == 302


def test_lifetime_is_absolute_from_the_sign_in(app, client, make_user, login) -> None:
    user = make_user("auditor")
    with time_machine.travel(START, tick=False) as clock:
        login(client, user.username)
        for _ in range(9):  # a request every 50 minutes: never idle, up to 7 h 30 min
            clock.shift(timedelta(minutes=50))
            assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=35))  # 8 h 05 min after signing in
        response = client.get("/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_last_seen_is_written_at_most_once_a_minute(app, client, make_user, login) -> None:
    user = make_user("auditor")

    def last_seen() -> datetime:
        db.session.expire_all()
        return db.session.scalar(select(UserSession.last_seen_at)
                                 .where(UserSession.user_id == user.id))

    with time_machine.travel(START, tick=False) as clock:
        login(client, user.username)
        signed_in_at = last_seen()
        clock.shift(timedelta(seconds=20))
        for _ in range(5):
            assert client.get("/").status_code == 200
        assert last_seen() == signed_in_at
        clock.shift(timedelta(seconds=45))
        assert client.get("/").status_code == 200
        assert last_seen() == signed_in_at + timedelta(seconds=65)
        assert client.get("/").status_code == 200
        assert last_seen() == signed_in_at + timedelta(seconds=65)


def test_a_cookie_without_a_server_side_session_signs_nobody_in(app, client, make_user,
                                                              login) -> None:
    """A cookie forged with the key but naming no session row (as every cookie did before)."""
    user = make_user("auditor")
    login(client, user.username)
    db.session.query(UserSession).delete()
    db.session.commit()
    assert client.get("/").status_code == 302


def test_lifetime_set_in_seconds(app_config, login) -> None:
    """CLAUSE_TRACKER_PERMANENT_SESSION_LIFETIME=3600 arrives as a number of seconds."""
    app_config.update(PERMANENT_SESSION_LIFETIME=3600, SESSION_IDLE_MINUTES=600)
    application = create_app(app_config)
    application.test_client_class = IsolatedClient
    with application.app_context():
        create_user("short.day", "correct horse battery", "auditor")
        db.session.remove()
    client = application.test_client()
    with time_machine.travel(START, tick=False) as clock:
        login(client, "short.day")
        clock.shift(timedelta(minutes=59))
        assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=2))
        assert client.get("/").status_code == 302
