"""Configuration, headers, error pages, health, language and formats."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from clause_tracker import create_app
from tests.helpers import german


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CLAUSE_TRACKER_CONFIG", "production")
    monkeypatch.delenv("CLAUSE_TRACKER_SECRET_KEY", raising=False)
    monkeypatch.setenv("CLAUSE_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(RuntimeError, match="CLAUSE_TRACKER_SECRET_KEY"):
        create_app()


def test_environment_overrides_settings(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CLAUSE_TRACKER_CONFIG", "production")
    monkeypatch.setenv("CLAUSE_TRACKER_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CLAUSE_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("CLAUSE_TRACKER_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("CLAUSE_TRACKER_MAIL_USE_TLS", "true")
    app = create_app()
    assert app.config["LOGIN_MAX_FAILURES"] == 3
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/x.db")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_unknown_config_name_is_explained(monkeypatch) -> None:
    monkeypatch.setenv("CLAUSE_TRACKER_CONFIG", "staging")
    with pytest.raises(RuntimeError, match="development, testing, production"):
        create_app()


def test_strict_headers(client) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(client, signed_in, published_clauses) -> None:
    signed_in("admin")
    for path in ("/", "/clauses/", "/audit/", "/admin/users", "/login"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "onclick=" not in page and "style=" not in page


def test_not_found_page_in_german_and_english(client) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Traceback" not in page
    client.set_cookie("lang", "en")
    english = client.get("/nowhere").get_data(as_text=True)
    assert '<html lang="en">' in english and "Not found" in english


def test_request_size_limit(app, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"username": "x" * 4096})
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)


def test_unexpected_error_shows_no_internals(app_config) -> None:
    app_config["PROPAGATE_EXCEPTIONS"] = False
    app = create_app(app_config)

    @app.route("/boom")
    def boom():
        raise ValueError("secret internals")

    boom.required_permission = "public"
    response = german(app.test_client()).get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page and "Traceback" not in page
    assert ("Ein unerwarteter Fehler ist aufgetreten. Nichts wurde gespeichert. Bitte versuchen "
            "Sie es später erneut.") in page


def test_health_reports_database_and_migrations(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "migrations": "current",
                             "scheduler": {"status": "never"}}


def test_health_reports_pending_migrations(app_config, tmp_path) -> None:
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/empty.db"
    app = create_app(app_config)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["migrations"] == "pending"


def test_language_switch_is_remembered(client, signed_in, csrf) -> None:
    user = signed_in("auditor")
    token = csrf(client, "/")
    response = client.post("/language", data={"language": "en", "next": "/clauses/",
                                              "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/clauses/"
    assert "lang=en" in response.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    from clause_tracker.auth.models import User
    from clause_tracker.extensions import db

    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"


def test_language_switch_rejects_foreign_redirect(client, csrf) -> None:
    token = csrf(client, "/login")
    response = client.post("/language", data={"language": "en", "next": "//evil.example",
                                              "csrf_token": token})
    assert "evil" not in response.headers["Location"]


def test_german_formats(app) -> None:
    from flask_babel import refresh

    from clause_tracker.i18n import format_day, format_money

    with app.test_request_context():
        assert format_day(date(2026, 3, 5)) == "05.03.2026"
        assert format_money(Decimal("1234.56")).replace("\xa0", " ") == "1.234,56 €"
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        refresh()  # the locale is cached per app context, which the test shares
        assert format_day(date(2026, 3, 5)) == "05/03/2026"
