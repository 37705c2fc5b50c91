"""Configuration from CLAUSE_TRACKER_* variables: every documented variable, value and type."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Config as FlaskConfig

from clause_tracker import ROOT, create_app
from clause_tracker.app import _load_config_module

config = _load_config_module()
PREFIX = "CLAUSE_TRACKER_"
TRUE_WORDS = ["1", "true", "yes", "on", "TRUE", " Yes ", "On"]
FALSE_WORDS = ["0", "false", "no", "off", "", "FALSE", " No "]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    """Sets CLAUSE_TRACKER_* variables, after removing the ones of the test run."""
    import os

    for name in [n for n in os.environ if n.startswith(PREFIX)]:
        monkeypatch.delenv(name)

    def set_variables(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(PREFIX + name, value)

    return set_variables


def _loaded() -> FlaskConfig:
    loaded = FlaskConfig(str(ROOT))
    config.configure(loaded)
    return loaded


def _documented_variables() -> set[str]:
    """The variables named in README.md's Configuration table (wildcards left out)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    names = {m for line in table for m in re.findall(r"`(CLAUSE_TRACKER_[A-Z0-9_]+)`", line)}
    return {name.removeprefix(PREFIX) for name in names if not name.endswith("_")}


def _readme_examples(tmp_path: Path) -> dict[str, tuple[str, str, object]]:
    """variable (without prefix) → (its text, the setting, the value the app must have)."""
    database = f"sqlite:///{tmp_path}/x.db"
    return {
        "CONFIG": ("production", "CONFIG_NAME", "production"),
        "DATABASE_URL": (database, "SQLALCHEMY_DATABASE_URI", database),
        "SECRET_KEY": ("20260305", "SECRET_KEY", "20260305"),  # digits stay text
        "UPLOAD_FOLDER": (str(tmp_path / "up"), "UPLOAD_FOLDER", str(tmp_path / "up")),
        "MAX_CONTENT_LENGTH": ("10485760", "MAX_CONTENT_LENGTH", 10485760),
        "LOGIN_MAX_FAILURES": ("3", "LOGIN_MAX_FAILURES", 3),
        "LOGIN_LOCKOUT_MINUTES": ("30", "LOGIN_LOCKOUT_MINUTES", 30),
        "LOGIN_RATE_LIMIT_ADDRESS": ("50 per hour", "LOGIN_RATE_LIMIT_ADDRESS", "50 per hour"),
        "LOGIN_RATE_LIMIT_ACCOUNT": ("5 per hour", "LOGIN_RATE_LIMIT_ACCOUNT", "5 per hour"),
        "RATELIMIT_STORAGE_URI": ("redis://127.0.0.1:6379/3", "RATELIMIT_STORAGE_URI",
                                  "redis://127.0.0.1:6379/3"),
        "RATELIMIT_KEY_PREFIX": ("2026", "RATELIMIT_KEY_PREFIX", "2026"),  # digits stay text
        "PROXY_FIX_X_FOR": ("1", "PROXY_FIX_X_FOR", 1),
        "SESSION_IDLE_MINUTES": ("30", "SESSION_IDLE_MINUTES", 30),
        "PERMANENT_SESSION_LIFETIME": ("3600", "PERMANENT_SESSION_LIFETIME", 3600),
        "REQUIRE_2FA_ADMIN": ("on", "REQUIRE_2FA_ADMIN", True),
        "TOTP_ISSUER": ("Stadt Jena", "TOTP_ISSUER", "Stadt Jena"),
        "SECOND_FACTOR_PENDING_SECONDS": ("120", "SECOND_FACTOR_PENDING_SECONDS", 120),
        "API_TOKEN_MAX_DAYS": ("30", "API_TOKEN_MAX_DAYS", 30),
        "SESSION_COOKIE_SECURE": ("off", "SESSION_COOKIE_SECURE", False),
        "MAIL_SERVER": ("smtp.jena.de", "MAIL_SERVER", "smtp.jena.de"),
        "MAIL_PORT": ("587", "MAIL_PORT", 587),
        "MAIL_USE_TLS": ("yes", "MAIL_USE_TLS", True),
        "MAIL_USERNAME": ("4711", "MAIL_USERNAME", "4711"),
        "MAIL_PASSWORD": ("12.50", "MAIL_PASSWORD", "12.50"),  # not the number 12.5
        "MAIL_SENDER": ("klausel@jena.de", "MAIL_SENDER", "klausel@jena.de"),
        "MAIL_USE_SSL": ("true", "MAIL_USE_SSL", True),
        "MAIL_RETRY_BASE_SECONDS": ("30", "MAIL_RETRY_BASE_SECONDS", 30),
        "MAIL_RETRY_DAYS": ("5", "MAIL_RETRY_DAYS", 5),
        "MAIL_INTERRUPTED_MINUTES": ("15", "MAIL_INTERRUPTED_MINUTES", 15),
        "MAIL_OUTAGE_ALERT_MINUTES": ("30", "MAIL_OUTAGE_ALERT_MINUTES", 30),
        "MAIL_ALERT_TO": ("it@jena.de | bmi@jena.de", "MAIL_ALERT_TO",
                          ("it@jena.de", "bmi@jena.de")),
        "STORAGE_BACKEND": ("postgres", "STORAGE_BACKEND", "postgres"),
        "DOCX_MAX_FILE_BYTES": ("1048576", "DOCX_MAX_FILE_BYTES", 1048576),
        "DOCX_MAX_UNCOMPRESSED_BYTES": ("5242880", "DOCX_MAX_UNCOMPRESSED_BYTES", 5242880),
        "DOCX_MAX_PART_BYTES": ("2097152", "DOCX_MAX_PART_BYTES", 2097152),
        "DOCX_MAX_COMPRESSION_RATIO": ("50", "DOCX_MAX_COMPRESSION_RATIO", 50),
        "DOCX_MAX_PARTS": ("500", "DOCX_MAX_PARTS", 500),
        "PDF_MAX_PAGES": ("50", "PDF_MAX_PAGES", 50),
        "SANDBOX_CPU_SECONDS": ("30", "SANDBOX_CPU_SECONDS", 30),
        "OCR_MATCH_THRESHOLD": ("1", "OCR_MATCH_THRESHOLD", 1.0),
        "SIGNED_COPY_KINDS": ("contract | grant", "SIGNED_COPY_KINDS", ("contract", "grant")),
        "SIGNED_COPY_DUE_WORKING_DAYS": ("10", "SIGNED_COPY_DUE_WORKING_DAYS", 10),
        "PLAUSIBLE_MAX_AMOUNT": ("5000000", "PLAUSIBLE_MAX_AMOUNT", 5000000),
        "SIGNATURE_TRUST_DIR": (str(tmp_path / "ca"), "SIGNATURE_TRUST_DIR",
                                str(tmp_path / "ca")),
        "EXEMPTION_REASONS": ("Dringlichkeit | Geheimschutz", "EXEMPTION_REASONS",
                              ("Dringlichkeit", "Geheimschutz")),
        "CLAUSE_TEXTS_DIR": (str(tmp_path / "texts"), "CLAUSE_TEXTS_DIR",
                             str(tmp_path / "texts")),
        "ACCESSIBILITY_CONTACT_EMAIL": ("a11y@jena.de", "ACCESSIBILITY_CONTACT_EMAIL",
                                        "a11y@jena.de"),
        "ACCESSIBILITY_STATEMENT_DATE": ("2027-01-15", "ACCESSIBILITY_STATEMENT_DATE",
                                         "2027-01-15"),
        "ACCESSIBILITY_ENFORCEMENT_NAME": ("Landesdurchsetzungsstelle",
                                           "ACCESSIBILITY_ENFORCEMENT_NAME",
                                           "Landesdurchsetzungsstelle"),
        "EFORMS_MAX_FILE_BYTES": ("1048576", "EFORMS_MAX_FILE_BYTES", 1048576),
        "OCDS_OCID_PREFIX": ("ocds-abc123", "OCDS_OCID_PREFIX", "ocds-abc123"),
        "OCDS_PUBLISHER_NAME": ("Stadt Jena", "OCDS_PUBLISHER_NAME", "Stadt Jena"),
        "OCDS_BUYER_NAME": ("2026", "OCDS_BUYER_NAME", "2026"),  # digits stay text
        # Directory sign-in: a configuration that works (create_app checks it)
        "LDAP_ENABLED": ("yes", "LDAP_ENABLED", True),
        "LDAP_URL": ("ldaps://ldap.jena.de:636", "LDAP_URL", "ldaps://ldap.jena.de:636"),
        "LDAP_START_TLS": ("off", "LDAP_START_TLS", False),
        "LDAP_CA_FILE": (str(tmp_path / "ca.pem"), "LDAP_CA_FILE", str(tmp_path / "ca.pem")),
        "LDAP_CONNECT_TIMEOUT_SECONDS": ("3", "LDAP_CONNECT_TIMEOUT_SECONDS", 3),
        "LDAP_BIND_TEMPLATE": ("{username}@jena.de", "LDAP_BIND_TEMPLATE", "{username}@jena.de"),
        "LDAP_BIND_DN": ("cn=svc,dc=jena,dc=de", "LDAP_BIND_DN", "cn=svc,dc=jena,dc=de"),
        "LDAP_USER_BASE_DN": ("ou=people,dc=jena,dc=de", "LDAP_USER_BASE_DN",
                              "ou=people,dc=jena,dc=de"),
        "LDAP_USER_FILTER": ("(sAMAccountName={username})", "LDAP_USER_FILTER",
                             "(sAMAccountName={username})"),
        "LDAP_USERNAME_ATTRIBUTE": ("sAMAccountName", "LDAP_USERNAME_ATTRIBUTE",
                                    "sAMAccountName"),
        "LDAP_DISABLED_FILTER": ("(userAccountControl:1.2.840.113556.1.4.803:=2)",
                                 "LDAP_DISABLED_FILTER",
                                 "(userAccountControl:1.2.840.113556.1.4.803:=2)"),
        "LDAP_MEMBER_OF_ATTRIBUTE": ("", "LDAP_MEMBER_OF_ATTRIBUTE", ""),
        "LDAP_GROUP_BASE_DN": ("ou=groups,dc=jena,dc=de", "LDAP_GROUP_BASE_DN",
                               "ou=groups,dc=jena,dc=de"),
        "LDAP_ROLE_GROUPS": ("admin=cn=a,dc=jena,dc=de | auditor=cn=b,dc=jena,dc=de",
                             "LDAP_ROLE_GROUPS",
                             ("admin=cn=a,dc=jena,dc=de", "auditor=cn=b,dc=jena,dc=de")),
        "LDAP_UNIT_GROUPS": ("KIJ=cn=kij,dc=jena,dc=de", "LDAP_UNIT_GROUPS",
                             ("KIJ=cn=kij,dc=jena,dc=de",)),
        "SCHEDULER_DIRECTORY_SYNC_HOUR": ("3", "SCHEDULER_DIRECTORY_SYNC_HOUR", 3),
        "HEALTHZ_REQUIRE_SCHEDULER": ("yes", "HEALTHZ_REQUIRE_SCHEDULER", True),
        "SCHEDULER_GIVE_UP_SECONDS": ("600", "SCHEDULER_GIVE_UP_SECONDS", 600),
        # not in the production class: Flask's JSON reading makes them numbers
        "ARGON2_TIME_COST": ("2", "ARGON2_TIME_COST", 2),
        "ARGON2_MEMORY_COST": ("2048", "ARGON2_MEMORY_COST", 2048),
        "ARGON2_PARALLELISM": ("2", "ARGON2_PARALLELISM", 2),
    }


