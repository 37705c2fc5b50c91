"""Every route declares a permission, and the roles get exactly what the map gives them."""

from __future__ import annotations

import pytest
from flask import Flask

from clause_tracker.auth import BUILTIN_PUBLIC_ENDPOINTS, required_permission
from clause_tracker.permissions import PUBLIC, ROLE_PERMISSIONS, Permission, Role

SAMPLE_ARGS = {"variant": "procurement", "language": "de", "version": "1.0", "user_id": 1,
               "record_id": 1, "agreement_id": 1, "declaration_id": 1, "counterparty_id": 1,
               "filename": "css/app.css", "check_id": 1, "measure_id": 1, "message_id": 1,
               "fmt": "csv", "status": "terminated", "job_id": 1,
               "unit_id": 1}


def test_every_endpoint_declares_a_permission(app: Flask) -> None:
    missing = [
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint not in BUILTIN_PUBLIC_ENDPOINTS
        and required_permission(rule.endpoint) is None
    ]
    assert missing == []


def test_only_sign_in_language_health_and_the_statement_are_public(app: Flask) -> None:
    public = sorted({
        rule.endpoint for rule in app.url_map.iter_rules()
        if required_permission(rule.endpoint) == PUBLIC and rule.endpoint != "static"
    })
    # The second step of a sign-in is public: half signed in is not signed in. The API's
    # description and its reference page hold no data. The accessibility statement and the
    # favicon are for everyone, signed in or not.
    assert public == ["api_docs.docs", "api_docs.openapi_json", "auth.login",
                      "auth.login_second_factor", "main.accessibility", "main.favicon",
                      "main.healthz", "main.set_language"]


def test_an_undeclared_endpoint_is_refused(app: Flask, client, signed_in) -> None:
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    signed_in("admin")
    assert client.get("/forgotten").status_code == 403


API = "api_v1."  # the JSON API's endpoints: bearer tokens, never the session (below)


def _get_rules(app: Flask, api: bool = False):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.endpoint.startswith(API) != api:
            continue
        needed = required_permission(rule.endpoint)
        if needed == PUBLIC:
            continue
        args = {name: SAMPLE_ARGS[name] for name in rule.arguments}
        yield rule, needed, args


@pytest.mark.parametrize("role", [None, *Role])
def test_role_route_matrix(app: Flask, client, signed_in, published_clauses,
                           role: Role | None) -> None:
    if role:
        signed_in(role.value)
    checked = 0
    with app.test_request_context():
        from flask import url_for

        rules = [(rule, needed, url_for(rule.endpoint, **args))
                 for rule, needed, args in _get_rules(app)]
    for rule, needed, url in rules:
        response = client.get(url)
        if role is None:
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/login"), url
        elif Permission(needed) in ROLE_PERMISSIONS[role]:
            # Allowed: the page, a redirect, or 404 for a sample record that does not exist.
            sample_record = rule.arguments & {"record_id", "agreement_id", "declaration_id",
                                              "counterparty_id", "check_id", "measure_id",
                                              "job_id", "user_id", "unit_id"}
            allowed = (200, 302, 404) if sample_record else (200, 302)
            assert response.status_code in allowed, (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
        checked += 1
    assert checked >= 7


@pytest.mark.parametrize(("role", "path", "status"), [
    ("auditor", "/admin/users", 403),
    ("procurement_officer", "/audit/", 403),
    ("grant_manager", "/admin/users", 403),
    ("auditor", "/audit/", 200),
    ("admin", "/admin/users", 200),
    ("procurement_officer", "/clauses/", 200),
])
def test_key_decisions(client, signed_in, role: str, path: str, status: int) -> None:
    signed_in(role)
    assert client.get(path).status_code == status


def test_post_routes_need_permission_too(client, signed_in, csrf) -> None:
    signed_in("auditor")
    token = csrf(client, "/")
    response = client.post("/admin/users", data={"csrf_token": token, "username": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize("role", [None, *Role])
def test_api_role_route_matrix(app: Flask, client, make_user, role: Role | None) -> None:
    """The same map for the API: a token of each role reads what the role may read (or a
    404 for a sample record), is refused the rest with 403, and no token is a 401; a
    signed-in browser session counts for nothing there."""
    from clause_tracker.api import tokens  # the API's token service, only for this test

    headers = {}
    if role:
        user = make_user(role.value)
        _token, secret = tokens.issue(user, "matrix", False, 1, user)
        headers = {"Authorization": f"Bearer {secret}"}
    with app.test_request_context():
        from flask import url_for

        rules = [(rule, needed, url_for(rule.endpoint, **args))
                 for rule, needed, args in _get_rules(app, api=True)]
    assert len(rules) == 11  # every GET operation of the API
    for _rule, needed, url in rules:
        response = client.get(url, headers=headers)
        assert response.mimetype == "application/problem+json" or response.status_code == 200
        if role is None:
            assert response.status_code == 401, url
        elif Permission(needed) in ROLE_PERMISSIONS[role]:
            assert response.status_code in (200, 404), (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
