"""Configuration classes; every setting can be overridden by a CLAUSE_TRACKER_* variable.

`CLAUSE_TRACKER_CONFIG` picks the class (development, testing, production);
any other `CLAUSE_TRACKER_<NAME>` sets `<NAME>` (integers and booleans are parsed).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PREFIX = "CLAUSE_TRACKER_"
BASE_DIR = Path(__file__).resolve().parent


class Config:
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    UPLOAD_FOLDER: str | None = None  # default: <instance>/uploads
    CLAUSE_TEXTS_DIR = str(BASE_DIR / "clause_texts")

    # Sessions and cookies: signed cookies only, nothing in a worker's memory.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Requests and uploads
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024

    # Login throttling
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15

    # Internationalisation
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ("de", "en")
    CLI_LOCALE = "en"  # messages of the command line, which scripts may parse

    # Mail (used by the compliance reminders)
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "clause-tracker@jena.de"

    # DOCX ingest limits (every uploaded document is hostile until checked)
    DOCX_MAX_FILE_BYTES = 20 * 1024 * 1024
    DOCX_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
    DOCX_MAX_PART_BYTES = 50 * 1024 * 1024
    DOCX_MAX_COMPRESSION_RATIO = 100
    DOCX_MAX_PARTS = 1000

    # Registry: reasons an award may be exempted from the clause (with a second person's
    # approval). Empty by default: the action plan says "every" award carries the clause.
    EXEMPTION_REASONS: tuple[str, ...] = ()

    GENERATE_SECRET_KEY = False
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    # Local HTTP on 127.0.0.1: secure cookies would never be sent back.
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    GENERATE_SECRET_KEY = True  # kept in the instance folder, never in the code


class TestingConfig(Config):
    TESTING = True
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SECRET_KEY = "test-only-not-secret"  # noqa: S105
    # Cheap hashes: the suite creates many users; production keeps argon2's defaults.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    pass


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def _parse(value: str, current: object) -> object:
    if isinstance(current, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(value)
    if isinstance(current, tuple):  # a list of values separated by "|"
        return tuple(part.strip() for part in value.split("|") if part.strip())
    return value


def from_environment(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, object]:
    """Settings from CLAUSE_TRACKER_* variables, typed like the class defaults."""
    environ = os.environ if environ is None else environ
    name = environ.get(PREFIX + "CONFIG", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"{PREFIX}CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}")
    cls = CONFIGS[name]
    settings: dict[str, object] = {
        key: getattr(cls, key) for key in dir(cls) if key.isupper()
    }
    settings["CONFIG_NAME"] = name
    aliases = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}
    for key, value in environ.items():
        if not key.startswith(PREFIX) or key == PREFIX + "CONFIG":
            continue
        setting = key[len(PREFIX):]
        setting = aliases.get(setting, setting)
        settings[setting] = _parse(value, settings.get(setting))
    return settings
