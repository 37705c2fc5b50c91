from __future__ import annotations

from sqlalchemy import select

from clause_tracker.audit.services import record
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit, UnitKind


def ensure_unit(code: str, name: str, kind: UnitKind) -> OrgUnit:
    """The unit with this code, created (and audited) if it does not exist yet."""
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        unit = OrgUnit(code=code, name=name, kind=kind)
        db.session.add(unit)
        db.session.flush()
        record("orgunit.create", "OrgUnit", unit.id, f"Unit {code} created: {name}",
               {"code": code, "name": name, "kind": kind.value})
    return unit


def all_units() -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.name)))
