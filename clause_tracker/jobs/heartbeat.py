"""The scheduler's heartbeat: one row, written by the leader, read by /healthz and the
admin page (which must not import APScheduler or know how leadership is won)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from clause_tracker.clock import utcnow
from clause_tracker.extensions import Model, db

NAME = "scheduler"


class SchedulerHeartbeat(Model):
    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))  # host:pid of the leader
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    last_sweep_at: Mapped[datetime | None]
    last_sweep_id: Mapped[int | None]
    last_dispatch_at: Mapped[datetime | None]


@dataclass(frozen=True)
class HeartbeatStatus:
    status: str  # ok | stale | never
    holder: str | None = None
    beat_at: datetime | None = None
    age_seconds: int | None = None
    last_sweep_at: datetime | None = None
    last_dispatch_at: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        report: dict[str, object] = {"status": self.status}
        if self.holder:
            report |= {"holder": self.holder, "age_seconds": self.age_seconds,
                       "beat_at": self.beat_at.isoformat() + "Z" if self.beat_at else None,
                       "last_sweep_at": (self.last_sweep_at.isoformat() + "Z"
                                         if self.last_sweep_at else None)}
        return report


def stale_after(config: Mapping[str, Any]) -> int:
    """Seconds after which a heartbeat is stale: SCHEDULER_STALE_SECONDS, or (0) two
    heartbeat intervals — a leader that died is reported within them."""
    return int(config.get("SCHEDULER_STALE_SECONDS") or 0) or \
        2 * int(config["SCHEDULER_HEARTBEAT_SECONDS"])


def status(stale_after: int = 30) -> HeartbeatStatus:
    row = db.session.scalar(select(SchedulerHeartbeat).where(SchedulerHeartbeat.name == NAME))
    if row is None:
        return HeartbeatStatus("never")
    age = int((utcnow() - row.beat_at).total_seconds())
    return HeartbeatStatus("ok" if age <= stale_after else "stale", row.holder, row.beat_at,
                           age, row.last_sweep_at, row.last_dispatch_at)
