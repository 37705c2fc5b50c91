"""Signing in: passwords, lockout in the database, CSRF, cookies, safe redirects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from clause_tracker.audit.models import AuditEvent
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db

WRONG = "not the password at all"


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_password_is_stored_as_argon2_hash(make_user) -> None:
    user = make_user("auditor")
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash


def test_sign_in_and_out(client, make_user, login, csrf) -> None:
    user = make_user("auditor")
    response = login(client, user.username)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    token = csrf(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    assert _actions()[-2:] == ["auth.login", "auth.logout"]


def test_wrong_password_is_refused_with_a_message(client, make_user, login) -> None:
    user = make_user("auditor")
    response = login(client, user.username, WRONG)
    assert response.status_code == 200
    # One message for a wrong password, an unknown and a locked account (test_login_lockout).
    assert 'role="alert"' in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_lockout_after_repeated_failures_is_stored_and_audited(app, client, make_user,
                                                               login) -> None:
    user = make_user("grant_manager")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, user.username, WRONG)
    db.session.expire_all()
    locked = db.session.get(User, user.id)
    assert locked.locked_until is not None and locked.locked_until > utcnow()
    assert "auth.locked" in _actions()
    # Even the right password is refused while locked.
    response = login(client, user.username)
    assert response.status_code == 200
    assert client.get("/").status_code == 302
    assert _actions()[-1] == "auth.login_refused_locked"


def test_lock_expires(app, client, make_user, login) -> None:
    user = make_user("auditor")
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert login(client, user.username).status_code == 302


def test_admin_unlocks(client, make_user, signed_in, csrf) -> None:
    victim = make_user("auditor")
    victim.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    signed_in("admin")
    token = csrf(client, "/admin/users")
    response = client.post(f"/admin/users/{victim.id}/unlock", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, victim.id).locked_until is None
    assert _actions()[-1] == "user.unlock"


def test_login_without_csrf_token_is_rejected(client, make_user) -> None:
    user = make_user("auditor")
    response = client.post("/login", data={"username": user.username,
                                           "password": "correct horse battery"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_logout_needs_post_with_csrf(client, signed_in) -> None:
    signed_in("auditor")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_admin_creates_user_through_the_form(client, signed_in, csrf) -> None:
    from clause_tracker.orgunits.models import UnitKind
    from clause_tracker.orgunits.services import ensure_unit

    unit = ensure_unit("KIJ", "Kommunale Immobilien Jena", UnitKind.EIGENBETRIEB)
    db.session.commit()
    signed_in("admin")

    def create(org_unit: str):
        return client.post("/admin/users", data={
            "csrf_token": csrf(client, "/admin/users"), "username": "neu.vergabe",
            "display_name": "Neu", "email": "", "role": "procurement_officer",
            "org_unit": org_unit, "password": "long enough password",
        })

    # An officer without a unit is refused with a message, and nothing is stored ...
    refused = create("0")
    assert refused.status_code == 200
    assert ("Konten der Vergabestelle und der Fördermittelverwaltung gehören zu einer "
            "Organisationseinheit.") in refused.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "neu.vergabe")) is None
    # ... and created with one.
    assert create(str(unit.id)).status_code == 302
    db.session.expire_all()
    created = db.session.scalar(select(User).where(User.username == "neu.vergabe"))
    assert created is not None and created.org_unit_id == unit.id


def test_short_password_is_refused_and_nothing_is_stored(client, signed_in, csrf) -> None:
    signed_in("admin")
    token = csrf(client, "/admin/users")
    response = client.post("/admin/users", data={
        "csrf_token": token, "username": "kurz", "display_name": "Kurz", "role": "auditor",
        "org_unit": "0", "password": "short",
    })
    assert response.status_code == 200
    assert db.session.scalar(select(User).where(User.username == "kurz")) is None


def test_session_cookie_flags(app_config, make_user, login) -> None:
    from clause_tracker import create_app

    app_config.update(SESSION_COOKIE_SECURE=True)
    app = create_app(app_config)
    with app.app_context():
        from clause_tracker.auth.services import create_user

        create_user("cookie.test", "correct horse battery", "auditor")
    client = app.test_client()
    response = login(client, "cookie.test")
    cookie = next(v for k, v in response.headers.items()
                  if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a permanent session with a lifetime


def test_password_change_ends_other_sessions(client, make_user, login) -> None:
    from clause_tracker.auth.services import set_password

    user = make_user("auditor")
    login(client, user.username)
    assert client.get("/").status_code == 200
    set_password(user, "another long password")
    assert client.get("/").status_code == 302


def test_next_parameter_cannot_redirect_elsewhere(client, make_user, csrf) -> None:
    user = make_user("auditor")
    for target in ("https://evil.example/", "//evil.example/", "/clauses/"):
        response = client.post(f"/login?next={target}", data={
            "username": user.username, "password": "correct horse battery",
            "csrf_token": csrf(client, "/login"),
        })
        location = response.headers["Location"]
        assert "evil" not in location
        client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert location == "/clauses/"


OFFSITE = ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "/\\/evil.example",
           "//evil.example", "///evil.example", "https://evil.example/", "/%2F/evil.example",
           "/%5Cevil.example", " //evil.example", "javascript:alert(1)", "/\x00/evil.example"]


def _stays_here(location: str) -> bool:
    from urllib.parse import urlsplit

    cleaned = "".join(ch for ch in location if ch not in "\t\r\n ").replace("\\", "/")
    parts = urlsplit(cleaned)
    return (not parts.scheme and not parts.netloc and cleaned.startswith("/")
            and not cleaned.startswith("//") and "evil" not in location)


def test_language_switch_never_redirects_elsewhere(client, csrf) -> None:
    for target in OFFSITE:
        response = client.post("/language", data={"csrf_token": csrf(client, "/login"),
                                                  "language": "en", "next": target})
        if response.status_code == 400:  # a NUL byte is refused before any view
            assert "\x00" in target
            continue
        assert response.status_code == 302, repr(target)
        assert _stays_here(response.headers["Location"]), (target, response.headers["Location"])
    kept = client.post("/language", data={"csrf_token": csrf(client, "/login"),
                                          "language": "de", "next": "/clauses/?q=a"})
    assert kept.headers["Location"] == "/clauses/?q=a"


def test_sign_in_next_never_redirects_elsewhere(client, make_user, csrf) -> None:
    from urllib.parse import quote

    user = make_user("auditor")
    for target in OFFSITE:
        response = client.post(f"/login?next={quote(target, safe='')}", data={
            "username": user.username, "password": "correct horse battery",
            "csrf_token": csrf(client, "/login"),
        })
        if response.status_code == 400:  # a NUL byte is refused before any view
            assert "\x00" in target
            continue
        assert response.status_code == 302, repr(target)
        assert _stays_here(response.headers["Location"]), (target, response.headers["Location"])
        client.post("/logout", data={"csrf_token": csrf(client, "/")})
