"""Optimistic locking: two people editing one record; the second save is refused.

Each editable record has a version counter (SQLAlchemy `version_id_col`); forms carry
the version they were opened with. A save is checked against it, and the UPDATE itself
is guarded by the counter, so a race between check and commit is refused as well.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


class RefusedChange(ValueError):
    """A change refused for a reason the user can act on; the message says which."""


class EditConflict(RefusedChange):
    """Someone else saved the record since this form was opened."""


CONFLICT_MESSAGE = _l("Someone else changed this record while you were editing it. Nothing "
                      "was saved. Please reload the page, check the current values and make "
                      "your change again.")


def check_version(obj: Any, expected: int | None) -> None:
    if expected is not None and obj.version_id != expected:
        raise EditConflict(CONFLICT_MESSAGE)
