"""Benchmark: importing a 100,000-row CSV, and other users' writes while it runs.

    python bench/bench_import.py [--rows 100000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
    (or set CLAUSE_TRACKER_BENCH_DATABASE_URL; without a URL: a SQLite file)

In a scratch database (dropped afterwards) it times, in the same run:
  baselines     the same rows put into the agreements table bare (no checks, no audit),
                then deleted again: as SQLAlchemy's executemany of 1,000-row chunks, and
                as COPY (PostgreSQL; the fastest way in);
  import        import_file() of the CSV as the import job runs it: every row read and
                checked, counterparties found or created, the rows inserted, the audit
                events appended, one transaction — goal >= 5,000 rows/s, and its ratio to
                the baseline;
  writes        while a second import of as many rows runs in a thread, another thread
                saves a counterparty edit (an audited write, as any user's) every 20 ms:
                p50 / p95 / max latency of those writes — goal p95 < 300 ms — against the
                same writes with no import running.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch_database import scratch  # bench/ is on sys.path when run as a script
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import make_url

from clause_tracker import create_app

HEADER = "Vergabenummer;Gegenstand;Art;Verfahren;Auftragswert;Zuschlag;Beginn;Ende;" \
         "Auftragnehmer\n"


def csv_rows(count: int, prefix: str) -> bytes:
    lines = [f"{prefix}-{n:06d};Leistung Nr. {n};Dienstleistung;Offenes Verfahren;"
             f"{n % 900 + 1}.{n % 1000:03d},50;05.03.2026;01.04.2026;31.12.2027;"
             f"Firma {n % 2000} GmbH\n" for n in range(count)]
    return (HEADER + "".join(lines)).encode()


def bare_rows(count: int, prefix: str, unit_id: int) -> list[dict]:
    now = datetime(2026, 12, 1)
    return [{"kind": "contract", "reference": f"{prefix}-{n:06d}", "subject": f"Leistung {n}",
             "status": "draft", "org_unit_id": unit_id, "created_at": now, "updated_at": now,
             "version_id": 1} for n in range(count)]


def latencies(app, stop: threading.Event, out: list[float]) -> None:
    """Audited writes, one every 20 ms, as another user would make them."""
    from clause_tracker.counterparties import services as counterparties
    from clause_tracker.counterparties.models import Counterparty
    from clause_tracker.extensions import db

    with app.app_context():
        party = counterparties.create({"name": "Latenz GmbH"})
        db.session.commit()
        n = 0
        while not stop.is_set():
            start = time.perf_counter()
            row = db.session.get(Counterparty, party.id)
            counterparties.update(row, {"address": f"Straße {n}"}, row.version_id)
            db.session.commit()
            out.append(time.perf_counter() - start)
            n += 1
            time.sleep(0.02)


def summary(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
            f"max {ordered[-1] * 1000:6.1f} ms  ({len(values)} writes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", default=os.environ.get("CLAUSE_TRACKER_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    url, drop = scratch(args.url)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                          "ARGON2_PARALLELISM": 1})
        with app.app_context():
            from flask_migrate import upgrade

            from clause_tracker.agreements.importing import import_file
            from clause_tracker.agreements.models import Agreement
            from clause_tracker.extensions import db
            from clause_tracker.orgunits.models import UnitKind
            from clause_tracker.orgunits.services import ensure_unit
            from clause_tracker.sql import insert_with_ids

            upgrade()
            unit = ensure_unit("KIJ", "Kommunale Immobilien Jena", UnitKind.EIGENBETRIEB)
            db.session.commit()
            print(f"database: {make_url(url).get_backend_name()}, rows: {args.rows:,}")

            rows = bare_rows(args.rows, "BARE", unit.id)
            start = time.perf_counter()
            for at in range(0, len(rows), 1000):
                db.session.execute(insert(Agreement.__table__), rows[at:at + 1000])
            db.session.commit()
            bare = time.perf_counter() - start
            db.session.execute(delete(Agreement.__table__))
            db.session.commit()
            start = time.perf_counter()
            insert_with_ids(Agreement.__table__, rows)
            db.session.commit()
            copy = time.perf_counter() - start
            db.session.execute(delete(Agreement.__table__))
            db.session.commit()

            data = csv_rows(args.rows, "IMP")
            start = time.perf_counter()
            report = import_file("contract", data, "bench.csv", unit=unit)
            took = time.perf_counter() - start
            assert not report.errors and len(report.created) == args.rows, report.errors[:3]
            print(f"bare executemany INSERT:    {bare:7.2f} s  {args.rows / bare:9,.0f} rows/s")
            print(f"bare COPY (or executemany): {copy:7.2f} s  {args.rows / copy:9,.0f} rows/s")
            print(f"import_file:                {took:7.2f} s  {args.rows / took:9,.0f} rows/s"
                  f"  {took / bare:.1f}x the executemany, {took / copy:.1f}x the COPY;"
                  f" goal >= 5,000 rows/s: {'met' if args.rows / took >= 5000 else 'NOT met'}")

            quiet: list[float] = []
            stop = threading.Event()
            writer = threading.Thread(target=latencies, args=(app, stop, quiet))
            writer.start()
            time.sleep(5)
            stop.set()
            writer.join()

            busy: list[float] = []
            stop = threading.Event()
            writer = threading.Thread(target=latencies, args=(app, stop, busy))
            second = csv_rows(args.rows, "TWO")

            def second_import() -> None:
                with app.app_context():
                    import_file("contract", second, "bench-2.csv",
                                unit=db.session.get(type(unit), unit.id))

            importer = threading.Thread(target=second_import)
            writer.start()
            start = time.perf_counter()
            importer.start()
            importer.join()
            during = time.perf_counter() - start
            stop.set()
            writer.join()
            total = db.session.scalar(select(db.func.count()).select_from(Agreement))
            print(f"writes, no import:          {summary(quiet)}")
            print(f"writes during the import:   {summary(busy)}  (import {during:.1f} s; "
                  f"{total:,} agreements now)  goal p95 < 300 ms")
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
