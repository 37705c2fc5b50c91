"""Every write is audited — enforced in the whole test suite, not hoped for.

The stored figures and states are keyed by the newest audit event, so a change committed
without its audit event would leave them stale. This guard watches every session: each
transaction that changes a mapped record (by the unit of work's flush or by an INSERT,
UPDATE or DELETE statement) must also append to the audit trail before it commits, or the
commit fails with the tables it changed.

Exempt are the trail itself and the technical tables below, and commits made directly by
test code (fixtures and set-up write records the way a migration or import would; the
behaviour under test runs through the package's services, whose commits are checked).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import Result, column, event, func, select, table
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

TESTS = str(Path(__file__).resolve().parent)
AUDIT_EVENTS = table("audit_events", column("id"))

# Tables whose rows are bookkeeping of the machinery, not records anyone changes:
TECHNICAL_TABLES = frozenset({
    "audit_events",          # the trail itself
    "alembic_version",       # the schema's version
    "submitted_forms",       # one-time form tokens, written with the change they guard
    "scheduler_heartbeats",  # the scheduler's liveness beat
    "outbox_messages",       # e-mail delivery state (queued by audited changes)
    "mail_outages",          # when no e-mail went out, and whether that was told
    "compliance_reminders",  # who is reminded of an audited due check, and when it was sent
    "compliance_sweeps",     # a sweep's run record (its changes are audited in its steps)
    "compliance_sample_draws",  # the monthly sample's seed, kept for reproduction
    "imports",               # an import job's progress (queueing and the result are audited)
    "overview_snapshots",    # figures derived from the audited records
    "stored_files",          # file contents, written with the audited record naming them
    "stored_file_chunks",    # (or held for a pending upload's confirmation)
})
_KEY = "audit_guard"


class UnauditedWrite(AssertionError):
    pass


def _state(session: Session) -> dict:
    return session.info.setdefault(_KEY, {"changed": set(), "start": None})


def _after_begin(session: Session, transaction, connection) -> None:
    state = _state(session)
    state["changed"] = set()
    state["start"] = connection.execute(select(func.max(AUDIT_EVENTS.c.id))).scalar() or 0


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    changed = _state(session)["changed"]
    for obj in [*session.new, *session.deleted]:
        changed.add(obj.__table__.name)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            changed.add(obj.__table__.name)


def _do_orm_execute(execute_state: ORMExecuteState) -> Result | None:
    """An INSERT, UPDATE or DELETE statement changed its table if it touched a row (a sweep
    step that finds nothing to expire changes nothing and needs no event)."""
    if not (execute_state.is_insert or execute_state.is_update or execute_state.is_delete):
        return None
    result = execute_state.invoke_statement()
    if result.returns_rows and not execute_state.is_orm_statement:
        # Core RETURNING (SQLite reports no row count before the rows are read): count the
        # rows and hand on a replayable copy.
        frozen = result.freeze()
        touched, result = len(frozen.data), frozen()
    else:
        touched = getattr(result, "rowcount", -1)
    target = getattr(execute_state.statement, "table", None)
    name = getattr(target, "name", None)
    if name and touched != 0:  # -1: the driver does not know; count it as a change
        _state(execute_state.session)["changed"].add(name)
    return result


def _committed_by_test_code() -> bool:
    """Whether the commit was called by code in tests/ itself (set-up), as opposed to code
    of the package (a service's unit of work, a job)."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == __file__ or filename.startswith("<") or "sqlalchemy" in filename:
            frame = frame.f_back
            continue
        return filename.startswith(TESTS)
    return False


def _before_commit(session: Session) -> None:
    session.flush()
    state = _state(session)
    changed = state["changed"] - TECHNICAL_TABLES
    if not changed or state["start"] is None or _committed_by_test_code():
        return
    newest = session.execute(select(func.max(AUDIT_EVENTS.c.id))).scalar() or 0
    if newest <= state["start"]:
        raise UnauditedWrite(
            f"a transaction changed {sorted(changed)} without an audit event")


def _after_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)


def install() -> None:
    event.listen(Session, "after_begin", _after_begin)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_transaction_end", _after_end)
