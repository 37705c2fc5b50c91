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
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import get_args, get_origin

import cattrs.preconf.json
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.services import newest_change
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.overview import metrics
from clause_tracker.overview.metrics import Figures, GroupCoverage, Period
from clause_tracker.overview.models import OverviewSnapshot

log = logging.getLogger(__name__)
KEEP_DAYS = 2  # snapshots of older days are deleted when the scheduler stores new ones
LastChange = tuple[int, str] | None  # audit.services.newest_change()


def key_of(unit: int | None, period: Period, day: date, last_change: LastChange) -> str:
    text = "|".join(str(part) for part in (unit, period.start, period.end, day,
                                           *(last_change or ("", ""))))
    return hashlib.sha256(text.encode()).hexdigest()


# --- the figures as JSON ---------------------------------------------------------------------

_json = cattrs.preconf.json.make_converter()  # dates as ISO text
# Decimal as text: a float would round the money values.
_json.register_unstructure_hook(Decimal, str)
_json.register_structure_hook(Decimal, lambda value, _: Decimal(value))


def _is_tallies(type_: object) -> bool:
    return get_origin(type_) is dict and get_args(type_)[1] is GroupCoverage


def _tallies_hook(type_: object) -> Callable[[dict, object], defaultdict]:
    """The coverage groups as defaultdict(GroupCoverage), as metrics builds them: the tables read
    an empty GroupCoverage for a group without agreements."""
    key_type = get_args(type_)[0]

    def structure(value: dict, _: object) -> defaultdict:
        return defaultdict(GroupCoverage, {
            _json.structure(k, key_type): _json.structure(v, GroupCoverage)
            for k, v in value.items()})

    return structure


_json.register_structure_hook_factory(_is_tallies, _tallies_hook)


def encode(data: Figures) -> str:
    return _json.dumps(data, sort_keys=True)


def decode(text: str) -> Figures:
    return _json.loads(text, Figures)


# --- reading and storing -----------------------------------------------------------------------

def load(key: str) -> Figures | None:
    text = db.session.scalar(select(OverviewSnapshot.figures).where(OverviewSnapshot.key == key))
    return decode(text) if text is not None else None


def compute(unit: int | None, period: Period, day: date, last_change: LastChange,
            key: str | None = None) -> Figures:
    """Compute the figures and store them under their key, in a transaction of its own (a
    page view commits nothing else). Stored only when the newest audit event is still `last_change`
    afterwards: then no change was committed while the statements ran, so every one of them
    read the records exactly as of `last_change` (read committed sees nothing else). Two workers
    computing the same key at once store equal figures; the second insert is ignored."""
    key = key or key_of(unit, period, day, last_change)
    started = time.perf_counter()
    data = metrics.compute(unit, period, day)
    if newest_change() != last_change:
        return data  # current, but not exactly of `last_change`: not stored under its key
    row = {"key": key, "unit_id": unit, "day": day,
           "audit_event_id": last_change[0] if last_change else 0,
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

    last_change = newest_change()
    scopes: list[int | None] = [None, *db.session.scalars(
        select(Agreement.org_unit_id).distinct().order_by(Agreement.org_unit_id))]
    computed = 0
    for unit in scopes:
        key = key_of(unit, Period(), day, last_change)
        stored = db.session.scalar(select(OverviewSnapshot.key).where(OverviewSnapshot.key == key))
        db.session.rollback()  # end the read transaction: each computation sees fresh data
        if stored is None:
            compute(unit, Period(), day, last_change, key)
            computed += 1
        if newest_change() != last_change:
            break  # the records changed meanwhile: the next run starts from the new state
    with db.engine.begin() as conn:
        conn.execute(delete(OverviewSnapshot).where(
            OverviewSnapshot.day < day - timedelta(days=KEEP_DAYS)))
    return computed
