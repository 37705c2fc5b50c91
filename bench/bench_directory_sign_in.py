"""Benchmark: a sign-in through the city's directory against a local sign-in, on a real slapd.

    python bench/bench_directory_sign_in.py [--rounds 30] [--database-url URL]

Starts Debian's slapd on loopback (the test directory of tests/directory/slapd.py) and times
the sign-in POST (median; the form's GET is not timed) of
  local      a local account: argon2id at production cost
  direct     a directory account by direct bind (DN template), groups from memberOf
  search     the same through the service account's search, groups by a group search
  starttls   direct bind after StartTLS, the certificate checked against the test CA
  ldaps      direct bind over LDAPS
each as a ratio to the local sign-in measured in the same run. Goal: a directory sign-in costs
no more than a local one (a few loopback round trips instead of an argon2 check); the gap is
also what the page's answer time tells apart (README, Security notes).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import median_ms  # bench/ is on sys.path when run as a script
from scratch_database import scratch

from clause_tracker import create_app
from clause_tracker.auth.services import create_user
from clause_tracker.extensions import db
from tests.directory.slapd import GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, Slapd, group_dn

PASSWORD = "bench-password-long-enough"  # noqa: S105
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def sign_in_once(app, username: str) -> None:
    """Not timed: the GET of the form. Timed by the caller: everything."""
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True))
    assert token
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302, (username, response.status_code)


def timed_post(app, username: str, rounds: int) -> float:
    """Median of the POST alone: each round's form is fetched first, outside the timing."""
    clients = []
    for _ in range(rounds + 1):
        client = app.test_client()
        page = client.get("/login")
        token = CSRF.search(page.get_data(as_text=True))
        assert token, (page.status_code, page.headers.get("Location"))
        clients.append((client, token.group(1)))

    def post() -> None:
        client, token = clients.pop()
        response = client.post("/login", data={"username": username, "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302, (username, response.status_code)

    return median_ms(post, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-slapd-"))
    server = Slapd(folder)
    server.start()
    url, drop = scratch(args.database_url)
    try:
        server.add_person("bench", PASSWORD, ("ct-auditors", "ct-grants"))
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://", "LOGIN_RATE_LIMIT_ADDRESS": "100000 per hour",
            "LOGIN_RATE_LIMIT_ACCOUNT": "100000 per hour", "SESSION_COOKIE_SECURE": False,
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "LDAP_ENABLED": True, "LDAP_URL": server.ldap_url, "LDAP_CA_FILE": str(server.ca),
            "LDAP_BIND_TEMPLATE": f"uid={{username}},{PEOPLE}", "LDAP_USER_BASE_DN": PEOPLE,
            "LDAP_ROLE_GROUPS": (f"auditor={group_dn('ct-auditors')}",),
        })
        with app.app_context():
            from flask_migrate import upgrade  # only the benchmark migrates: not at import

            upgrade()
            create_user("local-admin", PASSWORD, "admin")
            db.session.remove()
        # Requests outside the set-up's app context: each gets its own, as in production.
        sign_in_once(app, "bench")  # the account exists: every round is a later sign-in
        figures = {"local": timed_post(app, "local-admin", args.rounds),
                   "direct": timed_post(app, "bench", args.rounds)}
        app.config.update(LDAP_BIND_TEMPLATE="", LDAP_BIND_DN=SERVICE_DN,
                          LDAP_BIND_PASSWORD=SERVICE_PASSWORD, LDAP_MEMBER_OF_ATTRIBUTE="",
                          LDAP_GROUP_BASE_DN=GROUPS,
                          LDAP_GROUP_FILTER="(|(member={dn})(memberUid={username}))")
        figures["search"] = timed_post(app, "bench", args.rounds)
        app.config.update(LDAP_BIND_TEMPLATE=f"uid={{username}},{PEOPLE}", LDAP_BIND_DN=None,
                          LDAP_MEMBER_OF_ATTRIBUTE="memberOf", LDAP_GROUP_BASE_DN="",
                          LDAP_START_TLS=True)
        figures["starttls"] = timed_post(app, "bench", args.rounds)
        app.config.update(LDAP_START_TLS=False, LDAP_URL=server.ldaps_url)
        figures["ldaps"] = timed_post(app, "bench", args.rounds)
        with app.app_context():
            db.engine.dispose()
    finally:
        server.stop()
        drop()
    base = figures["local"]
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"sign-in POST, median of {args.rounds} ({database})")
    for name, ms in figures.items():
        print(f"  {name:9} {ms:8.1f} ms   {ms / base:5.2f}x local")


if __name__ == "__main__":
    main()
