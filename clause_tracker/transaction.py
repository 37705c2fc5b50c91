"""The one transaction boundary: a unit of work commits when it ends and rolls back on any
exception — a refused change as much as a crash — so no caller ever rolls back by hand and
no half-done change survives a refusal.

Units of work nest: a service that calls another service runs in the caller's transaction,
and only the outermost unit commits. A concurrent save found at flush or commit (the
version counter moved) becomes an EditConflict the user can act on.

Batch jobs that commit step by step on purpose (the sweep, the e-mail dispatch, the stored
figures) manage their own transactions and say so where they do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy.orm.exc import StaleDataError

from clause_tracker.extensions import db
from clause_tracker.versioning import CONFLICT_MESSAGE, EditConflict

P = ParamSpec("P")
R = TypeVar("R")
_DEPTH = "clause_tracker.unit_of_work_depth"


@contextmanager
def unit_of_work() -> Iterator[None]:
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        try:
            yield
            if depth == 0:
                session.commit()
        except StaleDataError as exc:
            raise EditConflict(CONFLICT_MESSAGE) from exc
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def transactional(function: Callable[P, R]) -> Callable[P, R]:
    """Run the service function in a unit of work (its caller's, if there is one)."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return function(*args, **kwargs)

    return run
