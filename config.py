"""Configuration classes; every setting can be overridden by a CLAUSE_TRACKER_* variable.

`CLAUSE_TRACKER_CONFIG` picks the class (development, testing, production); any other
`CLAUSE_TRACKER_<NAME>` sets `<NAME>` through Flask's `Config.from_prefixed_env`, which
reads the value as JSON (`5`, `true`, `{"pool_size": 10}`) or else keeps the text, and sets
one key of a dictionary setting with `__` (`..._SQLALCHEMY_ENGINE_OPTIONS__pool_size=10`).
Where JSON would read a setting of this file otherwise than documented, the class default's
type decides instead: flags take `1`, `true`, `yes`, `on` (and `0`, `false`, `no`, `off`),
lists are separated by `|`, text stays text (a password of digits, a share like `0.10`), and
whole numbers are checked to be whole numbers.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Config as FlaskConfig

PREFIX = "CLAUSE_TRACKER_"
BASE_DIR = Path(__file__).resolve().parent


class Config:
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    UPLOAD_FOLDER: str | None = None  # default: <instance>/uploads
    # Where stored files live: "local" (UPLOAD_FOLDER, one machine's) or "postgres" (the
    # database, shared by every node). Unset: "postgres" on PostgreSQL, "local" otherwise.
    STORAGE_BACKEND: str | None = None
    CLAUSE_TEXTS_DIR = str(BASE_DIR / "clause_texts")

    # Sessions and cookies: signed cookies only, nothing in a worker's memory.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Absolute from the sign-in (kept server-side in user_sessions, see auth/sessions.py):
    # requests do not extend it; SESSION_IDLE_MINUTES without a request end it sooner.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_IDLE_MINUTES = 60
    SESSION_TOUCH_SECONDS = 60  # last_seen_at is written at most this often per session
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Requests and uploads
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    # Imports (agreements/importing.py): larger files run as a job of the scheduler process
    # with a progress page (about 2,000 rows); a job silent for this long is taken up again.
    IMPORT_BACKGROUND_BYTES = 256 * 1024
    IMPORT_STALE_MINUTES = 10
    # An amount (EUR) above this is possible but unusual: the record forms ask to confirm
    # it, imports list it as a warning.
    PLAUSIBLE_MAX_AMOUNT = 100_000_000
    # XLSX imports go through the DOCX package checks with these limits.
    IMPORT_MAX_FILE_BYTES = 20 * 1024 * 1024
    IMPORT_MAX_UNCOMPRESSED_BYTES = 150 * 1024 * 1024
    IMPORT_MAX_PART_BYTES = 100 * 1024 * 1024
    IMPORT_MAX_COMPRESSION_RATIO = 200
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024

    # Login throttling
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    # Failed sign-ins (and second-factor codes) allowed per client address and per account
    # name (known or not), counted by Flask-Limiter on shared storage; more answer 429.
    LOGIN_RATE_LIMIT_ADDRESS = "20 per 10 minutes"
    LOGIN_RATE_LIMIT_ACCOUNT = "10 per hour"
    RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379"
    RATELIMIT_KEY_PREFIX = "clause_tracker"
    RATELIMIT_STRATEGY = "moving-window"
    # Redis away: count in the worker's memory instead (weaker, but sign-in keeps working),
    # and never answer an error because the counters cannot be reached.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_HEADERS_ENABLED = False
    # The optional second factor (TOTP): required of administrators when on; the name the
    # authenticator app shows; how long a right password waits for its code.
    REQUIRE_2FA_ADMIN = False
    TOTP_ISSUER = "Klausel-Tracker Jena"
    SECOND_FACTOR_PENDING_SECONDS = 300
    # API tokens: the longest validity one may be given (days); every token expires.
    API_TOKEN_MAX_DAYS = 365
    # Sign-in through the city's directory (auth/directory.py; README "Directory sign-in").
    # Off: local accounts only. On: a name that is not a local account is asked of the
    # directory; local accounts (break-glass administrators) keep their own passwords.
    LDAP_ENABLED = False
    LDAP_URL = ""  # ldap://host:389 (with LDAP_START_TLS) or ldaps://host:636
    LDAP_START_TLS = False
    LDAP_CA_FILE: str | None = None  # PEM CA(s) the server's certificate must chain to
    LDAP_CONNECT_TIMEOUT_SECONDS = 5
    LDAP_TIMEOUT_SECONDS = 10  # each answer of the server, and the server's search limit
    # Direct bind: the bind name from the name typed ("uid={username},ou=people,dc=…" or,
    # Active Directory, "{username}@jena.de"). Empty: search with the service account.
    LDAP_BIND_TEMPLATE = ""
    LDAP_BIND_DN: str | None = None  # the service account (search mode, synchronisation)
    LDAP_BIND_PASSWORD: str | None = None
    LDAP_USER_BASE_DN = ""
    LDAP_USER_FILTER = "(uid={username})"  # AD: (&(objectClass=user)(sAMAccountName={username}))
    LDAP_USERNAME_ATTRIBUTE = "uid"  # AD: sAMAccountName
    LDAP_NAME_ATTRIBUTE = "cn"  # AD: displayName
    LDAP_EMAIL_ATTRIBUTE = "mail"
    # Entries this filter matches (read on the entry itself) count as disabled;
    # AD: (userAccountControl:1.2.840.113556.1.4.803:=2); OpenLDAP: (pwdAccountLockedTime=*)
    LDAP_DISABLED_FILTER = ""
    LDAP_MEMBER_OF_ATTRIBUTE = "memberOf"  # empty: not read
    # Groups found by a search as well, {dn} and {username} put in escaped, e.g.
    # "(|(member={dn})(memberUid={username}))"; AD nested: "(member:1.2.840.113556.1.4.1941:={dn})"
    LDAP_GROUP_BASE_DN = ""
    LDAP_GROUP_FILTER = ""
    # "ROLE=group DN" and "UNIT-CODE=group DN", `|`-separated; the first role group wins.
    LDAP_ROLE_GROUPS: tuple[str, ...] = ()
    LDAP_UNIT_GROUPS: tuple[str, ...] = ()
    # The scheduler's daily `users sync-directory` at this hour (-1: not scheduled).
    SCHEDULER_DIRECTORY_SYNC_HOUR = -1

    # Reverse proxies in front of the app whose X-Forwarded-For / -Proto to trust (0: none).
    # Behind one TLS-terminating proxy set 1, or every client has the proxy's address.
    PROXY_FIX_X_FOR = 0

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
    APP_BASE_URL = ""  # links in e-mails, e.g. https://klausel.jena.de

    # The accessibility statement (EU model statement, ThürBarrWebG/ThürBITVO): where
    # barriers are reported, when the statement was prepared, and the enforcement body.
    ACCESSIBILITY_CONTACT_EMAIL = "barrierefreiheit@jena.de"
    ACCESSIBILITY_STATEMENT_DATE = "2026-12-07"  # ISO; shown as TT.MM.JJJJ
    ACCESSIBILITY_ENFORCEMENT_NAME = (
        "Landesdurchsetzungsstelle für digitale Barrierefreiheit beim Beauftragten für "
        "Menschen mit Behinderungen des Freistaats Thüringen")
    ACCESSIBILITY_ENFORCEMENT_URL = (
        "https://tlmb-thueringen.de/themen/barrierefreiheit/landesdurchsetzungsstelle")
    ACCESSIBILITY_ENFORCEMENT_ADDRESS = ""  # postal address, lines separated by "|"

    # Compliance checks (issue 5). Intervals in months per unit and kind: "CODE:kind=months"
    # entries separated by "|" in the environment, e.g. "KIJ:contract=6|*:grant=24".
    COMPLIANCE_INTERVAL_MONTHS = 12
    COMPLIANCE_INTERVALS: tuple[str, ...] = ()
    COMPLIANCE_GRACE_DAYS = 30  # a due check becomes overdue this many days later
    # A first routine check whose interval has passed already when the sweep first meets
    # the agreement (the first sweep over an old registry, an import of running contracts)
    # is given a day within the coming interval, spread by agreement id, instead of all
    # falling due at once: each is still checked within one interval, and the officers do
    # not get every agreement due (and overdue a month later) on the first day.
    COMPLIANCE_SPREAD_FIRST_CHECKS = True
    # Events (new subcontractor, new funding period) older than this when the sweep first
    # sees them start no check: the first run on an old registry must not flood the officers.
    COMPLIANCE_EVENT_LOOKBACK_DAYS = 60
    COMPLIANCE_RENEWAL_LEAD_DAYS = 90  # check a contract with options before its term ends
    # New clause version: "all" active agreements re-sign, or only at "renewal"; per variant.
    COMPLIANCE_RESIGN_POLICY: tuple[str, ...] = ("procurement=renewal", "grant=renewal")
    COMPLIANCE_SAMPLE_SHARE = "0.02"  # share of active agreements drawn each month
    # Escalation of overdue checks: the unit heads ("CODE=address") and further addresses
    # (the Büro für Migration und Integration).
    COMPLIANCE_UNIT_HEADS: tuple[str, ...] = ()
    COMPLIANCE_ESCALATION_EMAILS: tuple[str, ...] = ()
    # Measures: contractual penalty per breach and its cap, in percent of the contract value.
    PENALTY_PERCENT_PER_BREACH = "1"
    PENALTY_PERCENT_CAP = "5"
    EXCLUSION_MAX_YEARS = 3
    # Complaints are linked by the anti-discrimination office's case reference and nothing
    # else (no names, contact details, origin: the case file stays with the office). A
    # reference must match the pattern as a whole; the example is shown in the message.
    COMPLAINT_REFERENCE_PATTERN = r"^ADS-\d{4}-\d{4}$"
    COMPLAINT_REFERENCE_EXAMPLE = "ADS-2026-0042"
    # Retention (years): contracts after end or award, grants after the proof of use.
    RETENTION_CONTRACT_YEARS = 3
    RETENTION_GRANT_YEARS = 5

    # The scheduler process (`clause-tracker scheduler run`), never inside web workers.
    SCHEDULER_TIMEZONE = "Europe/Berlin"
    SCHEDULER_SWEEP_HOUR = 5
    SCHEDULER_DISPATCH_SECONDS = 60
    SCHEDULER_HEARTBEAT_SECONDS = 15
    SCHEDULER_IMPORT_SECONDS = 5  # how often the scheduler looks for queued imports
    SCHEDULER_AUDIT_VERIFY_HOUR = 4  # the nightly check of the audit trail's hash chain
    # The nightly check appends the chain's newest event as an anchor (ID:HASH) to this log,
    # kept outside the database (default: audit_anchors.log in the instance folder; better
    # on another volume), and mails it to these addresses (the audit office), `|`-separated.
    AUDIT_ANCHOR_FILE: str | None = None
    AUDIT_ANCHOR_MAIL_TO: tuple[str, ...] = ()
    SCHEDULER_OVERVIEW_SECONDS = 60  # how soon the overview's figures follow a change
    SCHEDULER_STANDBY_RETRY_SECONDS = 10
    # /healthz and the admin page call a heartbeat older than this stale; 0: two heartbeat
    # intervals (30 s by default).
    SCHEDULER_STALE_SECONDS = 0
    # The scheduler exits (code 75) when the database stays unreachable this long; 0: it
    # never gives up, it retries with a back-off and leads again or stands by.
    SCHEDULER_GIVE_UP_SECONDS = 0
    # /healthz answers 503 while the scheduler's heartbeat is stale or missing (for a node
    # whose health should include the scheduler's; by default it is only reported).
    HEALTHZ_REQUIRE_SCHEDULER = False
    SCHEDULER_LOCK_FILE: str | None = None  # SQLite only; default beside the database file
    SWEEP_STEP_PAUSE_SECONDS = 0  # only for crash tests: pause between sweep steps
    # Delivery at least once: a failed attempt is retried after MAIL_RETRY_BASE_SECONDS,
    # doubled each time up to MAIL_RETRY_MAX_SECONDS, for MAIL_RETRY_DAYS after the first
    # failure; then the message is `failed` (shown on the operations page). A message whose
    # sender died mid-dialogue is sent again MAIL_INTERRUPTED_MINUTES after it was claimed.
    MAIL_RETRY_BASE_SECONDS = 60
    MAIL_RETRY_MAX_SECONDS = 1800
    MAIL_RETRY_DAYS = 3
    MAIL_INTERRUPTED_MINUTES = 10
    # No e-mail out for this long while messages wait: an alert on the operations page and
    # one e-mail per outage to MAIL_ALERT_TO (default: COMPLIANCE_ESCALATION_EMAILS).
    MAIL_OUTAGE_ALERT_MINUTES = 60
    MAIL_ALERT_TO: tuple[str, ...] = ()
    MAIL_TIMEOUT_SECONDS = 20
    MAIL_USE_SSL = False

    # eForms notices (interop/eforms.py): the largest XML file read
    EFORMS_MAX_FILE_BYTES = 10 * 1024 * 1024
    # OCDS export (interop/ocds.py): the ocid prefix registered with the Open Contracting
    # Partnership, the publisher, and the City as buyer (an Eigenbetrieb is its own buyer)
    OCDS_OCID_PREFIX = "ocds-xxxxxx"
    OCDS_PUBLISHER_NAME = "Stadt Jena"
    OCDS_PUBLISHER_URI = "https://www.jena.de"
    OCDS_BUYER_NAME = "Stadt Jena"
    OCDS_BUYER_ID = "DE-JENA"

    # DOCX ingest limits (every uploaded document is hostile until checked)
    DOCX_MAX_FILE_BYTES = 20 * 1024 * 1024
    DOCX_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
    DOCX_MAX_PART_BYTES = 50 * 1024 * 1024
    DOCX_MAX_COMPRESSION_RATIO = 100
    DOCX_MAX_PARTS = 1000
    # Returned PDFs and images (documents/returned.py); parsing and OCR run in a child
    # process with these limits (documents/sandbox.py). DOCX_MAX_FILE_BYTES applies too.
    PDF_MAX_PAGES = 500
    IMAGE_MAX_PIXELS = 60_000_000  # one image or one page rasterised at 300 dpi
    OCR_MAX_PAGES = 20
    SANDBOX_CPU_SECONDS = 100
    SANDBOX_WALL_SECONDS = 110
    SANDBOX_MEMORY_BYTES = 1024 * 1024 * 1024
    OCR_MATCH_THRESHOLD = 0.97  # word similarity from which a scan is an `ocr_match`
    SIGNATURE_TRUST_DIR: str | None = None  # CA certificates (PEM/DER) signers must chain to

    # Registry: reasons an award may be exempted from the clause (with a second person's
    # approval). Empty by default: the action plan says "every" award carries the clause.
    EXEMPTION_REASONS: tuple[str, ...] = ()

    # The signed copy: the kinds whose awards expect the signed document back carrying the
    # clause ("contract" and/or "grant": a grant notice alone is an administrative act and
    # needs none; add "grant" where grantees sign an acceptance or declaration), and how many
    # working days after the award it may take before the agreement is non-compliant.
    SIGNED_COPY_KINDS: tuple[str, ...] = ("contract",)
    SIGNED_COPY_DUE_WORKING_DAYS = 20

    GENERATE_SECRET_KEY = False
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    # Local HTTP on 127.0.0.1: secure cookies would never be sent back.
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # A first look needs no Redis: one process, its own counters.
    RATELIMIT_STORAGE_URI = "memory://"
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


ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}  # documented name: setting
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise ValueError("a flag (1, true, yes, on or 0, false, no, off)")
    return word in TRUE_WORDS


def _entries(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|") if part.strip())


# By the type of the class default: read from the variable's text where Flask's JSON would
# misread it. JSON knows neither yes/on nor "|" lists, and turns a password of digits or a
# share like 0.10 into a number. An unset default (None) is text: keys, URLs, paths, logins.
READERS: dict[type, Callable[[str], object]] = {
    bool: _flag, tuple: _entries, str: str, type(None): str,
    float: float,  # JSON would make "1" the whole number 1
}


def configure(config: FlaskConfig) -> None:
    """The class named by CLAUSE_TRACKER_CONFIG, overridden by the CLAUSE_TRACKER_* variables."""
    name = os.environ.get(PREFIX + "CONFIG", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"{PREFIX}CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}")
    cls = CONFIGS[name]
    # Copies: a `__` variable sets a key inside a dictionary default, which must not change
    # the class for the next application made in this process.
    defaults = {key: copy.deepcopy(getattr(cls, key)) for key in dir(cls) if key.isupper()}
    config.from_mapping(defaults, CONFIG_NAME=name)
    config.from_prefixed_env(PREFIX.removesuffix("_"))
    config.pop("CONFIG", None)  # it chose the class; not a setting
    for setting, default in defaults.items():
        variable = PREFIX + setting
        text = os.environ.get(variable)
        if text is None:
            continue
        reader = READERS.get(type(default))
        try:
            if reader is not None:
                config[setting] = reader(text)
            elif type(default) is int and type(config[setting]) is not int:
                raise ValueError("a whole number")
        except ValueError as exc:
            raise RuntimeError(f"{variable} must be {exc}, not {text!r}") from None
    for alias, setting in ALIASES.items():
        config.pop(alias, None)
        if PREFIX + alias in os.environ:  # text, as the setting it names; and it wins
            config[setting] = os.environ[PREFIX + alias]