def test_every_variable_of_the_readme_table_reaches_the_app(environment, tmp_path) -> None:
    examples = _readme_examples(tmp_path)
    assert _documented_variables() <= set(examples), \
        "a variable of README.md's table has no example here"
    environment(**{name: text for name, (text, _, _) in examples.items()})
    app = create_app()
    for name, (_, setting, expected) in examples.items():
        value = app.config[setting]
        assert value == expected and type(value) is type(expected), (name, value)
    assert "DATABASE_URL" not in app.config and "CONFIG" not in app.config


def _settings(name: str) -> dict[str, object]:
    cls = config.CONFIGS[name]
    return {key: getattr(cls, key) for key in dir(cls) if key.isupper()}


def _example(default: object) -> tuple[str, object]:
    """A variable's text for a setting with this default, and the value it must give."""
    if isinstance(default, bool):
        return ("off", False) if default else ("on", True)
    if isinstance(default, int):
        return str(default + 7), default + 7
    if isinstance(default, float):
        return "1", 1.0
    if isinstance(default, tuple):
        return " a | b||c ", ("a", "b", "c")
    if default is None or isinstance(default, str):
        return "0.10", "0.10"  # JSON would make it a number
    if isinstance(default, timedelta):
        return "3600", 3600  # seconds; Flask turns them into the session's lifetime
    if isinstance(default, dict):
        return '{"pool_size": 10}', {"pool_size": 10}
    raise AssertionError(f"a new kind of setting, {type(default)}: decide how it is read")


