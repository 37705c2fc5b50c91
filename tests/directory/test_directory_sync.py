"""`clause-tracker users sync-directory` against the real slapd: gone, disabled and ungrouped
people are deactivated, changed ones updated, the directory's deactivations undone when it says
so — and nothing at all changes when the directory cannot be read."""

from __future__ import annotations

import json

from sqlalchemy import select

from clause_tracker.audit.models import AuditEvent
from clause_tracker.auth import directory as ldap_directory
from clause_tracker.auth import services
from clause_tracker.auth.models import User
from clause_tracker.extensions import db
from clause_tracker.jobs.scheduler import SchedulerProcess
from tests.directory.slapd import PEOPLE, SERVICE_DN, SERVICE_PASSWORD
from tests.factories import unit

SECRET = "Directory-Password-1"


def sign_in(app, login, username: str) -> None:
    db.session.commit()
    assert login(app.test_client(), username, SECRET).status_code == 302, username


def state(username: str) -> tuple[bool, str, str | None]:
    db.session.expire_all()
    user = services.find_user(username)
    assert user is not None, username
    found = (user.active, user.role, user.org_unit.code if user.org_unit else None)
    db.session.commit()
    return found


def actions() -> list[tuple[str, str | None, dict]]:
    db.session.expire_all()
    found = [(e.action, e.object_id, json.loads(e.details)) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("user.directory%"))
        .order_by(AuditEvent.id))]
    db.session.commit()
    return found


def with_service_account(app) -> None:
    app.config.update(LDAP_BIND_DN=SERVICE_DN, LDAP_BIND_PASSWORD=SERVICE_PASSWORD)


def test_sync_deactivates_updates_and_reactivates(app, runner, login, directory):
    unit("KIJ")
    unit("ZVS")
    with_service_account(app)
    people = {"gone": ("ct-auditors",), "off": ("ct-auditors",), "moved": ("ct-admins",),
              "same": ("ct-procurement", "ct-unit-kij"), "left": ("ct-auditors",),
              "back": ("ct-auditors",), "held": ("ct-auditors",)}
    for uid, groups in people.items():
        directory.add_person(uid, SECRET, groups)
        sign_in(app, login, uid)
    # "back" was taken out of its groups and deactivated at a sign-in; it is back in now.
    directory.set_groups("back", ())
    assert login(app.test_client(), "back", SECRET).status_code == 200
    directory.set_groups("back", ("ct-auditors",))
    # "held" was deactivated by an administrator: the directory does not undo that.
    held = services.find_user("held")
    assert held is not None
    services.set_active(held, False)

    directory.delete("gone")
    directory.disable("off")
    directory.set_groups("moved", ("ct-auditors", "ct-unit-zvs"))
    directory.set_groups("left", ("ct-unused",))
    result = runner.invoke(args=["users", "sync-directory"])

    assert result.exit_code == 0, result.output
    assert "deactivated: gone" in result.output and "deactivated: off" in result.output
    assert "deactivated: left" in result.output and "updated: moved" in result.output
    assert "reactivated: back" in result.output
    assert "checked 6, updated 1, deactivated 3, reactivated 1, unchanged 1" in result.output
    assert state("gone")[0] is False and state("off")[0] is False and state("left")[0] is False
    assert state("moved") == (True, "auditor", "ZVS")
    assert state("same") == (True, "procurement_officer", "KIJ")
    assert state("back")[0] is True
    assert state("held")[0] is False
    reasons = {d.get("reason") for action, _, d in actions()
               if action == "user.directory_deactivate"}
    assert {"gone", "disabled", "no_group"} <= reasons
    # The counts, beside the event's message id and parameters (audit.messages).
    assert [{k: v for k, v in d.items() if k not in ("msg", "params")}
            for action, _, d in actions() if action == "user.directory_sync"] == [
        {"checked": 6, "updated": 1, "deactivated": 3, "reactivated": 1, "unchanged": 1}]


def test_sync_changes_nothing_when_the_directory_cannot_be_read(app, runner, login,
                                                                 directory):
    with_service_account(app)
    directory.add_person("mara", SECRET, ("ct-auditors",))
    sign_in(app, login, "mara")
    directory.delete("mara")
    count = len(actions())

    app.config["LDAP_BIND_DN"] = None  # no service account: anonymous would see nothing
    no_account = runner.invoke(args=["users", "sync-directory"])
    app.config.update(LDAP_BIND_DN=SERVICE_DN, LDAP_BIND_PASSWORD="wrong")
    refused = runner.invoke(args=["users", "sync-directory"])
    app.config.update(LDAP_BIND_PASSWORD=SERVICE_PASSWORD,
                      LDAP_USER_BASE_DN=f"ou=elsewhere,{PEOPLE}")
    wrong_base = runner.invoke(args=["users", "sync-directory"])
    app.config.update(LDAP_USER_BASE_DN=PEOPLE, LDAP_URL="ldap://127.0.0.1:9")
    down = runner.invoke(args=["users", "sync-directory"])

    assert no_account.exit_code == 1 and "service account" in no_account.output
    assert refused.exit_code == 1 and "refused the service account" in refused.output
    assert wrong_base.exit_code == 1 and "cannot read" in wrong_base.output
    assert down.exit_code == 1 and "nothing changed" in down.output
    assert state("mara")[0] is True
    assert len(actions()) == count


def test_sync_needs_directory_sign_in_on(app, runner):
    app.config["LDAP_ENABLED"] = False
    result = runner.invoke(args=["users", "sync-directory"])
    assert result.exit_code == 1 and "LDAP_ENABLED" in result.output
    assert db.session.scalar(select(User.id)) is None


def test_an_outage_halfway_keeps_what_was_done_and_says_so(app, runner, login, directory,
                                                          monkeypatch):
    with_service_account(app)
    for uid in ("first", "second"):
        directory.add_person(uid, SECRET, ("ct-auditors",))
        sign_in(app, login, uid)
    directory.set_groups("first", ())
    directory.set_groups("second", ())
    original = ldap_directory.Lookup.entry

    def server_dies_after_the_first(self, dn: str, username: str):
        found = original(self, dn, username)
        directory.stop()  # the real server goes away; the next read meets a closed socket
        return found

    monkeypatch.setattr(ldap_directory.Lookup, "entry", server_dies_after_the_first)
    result = runner.invoke(args=["users", "sync-directory"])

    assert result.exit_code == 1
    assert "failed halfway" in result.output and "stopped after 1 accounts" in result.output
    assert state("first")[0] is False  # done before the outage, and kept
    assert state("second")[0] is True


def test_the_scheduler_job_synchronises(app, login, directory):
    """The leading scheduler's daily job (SCHEDULER_DIRECTORY_SYNC_HOUR) runs the same
    synchronisation, under the real leader lock."""
    with_service_account(app)
    directory.add_person("nora", SECRET, ("ct-auditors",))
    sign_in(app, login, "nora")
    directory.delete("nora")
    process = SchedulerProcess(app)
    assert process.lock.acquire()
    try:
        process.directory_job()
    finally:
        process.lock.release()
    assert state("nora")[0] is False
    assert [d["reason"] for action, _, d in actions()
            if action == "user.directory_deactivate"] == ["gone"]
