"""The registry's exports: the whole list (120,000 agreements by default) as XLSX against
the same rows as CSV, measured in the same run — the CSV is the baseline, the ratio the figure.

    python bench/bench_exports.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
    python bench/bench_exports.py --reuse DATABASE_URL     # a database benchdata.py filled

Without --reuse the synthetic data of benchdata.py goes into a scratch database (a new
PostgreSQL database on the server given, dropped afterwards, or a temporary SQLite file).
Each export is run --rounds times (after one warm-up), alternating CSV and XLSX, as an
auditor sees it (every unit); the medians are printed with the file sizes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from benchdata import generate  # noqa: E402
from scratch_database import scratch  # noqa: E402

from clause_tracker import create_app  # noqa: E402


def measure(url: str, rounds: int) -> None:
    from clause_tracker.auth import services as users
    from clause_tracker.auth.models import User
    from clause_tracker.clock import today
    from clause_tracker.extensions import db
    from clause_tracker.overview import exports
    from clause_tracker.permissions import Role
    from clause_tracker.registry.queries import ListFilter

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.test_request_context("/"):
        user = users.find_user("bench-exports")
        if user is None:
            users.create_user("bench-exports", "bench-exports-password-1", Role.AUDITOR,
                              display_name="Bench")
            user = users.find_user("bench-exports")
        assert isinstance(user, User)
        day = today()
        rows = db.session.scalar(db.text("SELECT count(*) FROM agreements"))

        def csv_export() -> int:
            return len("".join(exports.list_csv(user, ListFilter(), day)).encode())

        def xlsx_export() -> int:
            return len(exports.list_xlsx(user, ListFilter(), day))

        sizes = {"csv": csv_export(), "xlsx": xlsx_export()}  # warm-up
        times: dict[str, list[float]] = {"csv": [], "xlsx": []}
        for _ in range(rounds):
            for name, fn in (("csv", csv_export), ("xlsx", xlsx_export)):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        csv_s, xlsx_s = (statistics.median(times[k]) for k in ("csv", "xlsx"))
        print(f"{rows} agreements, {db.engine.dialect.name}, median of {rounds}")
        print(f"  CSV  export {csv_s:6.2f} s  {sizes['csv'] / 1e6:6.1f} MB  (baseline)")
        print(f"  XLSX export {xlsx_s:6.2f} s  {sizes['xlsx'] / 1e6:6.1f} MB  "
              f"{xlsx_s / csv_s:.2f}× the CSV")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL server URL (default: a SQLite file)")
    parser.add_argument("--reuse", metavar="DATABASE_URL", help="a database already filled")
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.reuse:
        measure(args.reuse, args.rounds)
        return
    from flask_migrate import upgrade

    url, drop = scratch(args.url)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            for line in generate(args.contracts, args.grants, 1000, seed=6):
                print(line)
        measure(url, args.rounds)
    finally:
        drop()


if __name__ == "__main__":
    main()
