"""Benchmark: do stored compliance states make the registry's state-filtered and state-sorted
lists faster while the records are being changed?

The app stored them until this benchmark showed they did not earn their place (README,
Benchmarks): compliance/stored_states.py kept every agreement's state and reason, rewritten
whole by the scheduler after each change under the mark it was computed from (day, newest
record-changing audit event), and the lists read them only while that mark was current. The
same mechanism is kept below (StoredStates) so the comparison can be run again.

    python bench/bench_stored_states.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test \
        [--minutes 10] [--contracts 100000 --grants 20000 --audit-events 1000000] [--keep]
    python bench/bench_stored_states.py --url … --reuse DATABASE_URL   (a database kept before)

Creates a scratch database on that server (dropped afterwards unless --keep) and fills it with
`bench-data`. Then, for `--minutes` each, with the stored states and without them (the lists
always compute the states live; the scheduler does not store them), in alternating blocks of
`--block-minutes`, three threads run in one process against it:
- a writer: audited agreement edits through the service layer, one every 10 s on average
  (at random times, the same in both modes);
- the scheduler's overview job every SCHEDULER_OVERVIEW_SECONDS (store the states, when
  enabled, then the overview's figures), timed;
- a reader: the list pages of bench_overview.py's drill-downs that filter by the compliance
  state, and the list sorted by it, one after the other without pause (test client, server
  time), each noted as read from stored or live states.
Prints p50/p95 of the list pages per mode and per page, and the scheduler's cost.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, delete, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_overview import DRILLS, PASSWORD, login, pct  # noqa: E402  (bench/ is on sys.path)
from scratch_database import scratch  # noqa: E402

from clause_tracker import create_app  # noqa: E402

WRITE_SECONDS = 10
# The drill-downs that read the state (in scope = not exempt; a state), and sorted by it.
LISTS = [args for args in DRILLS if "scope" in args or "compliance" in args] + [
    {"sort": "compliance"},
    {"sort": "-compliance", "kind": "grant"},
]


class StoredStates:
    """Every agreement's state and reason in a table of their own, with their mark."""

    metadata = MetaData()
    states = Table("bench_stored_states", metadata,
                   Column("agreement_id", Integer, primary_key=True, autoincrement=False),
                   Column("state", String(20), nullable=False),
                   Column("reason", String(40), nullable=False))
    mark = Table("bench_stored_state_mark", metadata,
                 Column("id", Integer, primary_key=True, autoincrement=False),
                 Column("day", Date, nullable=False),
                 Column("audit_event_id", Integer, nullable=False),
                 Column("audit_hash", String(64), nullable=False))

    @classmethod
    def create(cls) -> None:
        from clause_tracker.extensions import db

        cls.metadata.create_all(db.engine)

    @classmethod
    def _marks(cls, day: date) -> tuple[tuple | None, tuple | None]:
        """(what the states of `day` are a function of now, what they were stored for)."""
        from clause_tracker.audit.services import newest_change
        from clause_tracker.extensions import db

        newest = newest_change()
        stored = db.session.execute(select(cls.mark.c.day, cls.mark.c.audit_event_id,
                                           cls.mark.c.audit_hash)).first()
        return (None if newest is None else (day, *newest)), \
            (None if stored is None else tuple(stored))

    @classmethod
    def refresh(cls, day: date) -> bool:
        """Store every agreement's state on `day` unless current; True when it stored them."""
        from clause_tracker.agreements.models import Agreement
        from clause_tracker.compliance.state import compliance_columns
        from clause_tracker.extensions import db

        db.session.rollback()  # a fresh transaction: the mark is read before the states
        now, stored = cls._marks(day)
        if now is None or now == stored:
            return False
        columns = compliance_columns(day)
        db.session.execute(delete(cls.states))
        db.session.execute(cls.states.insert().from_select(
            ["agreement_id", "state", "reason"],
            columns.join(select(Agreement.id, columns.state, columns.reason)
                         .select_from(Agreement))))
        # Rewritten whole: without fresh statistics the planner expects a few rows.
        db.session.execute(text(f"ANALYZE {cls.states.name}"))
        db.session.execute(delete(cls.mark))
        db.session.execute(cls.mark.insert().values(id=1, day=now[0], audit_event_id=now[1],
                                                    audit_hash=now[2]))
        db.session.commit()
        return True

    @classmethod
    def columns(cls, day: date):
        """The list's state and reason: stored while current, else as the rules compute them.
        (The app's list also skipped its window count for stored states; queries.page no
        longer knows them, so it counts in the same pass as for live ones.)"""
        from clause_tracker.compliance.state import ComplianceColumns, compliance_columns

        live = compliance_columns(day)
        now, stored = cls._marks(day)
        if now is None or now != stored:
            return live
        # The rules come along for state_is, which reads "exempt" off the agreement's columns.
        return ComplianceColumns(cls.states, cls.states.c.state, cls.states.c.reason,
                                 live.rules)


