"""Benchmark: the compliance sweep over 100,000 agreements, and a sweep with nothing due.

    python bench/bench_sweep.py [--rows 100000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
    (or set CLAUSE_TRACKER_BENCH_DATABASE_URL)

Creates a scratch database (PostgreSQL: a new database on that server, dropped afterwards;
SQLite without a URL: a temporary file), fills it with active contracts and grants across
7 units (a quarter with a declaration past its validity, some with renewal options ending
soon) and an officer per unit, then times:
  1. the first sweep (schedules a check per agreement, expires declarations, marks due,
     queues reminders) — goal under 5 s at 100,000 on PostgreSQL. By default the first
     routine checks are spread over the coming year, as configured out of the box
     (COMPLIANCE_SPREAD_FIRST_CHECKS); --all-due makes every agreement due and reminded
     on the first day instead (94,000 reminders);
  2. a second sweep the same day (nothing due, nothing to do) — goal under 0.5 s;
and, as the baseline measured in the same run, a bulk INSERT … SELECT of the same number
of rows into a scratch table (what one set-based write of that size costs on this machine)
and a plain SELECT count(*) over the agreements.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch_database import scratch  # bench/ is on sys.path when run as a script
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from clause_tracker import create_app

TODAY = date(2026, 3, 2)




def _fill(rows: int) -> None:
    from clause_tracker.agreements.models import Agreement
    from clause_tracker.auth.services import create_user
    from clause_tracker.bootstrap import DEMO_UNITS
    from clause_tracker.declarations.models import Declaration
    from clause_tracker.extensions import db
    from clause_tracker.orgunits.services import ensure_unit

    units = [ensure_unit(code, name, kind) for code, name, kind in DEMO_UNITS]
    db.session.commit()
    for unit in units:
        for role in ("procurement_officer", "grant_manager"):
            create_user(f"{role}-{unit.code}", "bench-password-123", role, org_unit=unit,
                        email=f"{role}.{unit.code}@jena.example")
    now = datetime(2026, 1, 1)
    batch = []
    for i in range(rows):
        kind = "contract" if i % 3 else "grant"
        batch.append({
            "kind": kind, "reference": f"B-{i:07d}", "subject": "Bench", "status": "active",
            "org_unit_id": units[i % len(units)].id, "value": Decimal("1000"),
            "start_date": date(2023 + i % 3, 1 + i % 12, 1 + i % 28),
            "end_date": TODAY + timedelta(days=30 + i % 700),
            "decided_on": date(2022, 12, 1),
            "renewal_options": "1 Jahr" if kind == "contract" and i % 10 == 0 else None,
            "created_at": now, "updated_at": now, "version_id": 1,
        })
        if len(batch) == 10000:
            db.session.execute(insert(Agreement.__table__), batch)
            batch = []
    if batch:
        db.session.execute(insert(Agreement.__table__), batch)
    db.session.execute(insert(Declaration.__table__).from_select(
        ["agreement_id", "party", "party_name", "state", "valid_until", "created_at",
         "updated_at", "version_id"],
        db.select(Agreement.id, db.literal("main"), db.literal("Bench GmbH"),
                  db.literal("accepted"),
                  db.case(((Agreement.id % 4) == 0, db.literal(TODAY - timedelta(days=1))),
                          else_=db.literal(date(2030, 1, 1))),
                  db.literal(now), db.literal(now), db.literal(1))))
    db.session.commit()


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _steps(counts: dict[str, int], seconds: dict[str, float]) -> None:
    for name, elapsed in seconds.items():
        print(f"    {name:<34} {elapsed * 1000:8.1f} ms  rows {counts.get(name, 0):>7,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", default=os.environ.get("CLAUSE_TRACKER_BENCH_DATABASE_URL"))
    parser.add_argument("--all-due", action="store_true",
                        help="no spread of the first routine checks: all due on day one")
    args = parser.parse_args()
    url, drop = scratch(args.url)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                          "ARGON2_PARALLELISM": 1, "COMPLIANCE_SAMPLE_SHARE": "0.02",
                          "COMPLIANCE_SPREAD_FIRST_CHECKS": not args.all_due})
        with app.app_context():
            from flask_migrate import upgrade

            from clause_tracker.checks import sweep
            from clause_tracker.extensions import db

            upgrade()
            print(f"database: {make_url(url).get_backend_name()}, agreements: {args.rows:,}, "
                  f"first routine checks {'all due at once' if args.all_due else 'spread'}")
            print(f"fill: {_time(lambda: _fill(args.rows)):.1f} s")
            db.session.execute(text("ANALYZE"))
            db.session.commit()

            def count() -> None:
                db.session.execute(text("SELECT count(*) FROM agreements")).scalar()

            def bulk() -> None:
                db.session.execute(text("CREATE TEMPORARY TABLE bench_copy AS "
                                        "SELECT id, reference, start_date FROM agreements "
                                        "WHERE 1 = 0"))
                db.session.execute(text("INSERT INTO bench_copy SELECT id, reference, "
                                        "start_date FROM agreements"))
                db.session.commit()

            t_count = _time(count)
            t_bulk = _time(bulk)
            reports = []
            timings: list[dict[str, float]] = [{}, {}]

            def timed_run(into: dict[str, float]) -> None:
                # progress() is called after each committed step: the gap since the
                # previous call is that step's time (its audit event and commit included).
                mark = [time.perf_counter()]

                def progress(name: str, _rows: int) -> None:
                    now = time.perf_counter()
                    into[name] = now - mark[0]
                    mark[0] = now

                reports.append(sweep.run(TODAY, progress=progress))

            t_first = _time(lambda: timed_run(timings[0]))
            t_second = _time(lambda: timed_run(timings[1]))
            first, second = reports
            print(f"baseline SELECT count(*):            {t_count * 1000:8.1f} ms")
            print(f"baseline bulk INSERT … SELECT (n):   {t_bulk * 1000:8.1f} ms")
            print(f"first sweep:                         {t_first * 1000:8.1f} ms"
                  f"  goal < 5000 ms  ratio to bulk insert {t_first / t_bulk:.1f}×")
            _steps(first.counts, timings[0])
            print(f"second sweep (nothing to do):        {t_second * 1000:8.1f} ms"
                  f"  goal < 500 ms  ratio to count(*) {t_second / t_count:.1f}×"
                  f"  changes {second.total}")
            _steps(second.counts, timings[1])
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
