"""Recording contractors and grantees; audited in the same transaction."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy import update as sql_update

from clause_tracker import idempotency
from clause_tracker.audit.services import record as audit
from clause_tracker.clock import utcnow
from clause_tracker.counterparties.models import ContactPerson, Counterparty
from clause_tracker.erasure import ERASED
from clause_tracker.extensions import db
from clause_tracker.pagination import clamp
from clause_tracker.transaction import transactional
from clause_tracker.versioning import EditConflict, check_version

PAGE_SIZE = 50

__all__ = ["EditConflict", "add_contact", "create", "find_by_name", "get", "page", "update"]


def get(counterparty_id: int) -> Counterparty | None:
    return db.session.get(Counterparty, counterparty_id)


def find_by_name(name: str) -> Counterparty | None:
    return db.session.scalar(select(Counterparty).where(Counterparty.name == name.strip())
                             .order_by(Counterparty.id).limit(1))


def choices() -> list[tuple[int, str]]:
    return list(db.session.execute(select(Counterparty.id, Counterparty.name)
                                   .order_by(Counterparty.name)).tuples())


def page(search: str = "", number: int = 1) -> tuple[list[Counterparty], int, int]:
    """One page of counterparties: (rows, total, the page number actually shown)."""
    stmt = select(Counterparty)
    if search:
        stmt = stmt.where(Counterparty.name.ilike(f"%{search}%"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    number = clamp(number, total, PAGE_SIZE)
    rows = db.session.scalars(stmt.order_by(Counterparty.name)
                              .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))
    return list(rows), total, number


@transactional
def create(values: dict[str, Any], token: str | None = None) -> Counterparty:
    party = Counterparty(**values, created_at=utcnow())
    db.session.add(party)
    db.session.flush()
    if token:
        idempotency.spend(token, "Counterparty", party.id)
    audit("counterparty.create", "Counterparty", party.id,
          f"Counterparty recorded: {party.name}", values)
    return party


@transactional
def update(party: Counterparty, values: dict[str, Any], expected_version: int) -> Counterparty:
    check_version(party, expected_version)
    changes = {k: [getattr(party, k), v] for k, v in values.items() if getattr(party, k) != v}
    if not changes:
        return party
    for name, (_old, new) in changes.items():
        setattr(party, name, new)
    db.session.flush()
    audit("counterparty.update", "Counterparty", party.id,
          f"Counterparty {party.name} changed: {', '.join(changes)}", {"changes": changes})
    return party


@transactional
def add_contact(party: Counterparty, name: str, function: str, email: str,
                token: str) -> ContactPerson:
    if not name.strip():
        raise ValueError(_l("A contact person needs a name."))
    contact = ContactPerson(counterparty=party, name=name.strip(), function=function.strip(),
                            email=email.strip())
    db.session.add(contact)
    db.session.flush()
    idempotency.spend(token, "ContactPerson", contact.id)
    audit("counterparty.contact_add", "Counterparty", party.id,
          f"Contact person added to {party.name}",
          {"contact_id": contact.id},
          personal={"name": contact.name, "function": contact.function,
                    "email": contact.email}, subject=f"ContactPerson:{contact.id}")
    return contact


def erase_contacts(counterparty_id: int) -> tuple[int, list[int]]:
    """Erase the names, functions and e-mail addresses of the counterparty's contact persons
    (retention decides when none of its agreements needs them any more). Returns how many
    were erased now and the ids of all of them (erased earlier too: their audit events'
    personal parts go as well)."""
    ids = list(db.session.scalars(select(ContactPerson.id).where(
        ContactPerson.counterparty_id == counterparty_id)))
    erased = db.session.execute(
        sql_update(ContactPerson)
        .where(ContactPerson.counterparty_id == counterparty_id, ContactPerson.name != ERASED)
        .values(name=ERASED, function="", email="")
    ).rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult
    return erased, ids
