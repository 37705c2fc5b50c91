"""The audit guard (tests/audit_guard.py) is active in the whole suite: a change the package
commits without an audit event fails; with its event it passes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from clause_tracker.audit.services import record
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.transaction import unit_of_work
from tests.audit_guard import UnauditedWrite


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(OrgUnit))


def test_a_change_without_its_audit_event_fails_and_is_rolled_back(app) -> None:
    with pytest.raises(UnauditedWrite, match=r"\['org_units'\] without an audit event"), \
            unit_of_work():
        db.session.add(OrgUnit(code="XYZ", name="Ohne Spur", kind="department"))
    assert _count() == 0


def test_a_change_with_its_audit_event_commits(app) -> None:
    with unit_of_work():
        unit = OrgUnit(code="XYZ", name="Mit Spur", kind="department")
        db.session.add(unit)
        db.session.flush()
        record("orgunit.create", "OrgUnit", unit.id, "unit XYZ created")
    assert _count() == 1
