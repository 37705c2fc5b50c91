"""The scheduler as real processes (`python -m clause_tracker scheduler …`) against the
test database — PostgreSQL's advisory lock or SQLite's file lock, whichever the suite runs
on — and a real SMTP server on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from clause_tracker.checks import models as m
from clause_tracker.checks import sweep
from clause_tracker.checks.outbox import OutboxMessage, Reminder
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.jobs.heartbeat import SchedulerHeartbeat
from clause_tracker.locks import Lock
from tests.helpers import REPO

# Real scheduler processes, mostly waiting on each other: run with the slow tests (CI
# runs them on SQLite and on PostgreSQL), out of the README's quick command.
pytestmark = pytest.mark.slow


def _env(app, **extra: object) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "CLAUSE_TRACKER_CONFIG": "testing",
        "CLAUSE_TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "CLAUSE_TRACKER_UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
        "CLAUSE_TRACKER_MAIL_SERVER": "127.0.0.1",
        "CLAUSE_TRACKER_MAIL_PORT": str(app.config.get("MAIL_PORT", 25)),
        "CLAUSE_TRACKER_SCHEDULER_DISPATCH_SECONDS": "1",
        "CLAUSE_TRACKER_SCHEDULER_HEARTBEAT_SECONDS": "1",
        "CLAUSE_TRACKER_SCHEDULER_STANDBY_RETRY_SECONDS": "1",
        "CLAUSE_TRACKER_COMPLIANCE_SAMPLE_SHARE": "0",
        "CLAUSE_TRACKER_COMPLIANCE_SPREAD_FIRST_CHECKS": "false",  # as in conftest.py
        "PYTHONUNBUFFERED": "1",
    })
    env.update({f"CLAUSE_TRACKER_{k}": str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def spawn(app) -> Iterator[Callable[..., subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start(*args: str, **extra: object) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "clause_tracker", "scheduler", *args],
                                cwd=REPO, env=_env(app, **extra), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def _wait(condition: Callable[[], object], seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        db.session.rollback()  # see the other processes' commits
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _heartbeat() -> SchedulerHeartbeat | None:
    db.session.expire_all()
    return db.session.scalar(select(SchedulerHeartbeat))


def _dispatch_rounds_after(moment: datetime, rounds: int = 2) -> None:
    """Wait until the leader has dispatched `rounds` more times after `moment` (its
    heartbeat records each dispatch): time enough to send anything twice, had it a bug."""
    for _ in range(rounds):
        _wait(lambda after=moment: (hb := _heartbeat()) is not None
              and hb.last_dispatch_at is not None and hb.last_dispatch_at > after)
        hb = _heartbeat()
        assert hb is not None and hb.last_dispatch_at is not None
        moment = hb.last_dispatch_at


def test_two_schedulers_send_every_reminder_exactly_once(app, agreement, officer, mail_config,
                                                         spawn) -> None:
    mail_config.start()
    users = [officer(code=code) for code in ("ZVS", "KIJ", "JK")]
    start = utcnow().date() - timedelta(days=800)
    for code in ("ZVS", "KIJ", "JK"):
        for _ in range(3):
            agreement(code=code, start_date=start)
    first, second = spawn("run"), spawn("run")
    _wait(lambda: len(mail_config.messages) >= 3)
    _dispatch_rounds_after(utcnow())  # the leader dispatched again: nothing went twice
    assert mail_config.recipients() == sorted(u.email for u in users)
    leader = _heartbeat()
    assert leader is not None
    pid = int(leader.holder.rsplit(":", 1)[1])
    assert pid in (first.pid, second.pid)
    standby = second if pid == first.pid else first
    # The leader dies without a word; the standby takes over within seconds.
    os.kill(pid, signal.SIGKILL)
    _wait(lambda: (hb := _heartbeat()) is not None
          and hb.holder.endswith(f":{standby.pid}"), seconds=30)
    _wait(lambda: (hb := _heartbeat()) is not None and hb.last_sweep_at is not None
          and hb.last_sweep_at > leader.started_at)
    new_leader = _heartbeat()
    assert new_leader is not None and new_leader.last_sweep_at is not None
    _dispatch_rounds_after(new_leader.last_sweep_at)  # the new leader's rounds: nothing again
    assert len(mail_config.messages) == 3
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 3
    standby.send_signal(signal.SIGTERM)
    assert standby.wait(timeout=15) == 0


def _sweep_killed_after(step: str, spawn) -> None:
    proc = spawn("sweep", SWEEP_STEP_PAUSE_SECONDS=2)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(f"step {step}:"):
            break
    else:
        raise AssertionError("the sweep printed no progress")
    proc.send_signal(signal.SIGKILL)  # in the pause after that step's commit
    proc.wait(timeout=10)
    db.session.rollback()


def _forty_due(agreement, officer) -> None:
    """Forty agreements of an officer's unit, running for 800 days: all due at once."""
    officer()
    start = utcnow().date() - timedelta(days=800)
    for _ in range(40):
        agreement(start_date=start, commit=False)
    db.session.commit()


