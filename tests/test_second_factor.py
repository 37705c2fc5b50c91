"""The optional second factor: TOTP with one-time recovery codes; sign-in in two steps whose
half-way state opens nothing; required of administrators with REQUIRE_2FA_ADMIN."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from clause_tracker.audit.models import AuditEvent
from clause_tracker.auth.models import RecoveryCode, User
from clause_tracker.extensions import db
from tests.conftest import _csrf_token, _login
from tests.helpers import PASSWORD

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
CODES = re.compile(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>")


def _user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _set_up(client, user: User) -> tuple[pyotp.TOTP, list[str]]:
    """Through the account page: start, read the key, confirm with a code."""
    client.post("/account/second-factor/start",
                data={"csrf_token": _csrf_token(client, "/account/second-factor")})
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "<svg" in page and "otpauth://totp/" in page
    secret = _user(user.id).totp_secret
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    assert grouped in page
    totp = pyotp.TOTP(secret)
    shown = client.post("/account/second-factor/confirm", data={
        "csrf_token": _csrf_token(client, "/account/second-factor"), "code": totp.now()})
    assert shown.status_code == 200
    codes = CODES.findall(shown.get_data(as_text=True))
    assert len(codes) == 10
    return totp, codes


def _code_step(client, code: str):
    return client.post("/login/second-factor", data={
        "csrf_token": _csrf_token(client, "/login/second-factor"), "code": code})


def test_set_up_and_sign_in_in_two_steps(app: Flask, client, signed_in) -> None:
    with time_machine.travel(START, tick=False) as clock:
        user = signed_in("auditor")
        totp, codes = _set_up(client, user)
        stored = db.session.scalars(select(RecoveryCode.code_hash)
                                    .where(RecoveryCode.user_id == user.id)).all()
        assert len(stored) == 10 and all(h.startswith("$argon2id$") for h in stored)
        assert not any(code.replace("-", "") in h for code in codes for h in stored)

        browser = app.test_client()
        first = _login(browser, user.username)
        assert first.status_code == 302
        assert first.headers["Location"] == "/login/second-factor"
        # Half signed in: nothing opens.
        for path in ("/", "/audit/", "/account", "/clauses/"):
            response = browser.get(path)
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/login"), path
        clock.shift(timedelta(seconds=31))
        assert _code_step(browser, "000000" if totp.now() != "000000" else "111111"
                          ).status_code == 200
        assert browser.get("/audit/").status_code == 302
        done = _code_step(browser, totp.now())
        assert done.status_code == 302
        assert browser.get("/audit/").status_code == 200
        last = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert last.action == "auth.login" and "totp" in last.details


def test_a_code_is_good_once_and_a_recovery_code_too(app: Flask, client, signed_in) -> None:
    with time_machine.travel(START, tick=False) as clock:
        user = signed_in("auditor")
        totp, codes = _set_up(client, user)  # used the code of this time step
        browser = app.test_client()
        _login(browser, user.username)
        assert _code_step(browser, totp.now()).status_code == 200  # replayed: refused
        clock.shift(timedelta(seconds=30))
        assert _code_step(browser, totp.now()).status_code == 302
        for attempt in range(2):
            other = app.test_client()
            _login(other, user.username)
            status = _code_step(other, codes[0].upper()).status_code
            assert status == (302 if attempt == 0 else 200)


def test_the_half_way_state_expires(app: Flask, client, signed_in) -> None:
    with time_machine.travel(START, tick=False) as clock:
        user = signed_in("auditor")
        totp, _ = _set_up(client, user)
        browser = app.test_client()
        _login(browser, user.username)
        clock.shift(timedelta(seconds=app.config["SECOND_FACTOR_PENDING_SECONDS"] + 60))
        response = browser.post(
            "/login/second-factor", data={"code": totp.now(),
                                          "csrf_token": _csrf_token(browser, "/login")})
        assert response.status_code == 302
        assert response.headers["Location"] == "/login"
        assert browser.get("/").status_code == 302


def test_wrong_codes_count_towards_the_lockout(app: Flask, client, signed_in) -> None:
    with time_machine.travel(START, tick=False):
        user = signed_in("auditor")
        totp, _ = _set_up(client, user)
        browser = app.test_client()
        _login(browser, user.username)
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            _code_step(browser, "12345x")
        assert _user(user.id).locked_until is not None
        assert _code_step(browser, totp.now()).status_code in (200, 429)
        assert browser.get("/").status_code == 302


def test_disable_needs_the_password(client, signed_in) -> None:
    user = signed_in("auditor")
    _set_up(client, user)
    token = _csrf_token(client, "/account/second-factor")
    client.post("/account/second-factor/disable", data={"csrf_token": token,
                                                          "password": "wrong guess"})
    assert _user(user.id).has_second_factor
    token = _csrf_token(client, "/account/second-factor")
    client.post("/account/second-factor/disable", data={"csrf_token": token,
                                                          "password": PASSWORD})
    assert not _user(user.id).has_second_factor
    assert db.session.scalars(select(RecoveryCode)).all() == []
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"user.totp_setup", "user.totp_enabled", "user.totp_disabled"} <= set(actions)


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    app_config.update(REQUIRE_2FA_ADMIN=True)
    return app_config


def test_administrators_must_set_it_up_when_required(app: Flask, client, signed_in,
                                                    make_user) -> None:
    admin = signed_in("admin")
    for path in ("/", "/admin/users", "/audit/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/second-factor", path
    _set_up(client, admin)
    assert client.get("/admin/users").status_code == 200
    token = _csrf_token(client, "/account/second-factor")
    client.post("/account/second-factor/disable", data={"csrf_token": token,
                                                          "password": PASSWORD})
    assert _user(admin.id).has_second_factor  # cannot be switched off while required
    # Other roles are not asked.
    auditor = make_user("auditor")
    other = app.test_client()
    _login(other, auditor.username)
    assert other.get("/").status_code == 200


def test_admin_removes_a_lost_second_factor(app: Flask, client, signed_in, make_user) -> None:
    user = make_user("auditor")
    theirs = app.test_client()
    _login(theirs, user.username)
    _set_up(theirs, user)
    signed_in("auditor")  # not an administrator: refused
    assert client.post(f"/admin/users/{user.id}/second-factor/reset", data={
        "csrf_token": _csrf_token(client, "/")}).status_code == 403
    assert _user(user.id).has_second_factor
