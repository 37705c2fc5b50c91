"""Bringing a database up to date, and the demo data for a first look."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_migrate import upgrade

from clause_tracker.auth import services as users
from clause_tracker.clauses import services as clauses
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import UnitKind
from clause_tracker.orgunits.services import ensure_unit
from clause_tracker.permissions import Role

# Units named in Jena's action plan against racism (and those that award most).
DEMO_UNITS = [
    ("BMI", "Büro für Migration und Integration", UnitKind.DEPARTMENT),
    ("FDJB", "Fachdienst Jugend und Bildung", UnitKind.DEPARTMENT),
    ("ZVS", "Zentrale Vergabestelle", UnitKind.DEPARTMENT),
    ("RPA", "Rechnungsprüfungsamt", UnitKind.DEPARTMENT),
    ("ADS", "Antidiskriminierungsstelle", UnitKind.DEPARTMENT),
    ("KIJ", "Kommunale Immobilien Jena", UnitKind.EIGENBETRIEB),
    ("JK", "JenaKultur", UnitKind.EIGENBETRIEB),
]

# How the demo's units name themselves on their documents, and their addresses.
DEMO_LETTERHEADS = {
    "KIJ": {"document_name": "Kommunale Immobilien Jena – Eigenbetrieb der Stadt Jena",
            "address": "Paradiesstraße 6\n07743 Jena"},
    "JK": {"document_name": "JenaKultur – Eigenbetrieb der Stadt Jena",
           "address": "Knebelstraße 10\n07743 Jena"},
    "ZVS": {"document_name": "Stadt Jena – Zentrale Vergabestelle",
            "address": "Am Anger 15\n07743 Jena"},
}

DEMO_USERS = [
    ("vergabe", "Vera Vergabe", Role.PROCUREMENT_OFFICER, "ZVS"),
    ("kij.vergabe", "Karl Immobilien", Role.PROCUREMENT_OFFICER, "KIJ"),
    ("jk.vergabe", "Jana Kultur", Role.PROCUREMENT_OFFICER, "JK"),
    ("foerderung", "Fritz Förderung", Role.GRANT_MANAGER, "FDJB"),
    ("bmi.foerderung", "Bahar Integration", Role.GRANT_MANAGER, "BMI"),
    ("jk.foerderung", "Jonas Kulturförderung", Role.GRANT_MANAGER, "JK"),
    ("pruefung", "Paula Prüfung", Role.AUDITOR, "RPA"),
    ("admin", "Adam Admin", Role.ADMIN, None),
]


def init_database() -> clauses.SyncReport:
    """Create or upgrade the schema, then publish the clause texts."""
    upgrade()
    return clauses.sync()


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    unit: str | None


def load_demo_data() -> list[DemoLogin]:
    """Units and one user per role; re-running gives the demo users fresh passwords."""
    units = {code: ensure_unit(code, name, kind, **DEMO_LETTERHEADS.get(code, {}))
             for code, name, kind in DEMO_UNITS}
    db.session.commit()
    logins = []
    for username, name, role, unit_code in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        user = users.find_user(username)
        if user is None:
            users.create_user(username, password, role, display_name=name,
                              org_unit=units.get(unit_code) if unit_code else None)
        else:
            users.set_password(user, password)
        logins.append(DemoLogin(username, password, role, unit_code))
    return logins
