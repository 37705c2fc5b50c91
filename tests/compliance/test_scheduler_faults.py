"""The scheduler against a failing database (`-m faults`, PostgreSQL): real processes,
connections terminated with pg_terminate_backend, a leader killed with SIGKILL. It keeps
leading or takes over, and every reminder goes out exactly once across the switch."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from clause_tracker.checks.outbox import OutboxMessage
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.jobs.scheduler import AdvisoryLock, LeadershipLost
from tests.compliance.test_scheduler_process import _heartbeat, _wait, spawn  # noqa: F401

pytestmark = pytest.mark.faults


@pytest.fixture(autouse=True)
def _postgres_only(app) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("terminates PostgreSQL backends: set CLAUSE_TRACKER_TEST_DATABASE_URL")


def _terminate_connections(app) -> int:
    """Terminate every connection of the scheduler processes to the test's database."""
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return conn.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() "
                "AND application_name = 'clause-tracker scheduler'")) or 0
    finally:
        admin.dispose()


def _due_reminders(agreement, officer) -> list[str]:
    users = [officer(code=code) for code in ("ZVS", "KIJ", "JK")]
    start = utcnow().date() - timedelta(days=800)
    for code in ("ZVS", "KIJ", "JK"):
        for _ in range(2):
            agreement(code=code, start_date=start)
    return sorted(u.email for u in users)


def _sent() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_terminated_connections_the_leader_leads_again(app, agreement, officer, mail_config,
                                                       spawn) -> None:  # noqa: F811
    mail_config.start()
    recipients = _due_reminders(agreement, officer)
    proc = spawn("run")
    _wait(lambda: len(mail_config.messages) >= 3)
    for _ in range(2):  # two blips, one after the other
        cut = utcnow()
        assert _terminate_connections(app) >= 1
        _wait(lambda cut=cut: (hb := _heartbeat()) is not None and hb.beat_at > cut
              and hb.last_sweep_at is not None and hb.last_sweep_at > cut, seconds=30)
        assert proc.poll() is None, "the scheduler exited"
        assert _heartbeat().holder.endswith(f":{proc.pid}")
    assert mail_config.recipients() == recipients
    assert len(mail_config.messages) == 3 and _sent() == 3
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0


def test_standby_takes_over_a_killed_leader_within_15_seconds(app, agreement, officer,
                                                              mail_config, spawn) -> None:  # noqa: F811
    mail_config.start()
    recipients = _due_reminders(agreement, officer)
    slow = {"SCHEDULER_STANDBY_RETRY_SECONDS": 5, "SCHEDULER_HEARTBEAT_SECONDS": 2}
    first, second = spawn("run", **slow), spawn("run", **slow)
    _wait(lambda: len(mail_config.messages) >= 3)
    leader = _heartbeat()
    assert leader is not None
    pid = int(leader.holder.rsplit(":", 1)[1])
    last_beat = leader.beat_at  # the row object is read again below
    standby = second if pid == first.pid else first
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    _wait(lambda: (hb := _heartbeat()) is not None and hb.holder.endswith(f":{standby.pid}"),
          seconds=30)
    took = time.monotonic() - killed
    assert took <= 15, f"the standby took {took:.1f} s"
    _wait(lambda: (hb := _heartbeat()) is not None and hb.last_dispatch_at is not None
          and hb.last_dispatch_at > last_beat + timedelta(seconds=1))
    assert mail_config.recipients() == recipients and _sent() == 3
    standby.send_signal(signal.SIGTERM)
    assert standby.wait(timeout=15) == 0


def test_the_lock_is_confirmed_on_each_threads_own_connection(app) -> None:
    """Jobs confirm the lock at once from several threads: no thread uses another's
    connection (no "transaction already deassociated"), and none is refused."""
    lock = AdvisoryLock(app)
    assert lock.acquire()
    failures: list[BaseException] = []

    def confirm_many() -> None:
        try:
            for _ in range(200):
                with app.app_context():
                    lock.confirm()
        except BaseException as exc:
            failures.append(exc)

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            threads = [threading.Thread(target=confirm_many) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        assert failures == []
        assert [str(w.message) for w in caught] == []
        # The lock connection terminated: the next confirmation says so.
        admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lock.pid})
        admin.dispose()
        with pytest.raises(LeadershipLost, match="no longer held"):
            lock.confirm()
    finally:
        lock.release()
