"""The scheduler process: `clause-tracker scheduler run`. Never started by web workers.

One leader at a time. On PostgreSQL the leader holds a session advisory lock on a
dedicated connection for its whole life (the lock dies with the process or the
connection); on SQLite it holds an fcntl lock on a file beside the database. Any other
scheduler waits on standby, retries, and takes over when the leader is gone.

The leader runs five fixed jobs (APScheduler's BlockingScheduler, Europe/Berlin): the
daily sweep (also once at start, so a new leader catches up), the frequent dispatch of
e-mails, the overview's figures computed after each change (overview/snapshots.py), the
nightly check of the audit trail's hash chain (its result recorded in the trail), and the
heartbeat that /healthz and the admin page show. With directory sign-in on and
SCHEDULER_DIRECTORY_SYNC_HOUR set, a sixth: the daily synchronisation of the directory's
accounts (auth/directory_accounts.py). The per-item schedule
is in the database (compliance_checks), never in the scheduler's memory.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import threading
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from clause_tracker.agreements import import_jobs
from clause_tracker.auth import directory_accounts
from clause_tracker.checks import notifications, sweep
from clause_tracker.clock import today, utcnow
from clause_tracker.extensions import db
from clause_tracker.inbox import digest
from clause_tracker.jobs import anchoring
from clause_tracker.jobs import heartbeat as hb
from clause_tracker.locks import Lock
from clause_tracker.overview import snapshots
from clause_tracker.sql import dialect_insert

log = logging.getLogger(__name__)
LEADER_LOCK_KEY = int(Lock.SCHEDULER_LEADER)


class LeadershipLost(RuntimeError):
    pass


class Leadership:
    def acquire(self) -> bool:
        raise NotImplementedError

    def confirm(self) -> None:
        """Raise LeadershipLost when the lock is no longer certainly ours."""

    def release(self) -> None:
        raise NotImplementedError


class AdvisoryLock(Leadership):
    """pg_try_advisory_lock on a connection kept open as long as we lead."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.conn: Connection | None = None

    def acquire(self) -> bool:
        with self.app.app_context():
            conn = db.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                               {"k": LEADER_LOCK_KEY}).scalar()
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self.conn = conn
        return True

    def confirm(self) -> None:
        assert self.conn is not None
        try:
            held = self.conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND objid = :k"), {"k": LEADER_LOCK_KEY}).scalar()
            self.conn.commit()
        except Exception as exc:
            raise LeadershipLost(f"lock connection failed: {exc}") from exc
        if not held:
            raise LeadershipLost("advisory lock no longer held")

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK_KEY})
                self.conn.commit()
            finally:
                self.conn.close()
                self.conn = None


