"""The scheduler process: `clause-tracker scheduler run`. Never started by web workers.

One leader at a time. On PostgreSQL the leader holds a session advisory lock on a
dedicated connection for its whole life (the lock dies with the process or the
connection); on SQLite it holds an fcntl lock on a file beside the database. Any other
scheduler waits on standby, retries, and takes over when the leader is gone.

The process survives the database: a leader whose lock connection is lost (a restart of
PostgreSQL, a terminated backend, a network blip) stops its jobs, goes back to standby and
tries to lead again, with a back-off while the database cannot be reached; a standby does
the same. Each job confirms the lock on its own thread's connection (pg_locks, by the lock
connection's backend pid), never on the lock connection, which no two threads share.

Exit codes, for a supervisor (systemd `Restart=`, a container's restart policy):
0 stopped by SIGTERM or SIGINT; 70 an unexpected error in the process itself;
75 the database stayed unreachable longer than SCHEDULER_GIVE_UP_SECONDS (0, the default:
never give up). Every non-zero exit should be restarted.

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
import time
from contextlib import suppress
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
EXIT_STOPPED = 0
EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE
EXIT_DATABASE_UNREACHABLE = 75  # EX_TEMPFAIL


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
        self.pid: int | None = None  # the lock connection's backend

    def acquire(self) -> bool:
        with self.app.app_context():
            conn = db.engine.connect()
        try:
            row = conn.execute(text("SELECT pg_try_advisory_lock(:k), pg_backend_pid()"),
                               {"k": LEADER_LOCK_KEY}).one()
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not row[0]:
            conn.close()
            return False
        self.conn, self.pid = conn, int(row[1])
        return True

    def confirm(self) -> None:
        """On the calling thread's own session (app context): is the lock still granted to
        the lock connection's backend? A terminated or lost lock connection has no backend
        any more, and its lock was released with it."""
        if self.conn is None or self.pid is None:
            raise LeadershipLost("no lock held")
        try:
            held = db.session.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = :pid AND objid = :k"), {"pid": self.pid, "k": LEADER_LOCK_KEY}
            ).scalar()
            db.session.rollback()
        except Exception as exc:
            with suppress(Exception):
                db.session.rollback()
            raise LeadershipLost(f"cannot confirm the lock: {exc}") from exc
        if not held:
            raise LeadershipLost("advisory lock no longer held (its connection was lost)")

    def release(self) -> None:
        conn, self.conn, self.pid = self.conn, None, None
        if conn is not None:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK_KEY})
                conn.commit()
            except Exception as exc:  # the connection is gone, and the lock with it
                log.warning("scheduler: releasing the lock: %s", exc)
            finally:
                with suppress(Exception):
                    conn.close()


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
        self.lost = threading.Event()  # this term's leadership is lost
        self.unreachable_since: float | None = None

    def stop(self, *_: object) -> None:
        self.stopping.set()
        self._end_term()

    def _end_term(self) -> None:
        scheduler = self.scheduler
        if scheduler is not None and scheduler.running:
            with suppress(Exception):  # shut down already
                scheduler.shutdown(wait=False)

    def _give_up(self) -> bool:
        """The database has been unreachable longer than SCHEDULER_GIVE_UP_SECONDS."""
        limit = float(self.app.config.get("SCHEDULER_GIVE_UP_SECONDS") or 0)
        return bool(limit) and self.unreachable_since is not None and \
            time.monotonic() - self.unreachable_since > limit

    def wait_for_leadership(self) -> bool:
        """Standby until the lock is ours (True) or the process is to end (False). While the
        database cannot be reached, retries back off from half a second to the standby
        interval."""
        retry = float(self.app.config["SCHEDULER_STANDBY_RETRY_SECONDS"])
        announced = False
        delay = 0.5
        while not self.stopping.is_set():
            try:
                if self.lock.acquire():
                    log.warning("scheduler %s: leader", holder_name())
                    self.unreachable_since = None
                    return True
                self.unreachable_since = None
                delay = retry
                if not announced:
                    log.warning("scheduler %s: standby (another scheduler leads)",
                                holder_name())
                    announced = True
            except Exception as exc:  # database unreachable: stay on standby, retry
                log.warning("scheduler: cannot try the leader lock (retry in %.1fs): %s",
                            delay, exc)
                if self.unreachable_since is None:
                    self.unreachable_since = time.monotonic()
                if self._give_up():
                    return False
                with self.app.app_context():
                    db.engine.dispose()  # no connection of the lost server is reused
            self.stopping.wait(delay)
            delay = min(delay * 2, retry) if self.unreachable_since is not None else retry
        return False

    def _job(self, name: str, work: Any) -> None:
        if self.lost.is_set():
            return
        try:
            with self.app.app_context():
                self.lock.confirm()  # never work without the lock
                work()
        except LeadershipLost as exc:
            log.error("scheduler: leadership lost (%s); back to standby", exc)
            self.lost.set()
            self._end_term()
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
        try:
            while not self.stopping.is_set():
                if not self.wait_for_leadership():
                    break
                self._lead()
                if not self.stopping.is_set():
                    self.stopping.wait(0.5)  # let a lost server settle before trying again
        except Exception:
            log.exception("scheduler: unexpected error; exiting")
            return EXIT_INTERNAL_ERROR
        if self.stopping.is_set():
            return EXIT_STOPPED
        log.error("scheduler: the database stayed unreachable; exiting")
        return EXIT_DATABASE_UNREACHABLE

    def _lead(self) -> None:
        """One term as leader: the jobs run until the process stops or the lock is lost."""
        self.lost.clear()
        c = self.app.config
        zone = ZoneInfo(c["SCHEDULER_TIMEZONE"])
        now = datetime.now(zone)
        self.scheduler = BlockingScheduler(
            timezone=zone,
            # The heartbeat has a thread of its own: long jobs never hold it back.
            executors={"default": ThreadPoolExecutor(3), "heartbeat": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        try:
            with self.app.app_context():
                beat(self.started_at)
        except Exception as exc:
            log.warning("scheduler: first heartbeat failed (%s); back to standby", exc)
            self._release()
            return
        self.scheduler.add_job(self.heartbeat_job, IntervalTrigger(
            seconds=int(c["SCHEDULER_HEARTBEAT_SECONDS"]), timezone=zone), id="heartbeat",
            executor="heartbeat")
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
            self.scheduler = None
            self._release()

    def _release(self) -> None:
        try:
            self.lock.release()
        except Exception as exc:
            log.warning("scheduler: releasing the leader lock: %s", exc)


def run(app: Flask) -> int:
    return SchedulerProcess(app).run()
