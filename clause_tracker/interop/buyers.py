"""The mapping of eForms buyers to organisational units: an administrator's table, each
change audited. A buyer is matched by its registration number (CompanyID, spaces and case
ignored), else by its name (case ignored) in a row without a number."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from clause_tracker.audit.services import record as audit
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.interop.models import EformsBuyer
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.transaction import transactional
from clause_tracker.versioning import RefusedChange


class BuyerError(RefusedChange):
    """A refused change of the buyer table; the message is for the user."""


def normalise_number(number: str) -> str:
    return "".join(number.split()).casefold()


def normalise_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def all_buyers() -> list[EformsBuyer]:
    return list(db.session.scalars(select(EformsBuyer).order_by(EformsBuyer.name,
                                                                EformsBuyer.company_id)))


def unit_of(company_id: str, name: str) -> OrgUnit | None:
    """The unit a buyer is mapped to, by number first, then by name; None when unmapped."""
    rows = all_buyers()
    number = normalise_number(company_id)
    if number:
        for row in rows:
            if row.company_id and normalise_number(row.company_id) == number:
                return row.org_unit
    wanted = normalise_name(name)
    if wanted:
        for row in rows:
            if not row.company_id and normalise_name(row.name) == wanted:
                return row.org_unit
    return None


@transactional
def add_buyer(company_id: str, name: str, org_unit_id: int) -> EformsBuyer:
    company_id, name = " ".join(company_id.split()), " ".join(name.split())
    if not company_id and not name:
        raise BuyerError(_l("Give the buyer's registration number or its name."))
    unit = db.session.get(OrgUnit, org_unit_id)
    if unit is None:
        raise BuyerError(_l("No such unit."))
    for row in all_buyers():
        if (company_id and normalise_number(row.company_id) == normalise_number(company_id)) \
                or (not company_id and not row.company_id
                    and normalise_name(row.name) == normalise_name(name)):
            raise BuyerError(_l("This buyer is mapped already (to %(unit)s).",
                                unit=row.org_unit.code))
    now = utcnow()
    row = EformsBuyer(company_id=company_id, name=name, org_unit_id=unit.id, created_at=now,
                      updated_at=now)
    db.session.add(row)
    db.session.flush()
    audit("eforms_buyer.add", "EformsBuyer", row.id,
          f"eForms buyer {name or company_id} mapped to {unit.code}",
          {"company_id": company_id, "name": name, "unit": unit.code})
    return row


@transactional
def remove_buyer(buyer_id: int) -> None:
    row = db.session.get(EformsBuyer, buyer_id)
    if row is None:
        raise BuyerError(_l("No such buyer mapping."))
    audit("eforms_buyer.remove", "EformsBuyer", row.id,
          f"eForms buyer {row.name or row.company_id} no longer mapped to {row.org_unit.code}",
          {"company_id": row.company_id, "name": row.name, "unit": row.org_unit.code})
    db.session.delete(row)
    db.session.flush()