class FileLock(Leadership):
    """fcntl lock on a file; the kernel releases it when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{holder_name()}\n".encode())
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def leadership_for(app: Flask) -> Leadership:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(app)
    configured = app.config.get("SCHEDULER_LOCK_FILE")
    if configured:
        return FileLock(Path(configured))
    if url.database and url.database != ":memory:":
        return FileLock(Path(url.database + ".scheduler.lock"))
    return FileLock(Path(app.instance_path) / "scheduler.lock")


# --- heartbeat -------------------------------------------------------------------------------

def beat(started_at: datetime, **fields: Any) -> None:
    now = utcnow()
    values = {"name": hb.NAME, "holder": holder_name(), "started_at": started_at,
              "beat_at": now, **fields}
    stmt = dialect_insert(hb.SchedulerHeartbeat).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["name"],
                                      set_={k: v for k, v in values.items() if k != "name"})
    db.session.execute(stmt)
    db.session.commit()


# --- the process -----------------------------------------------------------------------------

class SchedulerProcess:
    def __init__(self, app: Flask, lock: Leadership | None = None) -> None:
        self.app = app
        self.lock = lock or leadership_for(app)
        self.stopping = threading.Event()
        self.started_at = utcnow()
        self.scheduler: Any = None
        self.exit_code = 0

    def stop(self, *_: object) -> None:
        self.stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def wait_for_leadership(self) -> bool:
        retry = float(self.app.config["SCHEDULER_STANDBY_RETRY_SECONDS"])
        announced = False
        while not self.stopping.is_set():
            try:
                if self.lock.acquire():
                    log.warning("scheduler %s: leader", holder_name())
                    return True
            except Exception as exc:  # database unreachable: stay on standby, retry
                log.warning("scheduler: cannot try the leader lock: %s", exc)
            if not announced:
                log.warning("scheduler %s: standby (another scheduler leads)", holder_name())
                announced = True
            self.stopping.wait(retry)
        return False

    def _job(self, name: str, work: Any) -> None:
        try:
            with self.app.app_context():
                self.lock.confirm()  # never work without the lock
                work()
        except LeadershipLost as exc:
            log.error("scheduler: leadership lost (%s); stopping", exc)
            self.exit_code = 3
            self.stop()
        except Exception:
            log.exception("scheduler job %s failed; it runs again at its next time", name)

    def sweep_job(self) -> None:

        def work() -> None:
            report = sweep.run()
            digest.queue(today())  # Meine Aufgaben by e-mail, with the day's reminders
            beat(self.started_at, last_sweep_at=utcnow(), last_sweep_id=report.sweep_id)
            log.warning("sweep %s done: %s", report.sweep_id, report.counts)

        self._job("sweep", work)

    def dispatch_job(self) -> None:

        def work() -> None:
            report = notifications.dispatch()
            beat(self.started_at, last_dispatch_at=utcnow())
            if report.sent or report.retried or report.failed:
                log.warning("dispatch: %s", report)

        self._job("dispatch", work)

    def overview_job(self) -> None:
        """Compute the overview's figures after each change, before anyone asks."""

        def work() -> None:
            computed = snapshots.refresh(today())
            if computed:
                log.info("overview: %s views computed", computed)

        self._job("overview", work)

    def audit_job(self) -> None:
        """Check the audit trail's hash chain and newest anchor each night, record the
        result in it and keep a new anchor outside the database (jobs/anchoring.py)."""
        self._job("audit", anchoring.nightly_check)

    def import_job(self) -> None:
        """Run the imports queued by the web, one at a time (agreements/import_jobs.py)."""
        self._job("imports", lambda: import_jobs.run_pending(holder_name(), limit=1))

    def directory_job(self) -> None:
        """Deactivate and update the directory's accounts as the directory says."""

        def work() -> None:
            report = directory_accounts.sync()
            log.warning("directory sync: %s", report.counts())

        self._job("directory", work)

    def heartbeat_job(self) -> None:
        self._job("heartbeat", lambda: beat(self.started_at))

    def run(self) -> int:

        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        if not self.wait_for_leadership():
            return 0
        c = self.app.config
        zone = ZoneInfo(c["SCHEDULER_TIMEZONE"])
        now = datetime.now(zone)
        self.scheduler = BlockingScheduler(
            timezone=zone, executors={"default": ThreadPoolExecutor(3)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        with self.app.app_context():
            beat(self.started_at)
        self.scheduler.add_job(self.heartbeat_job, IntervalTrigger(
            seconds=int(c["SCHEDULER_HEARTBEAT_SECONDS"]), timezone=zone), id="heartbeat")
        self.scheduler.add_job(self.sweep_job, CronTrigger(
            hour=int(c["SCHEDULER_SWEEP_HOUR"]), timezone=zone), id="sweep", next_run_time=now)
        self.scheduler.add_job(self.dispatch_job, IntervalTrigger(
            seconds=int(c["SCHEDULER_DISPATCH_SECONDS"]), timezone=zone), id="dispatch",
            next_run_time=now)
        self.scheduler.add_job(self.audit_job, CronTrigger(
            hour=int(c["SCHEDULER_AUDIT_VERIFY_HOUR"]), timezone=zone), id="audit")
        self.scheduler.add_job(self.import_job, IntervalTrigger(
            seconds=int(c["SCHEDULER_IMPORT_SECONDS"]), timezone=zone), id="imports",
            next_run_time=now)
        self.scheduler.add_job(self.overview_job, IntervalTrigger(
            seconds=int(c["SCHEDULER_OVERVIEW_SECONDS"]), timezone=zone), id="overview",
            next_run_time=now)
        if c.get("LDAP_ENABLED") and int(c["SCHEDULER_DIRECTORY_SYNC_HOUR"]) >= 0:
            self.scheduler.add_job(self.directory_job, CronTrigger(
                hour=int(c["SCHEDULER_DIRECTORY_SYNC_HOUR"]), timezone=zone), id="directory")
        try:
            if not self.stopping.is_set():
                self.scheduler.start()
        finally:
            self.lock.release()
        return self.exit_code


def run(app: Flask) -> int:
    return SchedulerProcess(app).run()
