"""The PostgreSQL advisory locks of the application, in one place so no two share a key.
SQLite serialises its writers itself; there these are no-ops.

Each key is an arbitrary constant spelling four letters of its name in ASCII."""

from __future__ import annotations

import enum

from sqlalchemy import text

from clause_tracker.extensions import db


class Lock(enum.IntEnum):
    AUDIT_CHAIN = 0x61756469  # "audi": one transaction at a time extends the audit chain
    SWEEP_STEP = 0x73776570  # "swep": one sweep step at a time, across processes
    SCHEDULER_LEADER = 0x73636865  # "sche": the scheduler process that leads


def hold_for_transaction(lock: Lock) -> None:
    """Wait for `lock` and hold it until the session's transaction ends (PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(lock)})