@dataclass
class Phase:
    """What one mode measured."""

    name: str
    seconds: float = 0.0
    pages: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_source: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    writes: list[float] = field(default_factory=list)
    states_runs: list[float] = field(default_factory=list)  # runs that stored the states
    overview_runs: list[float] = field(default_factory=list)
    scheduler_runs: list[float] = field(default_factory=list)

    def all_pages(self) -> list[float]:
        return [t for times in self.pages.values() for t in times]


def generate_data(app, contracts: int, grants: int, audit_events: int) -> None:
    try:  # where bench-data lives may change; both places are tried
        from benchdata import generate  # type: ignore[import-not-found]
    except ImportError:
        from clause_tracker.overview.benchdata import generate
    from flask_migrate import upgrade

    from clause_tracker.auth.services import create_user

    with app.app_context():
        upgrade()
        create_user("bench-auditor", PASSWORD, "auditor")
        start = time.perf_counter()
        for line in generate(contracts, grants, audit_events, 6):
            print(" ", line)
        print(f"  bench-data: {time.perf_counter() - start:.0f} s")


def run_block(app, phase: Phase, stored: bool, seconds: float, block: int) -> None:
    """Run the three threads for `seconds`, adding what they measured to `phase`."""
    from clause_tracker.agreements import queries, services
    from clause_tracker.agreements.models import Agreement
    from clause_tracker.auth.models import User
    from clause_tracker.compliance.state import today
    from clause_tracker.extensions import db
    from clause_tracker.overview import snapshots

    name = phase.name
    source = threading.local()
    real_columns = queries.compliance_columns

    def list_columns(on=None, only=None, extra=None):
        """The list's column source: the stored states when enabled and current."""
        columns = StoredStates.columns(on) if stored and only is None and extra is None \
            else real_columns(on, only, extra)
        source.stored = columns.facts is StoredStates.states
        return columns

    queries.compliance_columns = list_columns
    stop = threading.Event()
    errors: list[BaseException] = []

    def guarded(work):
        def run() -> None:
            try:
                work()
            except BaseException as exc:
                errors.append(exc)
                stop.set()
                raise
        return run

    def writer() -> None:
        rnd = random.Random(f"writer {block}")  # the same edits and times in both modes
        with app.app_context():
            bench_user = db.session.scalar(
                db.select(User).where(User.username == "bench-auditor"))
            ids = list(db.session.scalars(db.select(Agreement.id)))
            due, n = time.monotonic() + rnd.expovariate(1 / WRITE_SECONDS), 0
            while not stop.wait(max(0.0, due - time.monotonic())):
                agreement = db.session.get(Agreement, rnd.choice(ids))
                n += 1
                start = time.perf_counter()
                services.update(agreement, {"subject": f"{agreement.subject[:150]} ({name} {n})"},
                                agreement.version_id, bench_user)
                phase.writes.append(time.perf_counter() - start)
                db.session.expunge_all()
                # At random (Poisson) times, not in step with the scheduler's minute: a
                # fixed 10 s beat would land each write at the same offset after every run.
                due += rnd.expovariate(1 / WRITE_SECONDS)

    def scheduler() -> None:
        interval = int(app.config["SCHEDULER_OVERVIEW_SECONDS"])
        with app.app_context():
            due = time.monotonic()
            while not stop.wait(max(0.0, due - time.monotonic())):
                day = today()
                start = time.perf_counter()
                if stored and StoredStates.refresh(day):
                    phase.states_runs.append(time.perf_counter() - start)
                middle = time.perf_counter()
                snapshots.refresh(day)
                db.session.rollback()
                end = time.perf_counter()
                phase.overview_runs.append(end - middle)
                phase.scheduler_runs.append(end - start)
                while due <= time.monotonic():  # a run that overran skips its missed times
                    due += interval

    def reader() -> None:
        client = app.test_client()
        with app.app_context():
            login(client)
        paths = ["/agreements/?" + urlencode(args) for args in LISTS]
        for path in paths:  # warm-up: plans and caches, untimed
            assert client.get(path).status_code == 200, path
        while not stop.is_set():
            for path in paths:
                start = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - start
                assert response.status_code == 200, (path, response.status_code)
                phase.pages[path].append(elapsed)
                phase.by_source["stored" if source.stored else "live"].append(elapsed)
                if stop.is_set():
                    break

    threads = [threading.Thread(target=guarded(work), name=work.__name__)
               for work in (scheduler, writer, reader)]
    started = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        stop.wait(seconds)
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        queries.compliance_columns = real_columns
    phase.seconds += time.perf_counter() - started
    if errors:
        raise errors[0]


