"""Sign-in throttling per client address and per account name, with Flask-Limiter on Redis
(shared by every worker and node): the answer is the same for known and unknown names."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from clause_tracker import create_app
from tests.conftest import IsolatedClient, _csrf_token
from tests.helpers import PASSWORD

WRONG = "not the password at all"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]*"')


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    app_config.update(LOGIN_RATE_LIMIT_ADDRESS="4 per minute",
                      LOGIN_RATE_LIMIT_ACCOUNT="3 per minute", LOGIN_MAX_FAILURES=50)
    return app_config


def _sign_in(client: FlaskClient, username: str, password: str, address: str) -> int:
    token = _csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_failed_sign_ins_are_throttled_per_address(app: Flask, make_user) -> None:
    user = make_user("auditor")
    client = app.test_client()
    # Four failures from one address, on four different names (the account limit is per name).
    for name in ("a.one", "b.two", "c.three", user.username):
        assert _sign_in(client, name, WRONG, "203.0.113.7") == 200
    # The fifth attempt from there is refused before any password is checked, even a right one.
    assert _sign_in(client, user.username, PASSWORD, "203.0.113.7") == 429
    # Another address is not affected.
    assert _sign_in(app.test_client(), user.username, PASSWORD, "198.51.100.9") == 302


def test_failed_sign_ins_are_throttled_per_account_across_addresses(app: Flask,
                                                                  make_user) -> None:
    user = make_user("auditor")
    for number in range(3):
        assert _sign_in(app.test_client(), user.username, WRONG, f"203.0.113.{number}") == 200
    assert _sign_in(app.test_client(), user.username, PASSWORD, "203.0.113.50") == 429
    assert _sign_in(app.test_client(), user.username.upper(), PASSWORD, "203.0.113.51") == 429


def test_throttle_answers_the_same_for_known_and_unknown_names(app: Flask, make_user) -> None:
    user = make_user("auditor")
    pages = {}
    for name in (user.username, "nobody.here"):
        for number in range(3):
            _sign_in(app.test_client(), name, WRONG, f"192.0.2.{number}")
        client = app.test_client()
        token = _csrf_token(client, "/login")
        response = client.post("/login", data={"username": name, "password": WRONG,
                                               "csrf_token": token},
                               environ_base={"REMOTE_ADDR": "192.0.2.99"})
        pages[name] = (response.status_code,
                       _CSRF.sub("", response.get_data(as_text=True)).replace(name, ""))
    assert pages[user.username] == pages["nobody.here"]
    assert pages["nobody.here"][0] == 429


def test_successful_sign_ins_do_not_count(app: Flask, make_user) -> None:
    user = make_user("auditor")
    for _ in range(6):
        client = app.test_client()
        assert _sign_in(client, user.username, PASSWORD, "203.0.113.7") == 302


def test_counters_are_shared_by_all_workers(app: Flask, app_config: dict[str, object],
                                            make_user) -> None:
    """Two app instances (two gunicorn workers, or two nodes) count together in Redis."""
    user = make_user("auditor")
    other_worker = create_app(app_config)
    other_worker.test_client_class = IsolatedClient
    for number in range(3):
        assert _sign_in(app.test_client(), user.username, WRONG, f"203.0.113.{number}") == 200
    assert app_config["RATELIMIT_STORAGE_URI"] != "memory://"
    assert _sign_in(other_worker.test_client(), user.username, PASSWORD, "203.0.113.9") == 429
