from __future__ import annotations

from sqlalchemy import select

from clause_tracker.audit.services import record
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit, UnitKind
from clause_tracker.transaction import transactional


def ensure_unit(code: str, name: str, kind: UnitKind, document_name: str | None = None,
                address: str | None = None) -> OrgUnit:
    """The unit with this code, created (and audited) if it does not exist yet."""
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        unit = OrgUnit(code=code, name=name, kind=kind, document_name=document_name,
                       address=address)
        db.session.add(unit)
        db.session.flush()
        record("orgunit.create", "OrgUnit", unit.id, f"Unit {code} created: {name}",
               {"code": code, "name": name, "kind": kind.value,
                "document_name": document_name, "address": address})
    return unit


def all_units() -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.name)))


@transactional
def update_unit(unit: OrgUnit, document_name: str | None, address: str | None) -> bool:
    """Set how the unit names itself on its documents and its postal address (audited);
    False when nothing changed."""
    new = {"document_name": (document_name or "").strip() or None,
           "address": _address(address)}
    changes = {name: [getattr(unit, name), value] for name, value in new.items()
               if getattr(unit, name) != value}
    if not changes:
        return False
    for name, (_old, value) in changes.items():
        setattr(unit, name, value)
    record("orgunit.update", "OrgUnit", unit.id,
           f"Unit {unit.code} changed: {', '.join(changes)}", {"changes": changes},
           params={"code": unit.code})
    return True


def _address(text: str | None) -> str | None:
    """Lines as typed, each stripped, empty lines dropped; None when nothing is left."""
    lines = [line.strip() for line in (text or "").splitlines()]
    return "\n".join(line for line in lines if line) or None