def report(phases: list[Phase]) -> None:
    def p(times: list[float], q: float) -> str:
        return f"{pct(times, q):7.0f}" if times else "      –"

    print()
    print(f"  {'mode':14} {'pages':>6} {'stored':>7} {'p50 ms':>7} {'p95 ms':>7}   "
          f"{'writes':>6} {'runs':>5} {'states s':>9} {'overview s':>11} {'busy':>5}")
    for ph in phases:
        pages = ph.all_pages()
        share = len(ph.by_source["stored"]) / len(pages) if pages else 0.0
        states = f"{pct(ph.states_runs, .5) / 1000:4.1f}/{len(ph.states_runs):<3}" \
            if ph.states_runs else "–"
        print(f"  {ph.name:14} {len(pages):6} {share:7.0%} {p(pages, .5)} {p(pages, .95)}   "
              f"{len(ph.writes):6} {len(ph.scheduler_runs):5} {states:>9} "
              f"{pct(ph.overview_runs, .5) / 1000:11.1f} "
              f"{sum(ph.scheduler_runs) / ph.seconds:5.0%}")
    print("  (stored: share of list pages that read stored states; states s: p50 seconds of a "
          "run that stored them / how many runs did; busy: the scheduler's share of the time)")
    for ph in phases:
        for kind, times in sorted(ph.by_source.items()):
            print(f"  {ph.name:14} pages read {kind:6}: p50 {p(times, .5)} ms  "
                  f"p95 {p(times, .95)} ms  (n={len(times)})")
    print()
    print(f"  {'page':74} " + " ".join(f"{ph.name + ' p50/p95':>22}" for ph in phases))
    for path in phases[0].pages:
        print(f"  {path:74} " + " ".join(
            f"{p(ph.pages[path], .5)}/{p(ph.pages[path], .95).strip():>7} ms".rjust(22)
            for ph in phases))
    if len(phases) == 2:
        with_stored, live = (ph.all_pages() for ph in phases)
        print(f"\n  live / stored: p50 {pct(live, .5) / pct(with_stored, .5):.2f}x, "
              f"p95 {pct(live, .95) / pct(with_stored, .95):.2f}x")


def measure(url: str, minutes: float, block_minutes: float) -> None:
    """Both modes in alternating blocks (ABBA: stored, live, live, stored, …), so that a
    change in the machine's other load during the run weighs on both alike."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                      "SESSION_COOKIE_SECURE": False})
    with app.app_context():
        StoredStates.create()
    blocks = max(1, round(minutes / block_minutes))
    print(f"  {minutes:g} min per mode in {blocks} blocks of {minutes / blocks:g} min, a write "
          f"every {WRITE_SECONDS} s on average, the scheduler every "
          f"{app.config['SCHEDULER_OVERVIEW_SECONDS']} s, {len(LISTS)} list pages in turn")
    stored, live = Phase("stored states"), Phase("live only")
    for block in range(blocks):
        pair = [(stored, True), (live, False)]
        for phase, enabled in pair if block % 2 == 0 else pair[::-1]:
            run_block(app, phase, enabled, minutes * 60 / blocks, block)
    report([stored, live])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="PostgreSQL server URL")
    parser.add_argument("--minutes", type=float, default=10, help="per mode")
    parser.add_argument("--block-minutes", type=float, default=2,
                        help="the modes alternate in blocks of about this length")
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=20_000)
    parser.add_argument("--audit-events", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", metavar="DATABASE_URL",
                        help="measure a database filled by an earlier --keep run")
    args = parser.parse_args()
    if args.reuse:
        measure(args.reuse, args.minutes, args.block_minutes)
        return
    url, drop = scratch(args.url)
    try:
        generate_data(create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"}),
                      args.contracts, args.grants, args.audit_events)
        measure(url, args.minutes, args.block_minutes)
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            drop()


if __name__ == "__main__":
    main()