def _counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(m.ComplianceCheck)),
            db.session.scalar(select(func.count()).select_from(Reminder)))


def test_a_sweep_killed_midway_is_completed_by_the_next(app, agreement, officer,
                                                        spawn) -> None:
    _forty_due(agreement, officer)
    _sweep_killed_after("expire_declarations", spawn)
    assert _counts() == (0, 0)  # nothing scheduled yet
    report = sweep.run()
    assert report.counts["schedule_interval"] == 40
    assert _counts() == (40, 40)  # due at once: each with its reminder
    assert sweep.run().total == 0
    unfinished = db.session.scalars(select(m.Sweep).where(m.Sweep.finished_at.is_(None))).all()
    assert len(unfinished) == 1  # the killed one, visible as such
    assert date.today() >= unfinished[0].run_on


def test_a_check_is_never_due_without_its_reminder(app, agreement, officer, spawn) -> None:
    """A step inserts the checks that are due already together with their reminders (one
    transaction): killed right after it, both are there; the next sweep adds nothing."""
    _forty_due(agreement, officer)
    _sweep_killed_after("schedule_interval", spawn)
    assert _counts() == (40, 40)
    report = sweep.run()
    assert report.total == 0 and _counts() == (40, 40)


def _waiting_for_locks() -> int:
    """Sessions of this database waiting for a lock (PostgreSQL)."""
    return db.session.scalar(text(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = current_database()"))


def _first_step(proc: subprocess.Popen) -> str:
    """Read the sweep's output up to its first progress line (the sweep has begun)."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("step "):
            return "".join(seen)
    raise AssertionError(f"the sweep printed no progress: {''.join(seen)}")


def test_two_sweeps_at_once_schedule_and_remind_everything_once(app, agreement, officer,
                                                                 spawn) -> None:
    """`scheduler sweep` twice at once (cron beside a running scheduler): both finish
    without error, and every check and reminder is there once.

    PostgreSQL: made to overlap inside a step, for certain. The test holds the audit
    chain's lock, so the first sweep stops inside its interval step — checks inserted, not
    committed — while the second starts; only then is the lock let go. Without the sweep's
    step lock the second would insert the same checks and fail on the unique key.

    SQLite cannot overlap inside a step: its one write lock is the step lock. The first
    INSERT of a step takes the database's RESERVED lock and holds it to COMMIT, so the
    other sweep's INSERT waits for the commit and then reads what was committed (and a
    read of its own that came before still ends at ON CONFLICT DO NOTHING on the unique
    key); the test cannot stop a process between its INSERT and its COMMIT from outside.
    What SQLite can do, and what it must get right, is overlap step by step: the first
    sweep pauses a second after each step, the second starts once the first has begun and
    has begun itself while the first still runs. Asserted: the two runs overlapped in
    time, and one of them scheduled the 40 checks, the other none."""
    _forty_due(agreement, officer)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    holder = db.engine.connect() if postgres else None
    if holder is not None:
        holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(Lock.AUDIT_CHAIN)})
    try:
        if holder is not None:
            first = spawn("sweep")
            _wait(lambda: _waiting_for_locks() == 1)  # the first, at the chain lock
            second = spawn("sweep")
            _wait(lambda: _waiting_for_locks() == 2)  # the second, behind the first
        else:
            first = spawn("sweep", SWEEP_STEP_PAUSE_SECONDS=1)  # ten steps: ten seconds
            started = [_first_step(first)]
            second = spawn("sweep")
            started.append(_first_step(second))
            assert first.poll() is None, "the first sweep ended before the second began"
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
    outputs = [proc.communicate(timeout=60)[0] for proc in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    db.session.rollback()
    assert _counts() == (40, 40)
    runs = db.session.scalars(select(m.Sweep).order_by(m.Sweep.id)).all()
    assert len(runs) == 2 and all(run.finished_at is not None for run in runs)
    assert max(run.started_at for run in runs) < min(run.finished_at for run in runs)
    scheduled = sorted(json.loads(run.counts)["schedule_interval"] for run in runs)
    assert scheduled == [0, 40], (scheduled, outputs)
    assert sweep.run().total == 0


def test_healthz_shows_the_heartbeat(app, client) -> None:
    from datetime import datetime

    from clause_tracker.jobs.scheduler import beat

    beat(datetime(2020, 1, 1))
    report = client.get("/healthz").json
    assert report["status"] == "ok"
    assert report["scheduler"]["status"] == "ok"
    assert report["scheduler"]["holder"].endswith(f":{os.getpid()}")
