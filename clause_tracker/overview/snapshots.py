"""The overview's figures stored in the database, shared by all web workers and computed ahead
of time by the scheduler process.

Why a stored figure can never disagree with the records: it is stored and looked up under
its full key — scope, period, day, and the newest record-changing audit event (id and hash,
audit.services.newest_change). Every change to the records is written with its audit event
in the same transaction, and audit ids only grow, so the figures are a function of that key:
a snapshot is read only for exactly the state of the records it was computed from. After any
change the key moves on, the old row is never read again, and the figures are computed anew
(by the scheduler within a minute, or by the first request that is faster).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from dataclasses import fields, is_dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.services import newest_change
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.overview import metrics
from clause_tracker.overview.metrics import (
    Coverage,
    Declarations,
    FollowUp,
    Period,
    Registry,
    Tally,
    UnitInfo,
)
from clause_tracker.overview.models import OverviewSnapshot

log = logging.getLogger(__name__)
KEEP_DAYS = 2  # snapshots of older days are deleted when the scheduler stores new ones
Mark = tuple[int, str] | None  # audit.services.newest_change()


def key_of(unit: int | None, period: Period, day: date, mark: Mark) -> str:
    text = "|".join(str(part) for part in (unit, period.start, period.end, day,
                                           *(mark or ("", ""))))
    return hashlib.sha256(text.encode()).hexdigest()


# --- the figures as JSON ---------------------------------------------------------------------

def _tally(data: dict) -> Tally:
    amounts = {k: Decimal(v) for k, v in data.items() if k.startswith("value_")}
    return Tally(**(data | amounts))


def _tallies(data: dict, key=str) -> defaultdict:
    return defaultdict(Tally, {key(k): _tally(v) for k, v in data.items()})


def _plain(value: object) -> object:
    """JSON-ready: dataclasses as dicts (dataclasses.asdict fails on a defaultdict before
    Python 3.12), Decimal and date as text."""
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def encode(data: Registry) -> str:
    return json.dumps(_plain(data), sort_keys=True)


def decode(text: str) -> Registry:
    raw = json.loads(text)
    cov = raw["coverage"]
    follow = raw["follow_up"]
    number = lambda v: None if v is None else Decimal(v)  # noqa: E731
    return Registry(
        day=date.fromisoformat(raw["day"]),
        period=Period(*(date.fromisoformat(v) if v else None
                        for v in (raw["period"]["start"], raw["period"]["end"]))),
        units=[UnitInfo(**u) for u in raw["units"]],
        coverage=Coverage(_tally(cov["total"]), _tallies(cov["by_unit"], int),
                          _tallies(cov["by_unit_kind"]), _tallies(cov["by_kind"]),
                          _tallies(cov["by_quarter"])),
        declarations=Declarations(raw["declarations"]["counts"]),
        exemptions=[(r, n, Decimal(v)) for r, n, v in raw["exemptions"]],
        clause_versions=[tuple(v) for v in raw["clause_versions"]],
        commitments=(*raw["commitments"][:2], number(raw["commitments"][2])),
        follow_up=None if follow is None else FollowUp(
            follow["agreements"], follow["checks_done"], follow["complaints"],
            [(p, r, date.fromisoformat(d)) for p, r, d in follow["exclusions"]]),
    )


# --- reading and storing -----------------------------------------------------------------------

def load(key: str) -> Registry | None:
    text = db.session.scalar(select(OverviewSnapshot.figures).where(OverviewSnapshot.key == key))
    return decode(text) if text is not None else None


def compute(unit: int | None, period: Period, day: date, mark: Mark,
            key: str | None = None) -> Registry:
    """Compute the figures and store them under their key, in a transaction of its own (a
    page view commits nothing else). Stored only when the newest audit event is still `mark`
    afterwards: then no change was committed while the statements ran, so every one of them
    read the records exactly as of `mark` (read committed sees nothing else). Two workers
    computing the same key at once store equal figures; the second insert is ignored."""
    key = key or key_of(unit, period, day, mark)
    started = time.perf_counter()
    data = metrics.registry(unit, period, day)
    if newest_change() != mark:
        return data  # current, but not exactly of `mark`: not stored under its key
    row = {"key": key, "unit_id": unit, "day": day, "audit_event_id": mark[0] if mark else 0,
           "computed_at": utcnow(), "seconds": time.perf_counter() - started,
           "figures": encode(data)}
    try:
        with db.engine.begin() as conn:
            conn.execute(OverviewSnapshot.__table__.insert(), row)
    except IntegrityError:
        pass  # stored by another worker meanwhile: equal figures under an equal key
    except SQLAlchemyError as exc:  # storing saves later work; the figures are right anyway
        log.warning("overview snapshot not stored: %s", exc)
    return data


def refresh(day: date) -> int:
    """For the scheduler: compute the standard views (all units, and each unit that has
    agreements; no period limit) of today's records unless stored already; delete snapshots of
    days before. Returns how many it computed."""

    mark = newest_change()
    scopes: list[int | None] = [None, *db.session.scalars(
        select(Agreement.org_unit_id).distinct().order_by(Agreement.org_unit_id))]
    computed = 0
    for unit in scopes:
        key = key_of(unit, Period(), day, mark)
        stored = db.session.scalar(select(OverviewSnapshot.key).where(OverviewSnapshot.key == key))
        db.session.rollback()  # end the read transaction: each computation sees fresh data
        if stored is None:
            compute(unit, Period(), day, mark, key)
            computed += 1
        if newest_change() != mark:
            break  # the records changed meanwhile: the next run starts from the new state
    with db.engine.begin() as conn:
        conn.execute(delete(OverviewSnapshot).where(
            OverviewSnapshot.day < day - timedelta(days=KEEP_DAYS)))
    return computed
