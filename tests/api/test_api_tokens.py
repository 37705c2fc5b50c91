"""API tokens: stored as a hash only, expire, can be revoked, scoped; a browser session
authorises no API call; every write is audited with the token."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from clause_tracker.api import tokens
from clause_tracker.api.models import ApiToken
from clause_tracker.audit.models import AuditEvent
from clause_tracker.auth import services as auth_services
from clause_tracker.auth.services import find_user
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from tests.factories import new_user

CONTRACT = {"reference": "VG-2026-001", "subject": "Reinigung", "contract_kind": "services",
            "procedure": "open", "value": "12345.67"}


def test_only_the_hash_is_stored_and_the_secret_is_returned_once(app, token_for) -> None:
    user = new_user("procurement_officer")
    secret, token_id = token_for(user)
    row = db.session.get(ApiToken, token_id)
    assert secret.startswith("ctk_") and len(secret) > 40
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = json.dumps({c.name: str(getattr(row, c.name)) for c in ApiToken.__table__.columns})
    assert secret not in stored and secret[12:] not in stored
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.create"))
    assert secret[12:] not in event.details and secret[12:] not in event.summary


def test_a_request_without_or_with_a_wrong_token_is_401_problem(app, client) -> None:
    for headers in ({}, {"Authorization": "Bearer ctk_wrong"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/agreements", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["status"] == 401 and response.json["title"] == "Unauthorized"


def test_an_expired_token_is_refused(app, bearer) -> None:
    api = bearer()
    assert api.get("/api/v1/agreements").status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=31)):
        assert api.get("/api/v1/agreements").status_code == 401


def test_a_revoked_token_is_refused_and_the_revocation_audited(app, bearer) -> None:
    api = bearer()
    assert api.get("/api/v1/agreements").status_code == 200
    tokens.revoke(db.session.get(ApiToken, api.token_id), api.user)
    assert api.get("/api/v1/agreements").status_code == 401
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "api_token.revoke", AuditEvent.object_id == str(api.token_id)))


def test_a_deactivated_users_token_is_refused(app, bearer) -> None:
    api = bearer()
    api.user.active = False
    db.session.commit()
    assert api.get("/api/v1/agreements").status_code == 401


def test_last_use_is_recorded(app, bearer) -> None:
    api = bearer()
    assert db.session.get(ApiToken, api.token_id).last_used_at is None
    api.get("/api/v1/agreements")
    db.session.expire_all()
    assert db.session.get(ApiToken, api.token_id).last_used_at is not None


def test_a_read_token_cannot_write(app, bearer) -> None:
    api = bearer(write=False)
    assert api.get("/api/v1/agreements").status_code == 200
    response = api.post("/api/v1/contracts", json=CONTRACT)
    assert response.status_code == 403
    assert response.json["type"].endswith("insufficient-scope")
    assert db.session.scalar(select(ApiToken).where(ApiToken.id == api.token_id)).scopes == "read"


def test_a_browser_session_does_not_authorise_the_api(app, client, signed_in) -> None:
    signed_in("procurement_officer")
    assert client.get("/").status_code == 200  # signed in
    assert client.get("/api/v1/agreements").status_code == 401
    response = client.post("/api/v1/contracts", json=CONTRACT)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_every_write_is_audited_with_the_tokens_user_and_id(app, bearer) -> None:
    api = bearer()
    response = api.post("/api/v1/contracts", json=CONTRACT)
    assert response.status_code == 201, response.json
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.create"))
    assert event.actor_id == api.user.id and event.actor_name == api.user.username
    assert json.loads(event.details)["api_token"] == api.token_id


def test_token_limits(app, token_for) -> None:
    user = new_user("auditor")
    with pytest.raises(tokens.TokenError, match="1 to 365 days"):
        tokens.issue(user, "x", False, 366, user)
    with pytest.raises(tokens.TokenError, match="what the token is for"):
        tokens.issue(user, "  ", False, 30, user)


def test_a_user_makes_and_revokes_own_tokens_on_the_account_page(app, client, signed_in,
                                                                 csrf) -> None:
    user = signed_in("grant_manager")
    token = csrf(client, "/account/api-tokens")
    response = client.post("/account/api-tokens", data={
        "csrf_token": token, "name": "Fördermittel-Skript", "days": "30"})
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    secret = page.split('id="secret" type="text" readonly value="')[1].split('"')[0]
    assert hashlib.sha256(secret.encode()).hexdigest() == row.token_hash
    assert row.scopes == "read"
    assert secret not in client.get("/account/api-tokens").get_data(as_text=True)
    # Without the CSRF token nothing happens.
    assert client.post(f"/account/api-tokens/{row.id}/revoke").status_code == 400
    token = csrf(client, "/account/api-tokens")
    client.post(f"/account/api-tokens/{row.id}/revoke", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is not None


def test_nobody_revokes_another_users_token_on_the_account_page(app, client, signed_in,
                                                                csrf, token_for) -> None:
    other = new_user("procurement_officer")
    _secret, token_id = token_for(other)
    signed_in("procurement_officer")
    token = csrf(client, "/account/api-tokens")
    assert client.post(f"/account/api-tokens/{token_id}/revoke",
                       data={"csrf_token": token}).status_code == 404
    assert db.session.get(ApiToken, token_id).revoked_at is None


def test_an_admin_makes_a_service_account_and_its_token(app, client, signed_in, csrf) -> None:
    zvs = new_user("procurement_officer", "ZVS").org_unit_id
    signed_in("admin")
    token = csrf(client, "/admin/api-tokens")
    response = client.post("/admin/api-tokens/accounts", data={
        "account-csrf_token": token, "account-username": "erp-sync", "account-display_name": "ERP",
        "account-role": "procurement_officer", "account-org_unit": str(zvs)})
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert "erp-sync" in page
    token = csrf(client, "/admin/api-tokens")
    account = find_user("erp-sync")
    assert account.service_account and account.role == "procurement_officer"
    response = client.post("/admin/api-tokens/tokens", data={
        "token-csrf_token": token, "token-account": str(account.id), "token-name": "nightly",
        "token-write": "y", "token-days": "90"})
    assert response.status_code == 201
    secret = response.get_data(as_text=True).split(
        'id="secret" type="text" readonly value="')[1].split('"')[0]
    answer = client.get("/api/v1/agreements", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "api_token.create").order_by(AuditEvent.id.desc()))
    assert event.actor_role == "admin" and "erp-sync" in event.summary


def test_token_pages_need_their_permission(app, client, signed_in) -> None:
    signed_in("auditor")
    assert client.get("/admin/api-tokens").status_code == 403
    assert client.get("/account/api-tokens").status_code == 200


def test_a_service_account_never_signs_in(app, client, login) -> None:
    account = tokens.create_service_account("kasse-sync", "Kasse", "auditor", None)
    auth_services.set_password(account, "ein bekanntes Passwort")
    response = login(client, "kasse-sync", "ein bekanntes Passwort")
    assert response.status_code == 200  # the form again, not the redirect of a sign-in
    assert client.get("/").status_code == 302
    with pytest.raises(tokens.TokenError, match="administrator"):
        tokens.create_service_account("root-sync", "Root", "admin", None)