@pytest.mark.parametrize("name", sorted(config.CONFIGS))
def test_every_setting_of_config_py_keeps_its_type(environment, name: str) -> None:
    settings = _settings(name)
    examples = {key: _example(default) for key, default in settings.items()}
    environment(CONFIG=name, **{key: text for key, (text, _) in examples.items()})
    loaded = _loaded()
    assert loaded["CONFIG_NAME"] == name
    for key, (_, expected) in examples.items():
        assert loaded[key] == expected and type(loaded[key]) is type(expected), key


@pytest.mark.parametrize(("word", "expected"), [(w, True) for w in TRUE_WORDS]
                         + [(w, False) for w in FALSE_WORDS])
def test_every_flag_takes_the_documented_words(environment, word: str, expected: bool) -> None:
    flags = [key for key, default in _settings("production").items()
             if isinstance(default, bool)]
    assert {"SESSION_COOKIE_SECURE", "MAIL_USE_TLS", "COMPLIANCE_SPREAD_FIRST_CHECKS"} <= set(flags)
    environment(CONFIG="production", **dict.fromkeys(flags, word))
    loaded = _loaded()
    assert {key: loaded[key] for key in flags} == dict.fromkeys(flags, expected)


def test_without_variables_the_class_defaults_hold(environment) -> None:
    environment(CONFIG="testing")
    loaded = _loaded()
    for key, default in _settings("testing").items():
        assert loaded[key] == default, key


