"""The one transaction boundary: a unit of work commits when it ends and rolls back on any
exception — a refused change as much as a crash — so no caller ever rolls back by hand and
no half-done change survives a refusal.

Units of work nest: a service that calls another service runs in the caller's transaction,
and only the outermost unit commits.

Two sessions saving one record at once never end in an error page. Whatever form the race
takes — the version counter moved (StaleDataError at a flush or the commit), PostgreSQL
gave up waiting for a lock (lock_timeout), found a deadlock or could not serialise the
transaction, SQLite's writer lock stayed taken — it becomes an EditConflict the user can
act on: nothing was saved, reload and do it again.

A connection lost at the commit leaves its outcome open: the COMMIT may have reached the
database before the connection broke. Every write carries its audit event, and the
chained event's id and hash name this transaction exactly, so the unit of work asks the
database (on a new connection) whether that event is there: the user is told "saved" or
"not saved" as the database holds it (ConnectionLost.saved), never a guess.

Batch jobs that commit step by step on purpose (the sweep, the e-mail dispatch, the stored
figures) manage their own transactions and say so where they do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from clause_tracker.extensions import db
from clause_tracker.versioning import CONFLICT_MESSAGE, EditConflict

P = ParamSpec("P")
R = TypeVar("R")
_DEPTH = "clause_tracker.unit_of_work_depth"
# (id, hash) of the newest audit event this transaction appended (audit.services.record).
AUDIT_MARK = "clause_tracker.audit_mark"
COMMITTED = "clause_tracker.committed"  # set on the session once a unit of work committed

# PostgreSQL's SQLSTATEs of a lost race: serialization_failure, deadlock_detected,
# lock_not_available (lock_timeout, NOWAIT).
CONFLICT_STATES = frozenset({"40001", "40P01", "55P03"})


class ConnectionLost(RuntimeError):
    """The database connection broke while a change was being saved. `saved`: whether the
    database holds the change after all (True), certainly not (False), or could not be
    asked (None)."""

    def __init__(self, saved: bool | None) -> None:
        super().__init__(f"database connection lost at commit (saved: {saved})")
        self.saved = saved


def is_disconnect(exc: BaseException) -> bool:
    """The error is the connection's loss (SQLAlchemy invalidated it), not the statement's."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def is_conflict(exc: BaseException) -> bool:
    """The error is a lost race with another transaction: retrying after a reload helps."""
    if isinstance(exc, StaleDataError):
        return True
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    if getattr(exc.orig, "sqlstate", None) in CONFLICT_STATES:
        return True
    # SQLite: another connection kept the database's write lock past the busy timeout.
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def _held_after_all(session: Session, mark: tuple[int, str] | None) -> bool | None:
    """After a commit failed with the connection: is its audit event in the database?"""
    if mark is None:
        return None
    try:
        found = session.execute(text("SELECT 1 FROM audit_events WHERE id = :id AND hash = :hash"),
                                {"id": mark[0], "hash": mark[1]}).first()
        session.rollback()
    except DBAPIError:
        _rollback_quietly(session)
        return None
    return found is not None


def _rollback_quietly(session: Session) -> None:
    with suppress(DBAPIError):  # the connection is gone: SQLAlchemy invalidated it already
        session.rollback()


def _commit(session: Session) -> None:
    mark = session.info.get(AUDIT_MARK)
    try:
        session.commit()
    except DBAPIError as exc:
        if not is_disconnect(exc) or is_conflict(exc):
            raise
        _rollback_quietly(session)
        saved = _held_after_all(session, mark)
        if saved:
            session.info[COMMITTED] = True
        raise ConnectionLost(saved) from exc
    session.info[COMMITTED] = True


@contextmanager
def unit_of_work() -> Iterator[None]:
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    if depth == 0:
        session.info.pop(AUDIT_MARK, None)
    try:
        try:
            yield
            if depth == 0:
                _commit(session)
        except Exception as exc:
            if is_conflict(exc):
                raise EditConflict(CONFLICT_MESSAGE) from exc
            raise
    except BaseException:
        if depth == 0:
            _rollback_quietly(session)
        raise
    finally:
        session.info[_DEPTH] = depth
        if depth == 0:
            session.info.pop(AUDIT_MARK, None)


def transactional(function: Callable[P, R]) -> Callable[P, R]:
    """Run the service function in a unit of work (its caller's, if there is one)."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return function(*args, **kwargs)

    return run
