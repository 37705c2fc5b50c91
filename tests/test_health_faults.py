"""/healthz: the migration heads read once, the scheduler's heartbeat stale after two
heartbeat intervals, and a 503 for a stale scheduler when HEALTHZ_REQUIRE_SCHEDULER is on."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic.script import ScriptDirectory

from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.jobs.heartbeat import NAME, SchedulerHeartbeat


def _beat(age_seconds: int) -> None:
    now = utcnow()
    db.session.merge(SchedulerHeartbeat(name=NAME, holder="node1:4242",
                                        started_at=now - timedelta(hours=1),
                                        beat_at=now - timedelta(seconds=age_seconds)))
    db.session.commit()


def test_heartbeat_is_stale_after_two_intervals(app, client) -> None:
    app.config["SCHEDULER_HEARTBEAT_SECONDS"] = 15
    _beat(25)
    assert client.get("/healthz").json["scheduler"]["status"] == "ok"
    _beat(31)
    answer = client.get("/healthz")
    assert answer.status_code == 200  # informational by default
    assert answer.json["status"] == "ok" and answer.json["scheduler"]["status"] == "stale"


@pytest.mark.parametrize("age, code", [(5, 200), (31, 503), (None, 503)])
def test_healthz_requires_the_scheduler_when_asked(app, client, age, code) -> None:
    app.config.update(HEALTHZ_REQUIRE_SCHEDULER=True, SCHEDULER_HEARTBEAT_SECONDS=15)
    if age is not None:
        _beat(age)
    answer = client.get("/healthz")
    assert answer.status_code == code, answer.json
    assert answer.json["status"] == ("ok" if code == 200 else "error")


def test_healthz_reads_the_migration_scripts_once(app, client, monkeypatch) -> None:
    reads: list[datetime] = []
    heads = ScriptDirectory.get_heads

    def counted(self):
        reads.append(utcnow())
        return heads(self)

    monkeypatch.setattr(ScriptDirectory, "get_heads", counted)
    for _ in range(5):
        assert client.get("/healthz").json["migrations"] == "current"
    assert len(reads) == 1
