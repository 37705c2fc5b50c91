"""The test data, one factory for each kind of record, and the fixtures that hand them to
the tests (tests/conftest.py registers this module as a plugin).

Agreements are made in one of two ways, and a test says which:

- `insert_agreement` / the `agreement` fixture writes the row straight into the tables: any
  status, no audit event, fast (for the sweep, checks and measures, many at a time);
- `record_agreement` / the `make_agreement` fixture records a draft through
  `agreements.services.create` as an officer of the unit would (audited, validated).

Plain functions, not factory_boy: the audit guard (tests/audit_guard.py) tells set-up from
behaviour by who commits — a commit called from code in tests/ is set-up, one called from
anywhere else must carry its audit event. factory_boy's SQLAlchemy persistence commits from
inside factory_boy, so each record it made would count as an unaudited write of the package.
The defaults are few, and a function call shows them where a test reads them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements.models import MODEL_OF_KIND, Agreement
from clause_tracker.auth.models import User
from clause_tracker.auth.services import create_user
from clause_tracker.bootstrap import DEMO_UNITS
from clause_tracker.clock import utcnow
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.declarations.models import Declaration
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.idempotency import new_token
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.orgunits.services import ensure_unit
from tests.helpers import PASSWORD

UNITS = {code: (name, kind) for code, name, kind in DEMO_UNITS}
# The unit an officer gets when a test names none.
DEFAULT_UNIT = {"procurement_officer": "ZVS", "grant_manager": "FDJB"}


def unit(code: str) -> OrgUnit:
    """One of the demo units (ZVS, FDJB, KIJ, JK, RPA …), created on first use."""
    return ensure_unit(code, *UNITS[code])


def new_user(role: str, unit_code: str | None = None, username: str | None = None,
             password: str = PASSWORD, email: str | None = None,
             locale: str | None = None) -> User:
    """A user through the service; officers without a unit named get their default one."""
    unit_code = unit_code or DEFAULT_UNIT.get(role)
    user = create_user(username or f"{role}-{uuid.uuid4().hex[:6]}", password, role,
                       org_unit=unit(unit_code) if unit_code else None, email=email)
    if locale:
        user.locale = locale
        db.session.commit()
    return user


def new_counterparty(commit: bool = True, **values: Any) -> Counterparty:
    defaults: dict[str, Any] = {"name": "Muster Bau GmbH", "legal_form": "GmbH",
                                "address": "Löbdergraben 1, 07743 Jena", "created_at": utcnow()}
    row = Counterparty(**(defaults | values))
    db.session.add(row)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return row


def insert_agreement(kind: str = "contract", code: str = "ZVS", status: str = "active",
                     commit: bool = True, **values: Any) -> Agreement:
    """An agreement written straight into the tables (a new counterparty unless one is
    given as counterparty_id)."""
    now = utcnow()
    if "counterparty_id" not in values:
        values["counterparty_id"] = new_counterparty(commit=False).id
    defaults: dict[str, Any] = {
        "reference": f"A-{uuid.uuid4().hex[:8]}", "subject": "Reinigung der Schulen",
        "status": status, "org_unit_id": unit(code).id, "value": Decimal("100000"),
        "start_date": date(2025, 1, 1), "end_date": date(2027, 12, 31),
        "decided_on": date(2024, 12, 1), "created_at": now, "updated_at": now,
    }
    row = MODEL_OF_KIND[kind](**(defaults | values))
    db.session.add(row)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return row


def record_agreement(kind: str, user: User, counterparty_id: int | None = None,
                     **values: Any) -> Agreement:
    """A draft recorded through the service by `user`, as the registry's form does."""
    defaults: dict[str, Any] = {
        "reference": f"V-{new_token()[:8]}", "subject": "Reinigung der Schulen",
        "counterparty_id": counterparty_id, "value": Decimal("12345.67"),
        "start_date": date(2026, 1, 1), "end_date": date(2026, 12, 31),
        "decided_on": date(2025, 12, 1),
    }
    if kind == "contract":
        defaults |= {"contract_kind": "services", "procedure": "open",
                     "vat_rate": Decimal("19")}
    else:
        defaults |= {"programme": "Fonds Politische Bildung", "proof_due_on": date(2027, 6, 30),
                     "funding_kind": "project", "funding_method": "deficit"}
    return agreements.create(kind, defaults | values, user, new_token())


def add_declaration(agreement: Agreement, state: str = "accepted", commit: bool = True,
                    **values: Any) -> Declaration:
    """A declaration in `state`, written straight into the table (party "main" unless
    given)."""
    now = utcnow()
    defaults: dict[str, Any] = {"party": "main", "party_name": "Muster Bau GmbH",
                                "created_at": now, "updated_at": now}
    decl = Declaration(agreement=agreement, state=state, **(defaults | values))
    db.session.add(decl)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return decl


def file_signed_copy(agreement: Agreement, status: str = "verbatim", confirmed: bool = False,
                     commit: bool = True, **values: Any) -> DocumentRecord:
    """A returned copy filed on the agreement, written straight into the table, checked with
    `status` (confirmed: an OCR match or manual check someone confirmed)."""
    now = utcnow()
    creator = values.pop("created_by_id", None) or new_user(
        "procurement_officer", agreement.org_unit.code).id
    record = DocumentRecord(
        action="manual" if status == "manual" else "verify", filename="unterschrieben.pdf",
        input_sha256=uuid.uuid4().hex * 2, status=status, agreement_id=agreement.id,
        org_unit_id=agreement.org_unit_id, created_by_id=creator, created_at=now,
        app_version="test", details_json="{}",
        confirmed_at=now if confirmed else None, **values)
    db.session.add(record)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return record


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """make_user(role, unit=None, username=None, password=PASSWORD) → a new user."""

    def make(role: str, unit: str | None = None, username: str | None = None,
             password: str = PASSWORD) -> User:
        return new_user(role, unit, username, password)

    return make


@pytest.fixture
def officer(app: Flask) -> Callable[..., User]:
    """officer("procurement_officer", "ZVS", "vera@jena.de") → a user with an address."""

    def make(role: str = "procurement_officer", code: str = "ZVS",
             email: str | None = None, locale: str | None = None) -> User:
        name = f"{role[:4]}-{uuid.uuid4().hex[:6]}"
        return new_user(role, code, name, email=email or f"{name}@jena.example",
                        locale=locale)

    return make


@pytest.fixture
def counterparty(app: Flask) -> Counterparty:
    """The test's contractor or grantee, Muster Bau GmbH."""
    return new_counterparty()


@pytest.fixture
def agreement(app: Flask, counterparty: Counterparty) -> Callable[..., Agreement]:
    """agreement(kind="contract", code="ZVS", status="active", commit=True, **values) → an
    agreement of the test's counterparty, straight into the tables."""

    def make(kind: str = "contract", code: str = "ZVS", status: str = "active",
             commit: bool = True, **values: Any) -> Agreement:
        values.setdefault("counterparty_id", counterparty.id)
        return insert_agreement(kind, code, status, commit, **values)

    return make


@pytest.fixture
def make_agreement(app: Flask, counterparty: Counterparty) -> Callable[..., Agreement]:
    """make_agreement(kind, unit, **values) → a draft of the test's counterparty, recorded
    through the service by a new officer of that unit."""

    def make(kind: str = "contract", unit: str | None = None, **values: Any) -> Agreement:
        role = "procurement_officer" if kind == "contract" else "grant_manager"
        return record_agreement(kind, new_user(role, unit), counterparty.id, **values)

    return make
