"""Benchmark: the JSON API's list of agreements against the registry's HTML page, both
over the same list query (compliance state as SQL), at 20,000 agreements.

    python bench/bench_api.py [--rows 20000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Fills a scratch database as bench_registry_list.py does, then times (median of 7, in
process through the WSGI test client) the first page unfiltered and filtered by compliance
state: through the API with a bearer token, through the HTML page with a signed-in session,
and the list query alone. Prints each and the ratios API/HTML and API/query (what token
check, serialisation and the response cost on top of the query).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_registry_list import _fill  # bench/ is on sys.path when run as a script
from scratch_database import scratch

from clause_tracker import create_app

PASSWORD = "correct horse battery"  # noqa: S105  # the scratch database's bench account


def _median(fn, rounds: int = 7) -> float:
    fn()  # warm
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--url", default=None, help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    url, drop = scratch(args.url)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "TESTING": True, "WTF_CSRF_ENABLED": False,
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                          "ARGON2_PARALLELISM": 1})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            _fill(args.rows)
            from clause_tracker.api import tokens
            from clause_tracker.auth.services import create_user
            from clause_tracker.registry import queries

            auditor = create_user("bench-auditor", PASSWORD, "auditor")
            _token, secret = tokens.issue(auditor, "bench", False, 30, auditor)
            api = app.test_client()
            html = app.test_client()
            page = html.get("/login").get_data(as_text=True)
            found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
            html.post("/login", data={"username": "bench-auditor", "password": PASSWORD,
                                      "csrf_token": found.group(1) if found else ""})
            headers = {"Authorization": f"Bearer {secret}"}
            print(f"{args.rows} agreements on {url.split(':')[0]}")
            print(f"{'':36}{'API':>10}{'HTML':>10}{'query':>10}{'API/HTML':>10}{'API/query':>10}")
            for label, query in (("page 1, newest first", ""),
                                 ("filtered: non_compliant", "compliance=non_compliant")):
                def via_api(q: str = query) -> None:
                    assert api.get(f"/api/v1/agreements?{q}", headers=headers).status_code == 200

                def via_html(q: str = query) -> None:
                    assert html.get(f"/agreements/?{q}").status_code == 200

                def via_query(q: str = query) -> None:
                    flt = queries.ListFilter(compliance="non_compliant") if q \
                        else queries.ListFilter()
                    queries.page(auditor, flt, 1, on=date.today())

                a, h, s = _median(via_api), _median(via_html), _median(via_query)
                print(f"{label:36}{a * 1000:8.1f}ms{h * 1000:8.1f}ms{s * 1000:8.1f}ms"
                      f"{a / h:10.2f}{a / s:10.2f}")
    finally:
        drop()


if __name__ == "__main__":
    main()
