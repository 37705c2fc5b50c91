"""Benchmark: the registry list (compliance state as SQL) at 100,000 agreements.

    python bench/bench_registry_list.py [--rows 100000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Creates a scratch database (PostgreSQL: a new database on that server, dropped afterwards;
SQLite: a temporary file), fills it with contracts and grants across 7 units with one
declaration each in a mix of states, then times pages of the list: unfiltered, filtered by
compliance state, by search text, sorted by compliance, and the per-state counts.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch_database import scratch  # bench/ is on sys.path when run as a script
from sqlalchemy import func, insert, select, text

from clause_tracker import create_app

STATES = ["requested", "received", "accepted", "accepted", "accepted", "rejected", "expired",
          "not_required", "suspended"]




def _fill(rows: int) -> None:
    from clause_tracker.agreements.models import Agreement
    from clause_tracker.bootstrap import DEMO_UNITS
    from clause_tracker.clauses.services import current_version, sync
    from clause_tracker.declarations.models import Declaration
    from clause_tracker.extensions import db
    from clause_tracker.orgunits.services import ensure_unit

    sync()
    units = [ensure_unit(code, name, kind).id for code, name, kind in DEMO_UNITS]
    clause = current_version("procurement", "de").id
    db.session.commit()
    rnd = random.Random(4)
    now = datetime(2026, 3, 1)
    today = date(2026, 3, 1)
    batch, decls = [], []
    for n in range(1, rows + 1):
        kind = "contract" if n % 3 else "grant"
        batch.append({
            "id": n, "kind": kind, "reference": f"B-{n:07d}",
            "subject": rnd.choice(["Reinigung", "Dachsanierung", "Workshops", "IT-Support"])
            + f" Los {n % 97}",
            "status": rnd.choice(["draft", "awarded", "active", "ended"]),
            "org_unit_id": rnd.choice(units), "value": Decimal(rnd.randint(100, 10**6)),
            "clause_version_id": clause if rnd.random() < 0.9 else None,
            "created_at": now, "updated_at": now - timedelta(minutes=n), "version_id": 1,
        })
        state = rnd.choice(STATES)
        decls.append({
            "agreement_id": n, "party": "main", "party_name": "X", "state": state,
            "deadline": today + timedelta(days=rnd.randint(-20, 20)),
            "valid_until": today + timedelta(days=rnd.randint(-100, 700)),
            "created_at": now, "updated_at": now, "version_id": 1,
        })
        if len(batch) == 5000:
            db.session.execute(insert(Agreement.__table__), batch)
            db.session.execute(insert(Declaration.__table__), decls)
            batch, decls = [], []
    if batch:
        db.session.execute(insert(Agreement.__table__), batch)
        db.session.execute(insert(Declaration.__table__), decls)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def _time(label: str, fn, rounds: int = 5) -> None:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    print(f"{label:48} median {statistics.median(times) * 1000:8.1f} ms   ({result})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", default=None, help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    url, drop = scratch(args.url)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "TESTING": True})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            start = time.perf_counter()
            _fill(args.rows)
            print(f"{args.rows} agreements + declarations inserted in "
                  f"{time.perf_counter() - start:.1f} s on {url.split(':')[0]}")
            from clause_tracker.agreements.models import Agreement
            from clause_tracker.auth.services import create_user
            from clause_tracker.compliance.state import compliance_columns
            from clause_tracker.extensions import db
            from clause_tracker.registry import queries

            auditor = create_user("bench-auditor", "correct horse battery", "auditor")
            day = date(2026, 3, 1)

            def page(**flt):
                result = queries.page(auditor, queries.ListFilter(**flt), 1, on=day)
                return f"{result.total} rows, {len(result.rows)} shown"

            _time("list, page 1, newest first", lambda: page())
            for state in ("non_compliant", "pending", "compliant"):
                _time(f"list filtered: {state}", lambda s=state: page(compliance=s))
            _time("list sorted by compliance", lambda: page(sort="compliance"))
            _time("search 'Dach' + filter kind=contract",
                  lambda: page(q="Dach", kind="contract"))
            columns = compliance_columns(day)
            counts = columns.join(select(columns.state, func.count(Agreement.id))
                                  .select_from(Agreement)).group_by(columns.state)
            _time("counts per state (whole registry)",
                  lambda: dict(db.session.execute(counts).all()))
    finally:
        drop()


if __name__ == "__main__":
    main()
