"""Administrators manage accounts: deactivate (access and sessions end at once), reset a
password (a new one is due at the next sign-in), change role and unit, end all sessions —
each audited, never their own role or deactivation. Users change their own password."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from clause_tracker.audit.models import AuditEvent
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import UnitKind
from clause_tracker.orgunits.services import ensure_unit
from tests.conftest import _login
from tests.helpers import PASSWORD

TEMPORARY = "temporary password 1"
NEW = "a brand new password"


def _last_action() -> str | None:
    return db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1))


def _user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _post(client, csrf, path: str, **data: str):
    return client.post(path, data={"csrf_token": csrf(client, "/account"), **data})


def test_creating_a_user_with_an_email_address(client, signed_in, csrf) -> None:
    signed_in("admin")

    def create(username: str, email: str):
        return client.post("/admin/users", data={
            "csrf_token": csrf(client, "/admin/users"), "username": username,
            "display_name": "Mit Adresse", "email": email, "role": "auditor",
            "org_unit": "0", "password": "long enough password",
        })

    response = create("mit.adresse", "pruefung@jena.de")
    assert response.status_code == 302
    created = db.session.scalar(select(User).where(User.username == "mit.adresse"))
    assert created is not None and created.email == "pruefung@jena.de"
    refused = create("ohne.adresse", "not an address")
    assert refused.status_code == 200
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "ohne.adresse")) is None


def test_deactivation_ends_access_and_sessions_at_once(app, client, make_user, signed_in,
                                                       login, csrf) -> None:
    victim = make_user("auditor")
    theirs = app.test_client()
    login(theirs, victim.username)
    assert theirs.get("/audit/").status_code == 200
    signed_in("admin")
    response = _post(client, csrf, f"/admin/users/{victim.id}/deactivate")
    assert response.status_code == 303
    assert _last_action() == "user.deactivate"
    assert theirs.get("/audit/").status_code == 302  # at once, without signing in again
    assert login(app.test_client(), victim.username).status_code == 200  # refused
    _post(client, csrf, f"/admin/users/{victim.id}/activate")
    assert _last_action() == "user.activate"
    assert login(app.test_client(), victim.username).status_code == 302


def test_password_reset_ends_sessions_and_asks_for_a_new_one(app, client, make_user,
                                                             signed_in, login, csrf) -> None:
    victim = make_user("auditor")
    theirs = app.test_client()
    login(theirs, victim.username)
    signed_in("admin")
    response = _post(client, csrf, f"/admin/users/{victim.id}/password", password=TEMPORARY)
    assert response.status_code == 303
    assert _last_action() == "user.password_reset"
    assert theirs.get("/").status_code == 302  # the old session is over
    assert login(theirs, victim.username, PASSWORD).status_code == 200  # the old password too

    assert login(theirs, victim.username, TEMPORARY).status_code == 302
    # Every page but the password form (and signing out) leads to the password form.
    for path in ("/", "/audit/", "/account"):
        response = theirs.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/password", path
    same = theirs.post("/account/password", data={"csrf_token": csrf(theirs, "/account/password"),
                       "current_password": TEMPORARY, "new_password": TEMPORARY,
                       "confirm": TEMPORARY})
    assert same.status_code == 200 and _user(victim.id).must_change_password
    token = csrf(theirs, "/account/password")
    changed = theirs.post("/account/password", data={
        "csrf_token": token, "current_password": TEMPORARY, "new_password": NEW,
        "confirm": NEW})
    assert changed.status_code == 303
    assert _last_action() == "user.password_changed"
    assert not _user(victim.id).must_change_password
    assert theirs.get("/audit/").status_code == 200  # this browser stays signed in


def test_own_password_change_needs_the_current_one(app, client, signed_in, csrf) -> None:
    user = signed_in("auditor")
    other = app.test_client()
    _login(other, user.username)
    wrong = client.post("/account/password", data={
        "csrf_token": csrf(client, "/account/password"), "current_password": "wrong guess",
        "new_password": NEW, "confirm": NEW})
    assert wrong.status_code == 200
    assert 'id="current_password-error"' in wrong.get_data(as_text=True)
    differ = client.post("/account/password", data={
        "csrf_token": csrf(client, "/account/password"), "current_password": PASSWORD,
        "new_password": NEW, "confirm": NEW + "x"})
    assert differ.status_code == 200
    assert 'id="confirm-error"' in differ.get_data(as_text=True)
    ok = client.post("/account/password", data={
        "csrf_token": csrf(client, "/account/password"), "current_password": PASSWORD,
        "new_password": NEW, "confirm": NEW})
    assert ok.status_code == 303
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302  # the other browser's session ended


def test_role_and_unit_change_is_audited(client, make_user, signed_in, csrf) -> None:
    kij = ensure_unit("KIJ", "Kommunale Immobilien Jena", UnitKind.EIGENBETRIEB)
    db.session.commit()
    user = make_user("auditor")
    signed_in("admin")
    refused = _post(client, csrf, f"/admin/users/{user.id}/role", role="procurement_officer",
                    org_unit="0")
    assert refused.status_code == 303
    assert _user(user.id).role == "auditor"
    _post(client, csrf, f"/admin/users/{user.id}/role", role="procurement_officer",
          org_unit=str(kij.id))
    changed = _user(user.id)
    assert (changed.role, changed.org_unit_id) == ("procurement_officer", kij.id)
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert event.action == "user.role"
    assert '"before":{"role":"auditor"' in event.details.replace(" ", "")
    # Nonsense gives a message, not an error page.
    assert _post(client, csrf, f"/admin/users/{user.id}/role", role="emperor",
                 org_unit="x").status_code == 303


def test_administrators_never_change_their_own_role_or_deactivate_themselves(
        client, signed_in, csrf) -> None:
    admin = signed_in("admin")
    before = _last_action()
    _post(client, csrf, f"/admin/users/{admin.id}/role", role="auditor", org_unit="0")
    _post(client, csrf, f"/admin/users/{admin.id}/deactivate")
    _post(client, csrf, f"/admin/users/{admin.id}/password", password=TEMPORARY)
    me = _user(admin.id)
    assert (me.role, me.active, me.must_change_password) == ("admin", True, False)
    assert _last_action() == before
    assert client.get("/admin/users").status_code == 200


def test_admin_ends_all_sessions_of_a_user(app, client, make_user, signed_in, login,
                                           csrf) -> None:
    user = make_user("auditor")
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        login(browser, user.username)
    signed_in("admin")
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert user.username in page
    _post(client, csrf, f"/admin/users/{user.id}/sessions/end")
    assert _last_action() == "user.sessions_ended"
    assert [b.get("/").status_code for b in browsers] == [302, 302]
    assert login(browsers[0], user.username).status_code == 302  # may sign in again


def test_only_administrators_manage_accounts(client, make_user, signed_in, csrf) -> None:
    user = make_user("auditor")
    signed_in("auditor")
    for path in (f"/admin/users/{user.id}/deactivate", f"/admin/users/{user.id}/role",
                 f"/admin/users/{user.id}/password", f"/admin/users/{user.id}/sessions/end"):
        assert _post(client, csrf, path, role="admin", org_unit="0",
                     password=TEMPORARY).status_code == 403, path
    assert client.get(f"/admin/users/{user.id}").status_code == 403
    assert _user(user.id).active


def test_admin_removes_a_lost_second_factor(app, client, make_user, signed_in, csrf) -> None:
    user = make_user("auditor")
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = utcnow()
    db.session.commit()
    signed_in("admin")
    _post(client, csrf, f"/admin/users/{user.id}/second-factor/reset")
    assert not _user(user.id).has_second_factor
    assert _last_action() == "user.totp_reset"
    browser = app.test_client()
    assert _login(browser, user.username).headers["Location"] == "/"  # one step again


def test_an_id_beyond_the_database_is_not_found(client, signed_in) -> None:
    signed_in("admin")
    huge = 2**70
    assert client.get(f"/admin/users/{huge}").status_code == 404
    assert client.get(f"/declarations/{huge}/evidence").status_code == 404
