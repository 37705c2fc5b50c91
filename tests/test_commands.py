"""The command line: init, demo, users."""

from __future__ import annotations

from sqlalchemy import func, select

from clause_tracker.auth.models import User
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit


def test_init_publishes_the_library(runner) -> None:
    out = runner.invoke(args=["init"])
    assert out.exit_code == 0, out.output
    assert db.session.scalar(select(func.count()).select_from(ClauseVersion)) == 8


def test_demo_creates_units_and_one_user_per_role(runner) -> None:
    out = runner.invoke(args=["demo", "--no-records"])
    assert out.exit_code == 0, out.output
    names = set(db.session.scalars(select(OrgUnit.name)))
    assert {"Büro für Migration und Integration", "Fachdienst Jugend und Bildung",
            "Kommunale Immobilien Jena", "JenaKultur"} <= names
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"procurement_officer", "grant_manager", "auditor", "admin"}
    assert "http://127.0.0.1:5000/" in out.output and "kij.vergabe" in out.output
    # Running it again gives new passwords and no duplicates.
    again = runner.invoke(args=["demo", "--no-records"])
    assert again.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 8


def test_demo_logins_work(runner, client, login) -> None:
    out = runner.invoke(args=["demo", "--no-records"]).output
    line = next(line for line in out.splitlines() if line.strip().startswith("pruefung"))
    password = line.split()[1]
    assert login(client, "pruefung", password).status_code == 302


def test_users_create(runner) -> None:
    runner.invoke(args=["demo", "--no-records"])
    out = runner.invoke(args=["users", "create", "neu", "--role", "procurement_officer",
                              "--unit", "KIJ", "--password", "a very long password"])
    assert out.exit_code == 0, out.output
    user = db.session.scalar(select(User).where(User.username == "neu"))
    assert user.org_unit.code == "KIJ"


def test_users_create_explains_errors(runner) -> None:
    out = runner.invoke(args=["users", "create", "x", "--role", "grant_manager",
                              "--password", "a very long password"])
    assert out.exit_code != 0 and "belong to a unit" in out.output
    out = runner.invoke(args=["users", "create", "x", "--role", "auditor", "--unit", "NOPE",
                              "--password", "a very long password"])
    assert out.exit_code != 0 and "NOPE" in out.output