def test_one_key_of_a_dictionary_setting(environment) -> None:
    environment(SQLALCHEMY_ENGINE_OPTIONS__pool_recycle="300")
    assert _loaded()["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True, "pool_recycle": 300}
    assert config.Config.SQLALCHEMY_ENGINE_OPTIONS == {"pool_pre_ping": True}  # class untouched


def test_the_documented_database_variable_wins(environment, tmp_path) -> None:
    environment(SQLALCHEMY_DATABASE_URI="sqlite:///other.db",
                DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert _loaded()["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/x.db"


@pytest.mark.parametrize(("variable", "text", "message"), [
    ("MAIL_USE_TLS", "treu", "CLAUSE_TRACKER_MAIL_USE_TLS must be a flag"),
    ("MAIL_PORT", "25x", "CLAUSE_TRACKER_MAIL_PORT must be a whole number, not '25x'"),
    ("LOGIN_MAX_FAILURES", "2.5", "CLAUSE_TRACKER_LOGIN_MAX_FAILURES must be a whole number"),
])
def test_a_misspelt_value_stops_the_start(environment, variable, text, message) -> None:
    environment(**{variable: text})
    with pytest.raises(RuntimeError, match=re.escape(message)):
        _loaded()


@pytest.mark.parametrize("secret", [None, ""])
def test_production_needs_a_secret_key(environment, tmp_path, secret) -> None:
    environment(CONFIG="production", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    if secret is not None:
        environment(SECRET_KEY=secret)
    with pytest.raises(RuntimeError) as refused:
        create_app()
    assert str(refused.value) == (
        "No secret key: set CLAUSE_TRACKER_SECRET_KEY to a long random value "
        "(for example: python -c 'import secrets; print(secrets.token_hex(32))').")
