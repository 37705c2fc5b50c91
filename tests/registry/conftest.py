"""Registry fixtures: records built through the service layer, and form helpers for the web."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements.models import Agreement
from clause_tracker.clock import utcnow
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.declarations.models import Declaration
from clause_tracker.extensions import db
from clause_tracker.idempotency import new_token


@pytest.fixture
def party(app) -> Counterparty:
    row = Counterparty(name="Muster Bau GmbH", legal_form="GmbH",
                       address="Löbdergraben 1, 07743 Jena", created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def make_agreement(app, make_user, party) -> Callable[..., Agreement]:
    """make_agreement(kind, unit, **values) → a draft recorded by an officer of that unit."""

    def make(kind: str = "contract", unit: str | None = None, **values) -> Agreement:
        role = "procurement_officer" if kind == "contract" else "grant_manager"
        user = make_user(role, unit)
        defaults = {
            "reference": f"V-{new_token()[:8]}", "subject": "Reinigung der Schulen",
            "counterparty_id": party.id, "value": Decimal("12345.67"),
            "start_date": date(2026, 1, 1), "end_date": date(2026, 12, 31),
            "decided_on": date(2025, 12, 1),
        }
        if kind == "contract":
            defaults |= {"contract_kind": "services", "procedure": "open"}
        else:
            defaults |= {"programme": "Fonds Politische Bildung", "proof_due_on": date(2027, 6, 30)}
        return agreements.create(kind, defaults | values, user, new_token())

    return make


def add_declaration(agreement: Agreement, state: str, **values) -> Declaration:
    now = utcnow()
    decl = Declaration(agreement=agreement, party=values.pop("party", "main"),
                       party_name="Muster Bau GmbH", state=state, created_at=now,
                       updated_at=now, **values)
    db.session.add(decl)
    db.session.commit()
    return decl
