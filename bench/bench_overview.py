"""Benchmark: the overview and its drill-down lists at scale; throughput under gunicorn.

    python bench/bench_overview.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test \
        [--contracts 100000 --grants 20000 --audit-events 1000000] [--keep]
    python bench/bench_overview.py --url … --reuse DATABASE_URL   (a database kept before)

Creates a scratch database on that server (dropped afterwards unless --keep), fills it with
`bench-data`, then measures
1. server time (in-process, test client) of the overview — computed fresh (what the
   scheduler pays after each change) and as served from the stored snapshot — and of
   drill-down list pages: p50/p95;
2. requests per second of the overview vs. a minimal Flask route on the same gunicorn
   (2 sync workers, 127.0.0.1), a fixed number of requests from 4 client threads; and of a
   route that only answers a signed-in user (the floor of any page of the app).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch_database import scratch  # noqa: E402  (bench/ is on sys.path as a script)

from clause_tracker import create_app  # noqa: E402

PASSWORD = "correct horse battery"  # noqa: S105 (a scratch database's bench user)
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DRILLS = [
    {"scope": "in_scope"},
    {"scope": "in_scope", "compliance": "compliant"},
    {"scope": "in_scope", "compliance": "non_compliant", "unit_kind": "eigenbetrieb"},
    {"expiring_within": 30},
    {"declaration": "on_time", "kind": "grant"},
    {"quarter": "2022-Q2", "scope": "in_scope"},
    {"check": "overdue"},
    {"measure": "exclusion_in_force"},
]




def pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def timed(label: str, fn, rounds: int, before=None) -> None:
    """p50/p95 of `fn`; `before` (untimed) runs ahead of each round."""
    times = []
    for _ in range(rounds):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    print(f"  {label:58} p50 {pct(times, .5):7.1f} ms  p95 {pct(times, .95):7.1f} ms  (n={rounds})")


def login(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": "bench-auditor", "password": PASSWORD,
                                           "csrf_token": TOKEN.search(page).group(1)})
    assert response.status_code == 302, response.status_code


def in_process(url: str, rounds: int) -> None:
    from sqlalchemy import delete

    from clause_tracker.extensions import db
    from clause_tracker.overview.models import OverviewSnapshot

    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
              "SESSION_COOKIE_SECURE": False}
    app = create_app(config)
    client = app.test_client()

    def no_snapshots() -> None:  # each round computes the figures, as after a change
        with app.app_context():
            db.session.execute(delete(OverviewSnapshot))
            db.session.commit()

    with app.app_context():
        login(client)
    assert client.get("/overview/").status_code == 200
    timed("GET /overview/ computed fresh (what the scheduler pays per change)",
          lambda: client.get("/overview/"), max(5, rounds // 2), no_snapshots)
    timed("GET /overview/?from=2020-01-01 computed fresh (a period nobody computed)",
          lambda: client.get("/overview/?from=2020-01-01"), max(5, rounds // 2), no_snapshots)

    with app.app_context():
        from clause_tracker.clock import today
        from clause_tracker.overview import snapshots

        no_snapshots()
        start = time.perf_counter()
        computed = snapshots.refresh(today())
        print(f"  scheduler after a change: {computed} overview views in "
              f"{time.perf_counter() - start:.1f} s")
    timed("GET /overview/ served from the stored snapshot",
          lambda: client.get("/overview/"), rounds)
    for args in DRILLS:
        path = "/agreements/?" + urlencode(args)
        assert client.get(path).status_code == 200
        timed(f"GET {path}", lambda p=path: client.get(p), rounds)


def throughput(url: str, requests: int, threads: int = 4) -> None:
    port = 18000 + os.getpid() % 1000
    env = os.environ | {"BENCH_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "bench.overview_wsgi:app"], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        cookie = session_cookie(port)

        def run(path: str) -> float:
            per_thread = requests // threads
            errors: list[int] = []

            def worker() -> None:
                for _ in range(per_thread):
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    conn.request("GET", path, headers={"Cookie": cookie})
                    response = conn.getresponse()
                    response.read()
                    if response.status != 200:
                        errors.append(response.status)
                    conn.close()

            pool = [threading.Thread(target=worker) for _ in range(threads)]
            start = time.perf_counter()
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            elapsed = time.perf_counter() - start
            assert not errors, errors[:5]
            return per_thread * threads / elapsed

        run_warm = run("/overview/")  # the first request stores the snapshot
        minimal = run("/bench-minimal")
        signed_in = run("/bench-signed-in")
        overview = run("/overview/")
        print(f"  gunicorn -w 2, {requests} requests, {threads} client threads, loopback:")
        print(f"    minimal route  {minimal:8.1f} req/s")
        print(f"    signed-in 'ok' {signed_in:8.1f} req/s  ({signed_in / minimal:.0%} of minimal: "
              f"session, user, transaction)")
        print(f"    /overview/     {overview:8.1f} req/s  ({overview / minimal:.0%} of minimal; "
              f"warm-up run {run_warm:.1f} req/s)")
    finally:
        server.terminate()
        server.wait(timeout=20)


def session_cookie(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    body = urlencode({"username": "bench-auditor", "password": PASSWORD,
                      "csrf_token": TOKEN.search(page).group(1)})
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/login", body=body, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, response.status
    cookie = response.getheader("Set-Cookie").split(";")[0]
    # The session's first page gives it its CSRF token (a new cookie), as a browser keeps it.
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/overview/", headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
    updated = response.getheader("Set-Cookie")
    return updated.split(";")[0] if updated else cookie


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="PostgreSQL server URL")
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=20_000)
    parser.add_argument("--audit-events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", metavar="DATABASE_URL",
                        help="measure a database filled by an earlier --keep run")
    args = parser.parse_args()
    if args.reuse:
        in_process(args.reuse, args.rounds)
        throughput(args.reuse, args.requests)
        return
    url, drop = scratch(args.url)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            from benchdata import generate
            from flask_migrate import upgrade

            from clause_tracker.auth.services import create_user

            upgrade()
            create_user("bench-auditor", PASSWORD, "auditor")
            start = time.perf_counter()
            for line in generate(args.contracts, args.grants, args.audit_events, 6):
                print(" ", line)
            print(f"  bench-data: {time.perf_counter() - start:.0f} s")
        in_process(url, args.rounds)
        throughput(url, args.requests)
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            drop()


if __name__ == "__main__":
    main()
