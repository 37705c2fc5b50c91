"""Accounts of the city's directory: signing in through it, and keeping the accounts in step
with it (at each sign-in and by `clause-tracker users sync-directory`).

- A name that is a **local account** (its own password: break-glass administrators, the
  accounts made with `users create`) signs in locally, as if there were no directory; the
  directory is not asked, and a directory entry of the same name can never take the account
  over (that collision is audited and refused).
- Any other name is asked of the directory. The first sign-in creates the account with the
  role and unit the directory's groups map to; later sign-ins update name, e-mail, role and
  unit. No password of a directory account is stored (its hash column holds a marker no
  password matches).
- The directory says the person may not sign in (entry gone, disabled, in no mapped role
  group, or a role that needs a unit without one): the account is deactivated (audited, its
  sessions end), and reactivated when the directory later says otherwise — unless an
  administrator deactivated it, which only an administrator undoes.
- Lockout, throttling and the second factor are those of local sign-in: an attempt on a
  known account is counted before the directory sees the password (services.reserve_attempt),
  and wrong, unknown, locked and refused get the one answer.
- The directory cannot be reached: a clear message of its own (the page can tell; a local
  name never gets there), the attempt is not held against the account, and local accounts
  sign in as always.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from clause_tracker.audit.services import Actor, record
from clause_tracker.auth import directory, services, sessions
from clause_tracker.auth.directory import DirectoryEntry, DirectoryUnavailable
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.transaction import transactional

log = logging.getLogger(__name__)

# Not an argon2 hash: check_password is False for every password (InvalidHashError).
NO_LOCAL_PASSWORD = "!directory"  # noqa: S105
DIRECTORY = Actor(None, "directory", "system")


def sign_in(username: str, password: str) -> services.LoginOutcome:
    """Sign in by name and password: locally, or through the directory (see above)."""
    user = services.find_user(username)
    if not directory.enabled() or (user is not None and not user.from_directory):
        return services.authenticate(username, password)
    return _through_directory(username, password, user)


def _through_directory(username: str, password: str,
                       user: User | None) -> services.LoginOutcome:
    attempt = None
    if user is not None:
        if not user.active and not user.directory_deactivated:
            # An administrator deactivated it: the directory cannot bring it back.
            services._record_failure(user, "auth.login_failed",
                                     "Failed sign-in (unknown or inactive account)",
                                     anonymous=True)
            return services.LoginOutcome(None)
        attempt = services.reserve_attempt(user.id)
        if attempt is None or attempt > current_app.config["LOGIN_MAX_FAILURES"]:
            services._record_failure(user, "auth.login_refused_locked",
                                     f"Sign-in refused: {user.username} is locked")
            return services.LoginOutcome(None)
    try:
        entry = directory.authenticate(username, password)
        if entry is not None:
            try:
                return _signed_in(entry, user)
            except IntegrityError:
                # Two first sign-ins of one person at once: the other one made the account
                # (users.username is unique); this one signs in to it.
                log.info("directory account %s made meanwhile; signing in to it", username)
                return _signed_in(entry, None)
    except DirectoryUnavailable as exc:
        log.error("directory sign-in impossible: %s", exc)
        if user is not None:
            _release_attempt(user.id)
        _record_unavailable(user, str(exc))
        return services.LoginOutcome(None, unavailable=True)
    if user is not None and attempt is not None:
        services._count_failure(user, attempt)
    else:
        services._record_failure(None, "auth.login_failed",
                                 "Failed sign-in (unknown or inactive account)", anonymous=True)
    return services.LoginOutcome(None)


@transactional
def _signed_in(entry: DirectoryEntry, user: User | None) -> services.LoginOutcome:
    """The account brought in step with the entry, then signed in, in one unit of work."""
    account = _apply(entry, user)
    if account is None or not account.active:
        return services.LoginOutcome(None)
    db.session.flush()
    if account.has_second_factor:
        record("auth.password_ok", "User", account.id,
               f"Password right, second factor awaited: {account.username}",
               actor=services._as(account), changes_records=False)
        return services.LoginOutcome(None, second_factor_user=account.id)
    return services._signed_in(account)


def _release_attempt(user_id: int) -> None:
    """The attempt counted before the directory was asked did not check the password: it
    is not held against the account (an outage must not lock everybody out)."""
    table = User.__table__
    with db.engine.begin() as conn:
        conn.execute(update(table)
                     .where(table.c.id == user_id, table.c.failed_logins > 0)
                     .values(failed_logins=table.c.failed_logins - 1))


@transactional
def _record_unavailable(user: User | None, problem: str) -> None:
    record("auth.directory_unavailable", "User", user.id if user else None,
           "Sign-in through the directory impossible: the directory cannot be reached",
           {"problem": problem[:300]}, actor=DIRECTORY, changes_records=False)


# ---------------------------------------------------------------------------------------------
# Bringing an account in step with its entry


def _find_account(entry: DirectoryEntry, user: User | None) -> User | None:
    if user is not None:
        return user
    by_dn = db.session.scalar(select(User).where(User.directory_dn == entry.dn))
    return by_dn or services.find_user(entry.username)


def _unit(code: str | None) -> OrgUnit | None:
    if code is None:
        return None
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        log.error("LDAP_UNIT_GROUPS names the unit %r, which does not exist", code)
    return unit


def _grant(entry: DirectoryEntry) -> tuple[str | None, OrgUnit | None, str]:
    """The role and unit the entry's groups grant, or None and why not."""
    grant = directory.access(entry)
    if grant.role is None:
        return None, None, grant.reason
    unit = _unit(grant.unit_code)
    if grant.role in directory.ROLES_NEEDING_UNIT and unit is None:
        return None, None, "no_unit"
    return grant.role, unit, ""


def _state(account: User) -> dict[str, Any]:
    return {"role": account.role, "unit": account.org_unit.code if account.org_unit else None,
            "active": account.active}


@transactional
def _apply(entry: DirectoryEntry, user: User | None) -> User | None:
    """Create, update, deactivate or reactivate the account as the entry says; the account
    if the entry may sign in (None otherwise). Each change is audited."""
    account = _find_account(entry, user)
    if account is not None and not account.from_directory:
        record("auth.directory_name_taken", "User", account.id,
               f"Directory entry refused: {account.username} is a local account",
               actor=DIRECTORY, changes_records=False, personal={"dn": entry.dn})
        return None
    role, unit, reason = _grant(entry)
    if role is None:
        if account is None:
            record("auth.directory_refused", "User", None,
                   f"Directory sign-in refused: no access ({reason})", {"reason": reason},
                   actor=DIRECTORY, changes_records=False,
                   personal={"username": entry.username, "dn": entry.dn})
            return None
        if account.active:
            deactivate(account, reason)
        else:
            record("auth.directory_refused", "User", account.id,
                   f"Directory sign-in refused: {account.username} has no access ({reason})",
                   {"reason": reason}, actor=DIRECTORY, changes_records=False)
        return None
    if account is None:
        return _create(entry, role, unit)
    _update(account, entry, role, unit)
    return account if account.active else None


def _create(entry: DirectoryEntry, role: str, unit: OrgUnit | None) -> User:
    now = utcnow()
    account = User(
        username=entry.username, display_name=entry.display_name, email=entry.email,
        password_hash=NO_LOCAL_PASSWORD, role=role, org_unit=unit, created_at=now,
        session_token=secrets.token_hex(16), failed_logins=0, active=True,
        directory_dn=entry.dn, directory_synced_at=now, directory_deactivated=False)
    db.session.add(account)
    db.session.flush()
    record("user.directory_create", "User", account.id,
           f"User {account.username} created from the directory with role {role}",
           {"username": account.username, "role": role, "unit": unit.code if unit else None},
           actor=DIRECTORY,
           personal={"display_name": entry.display_name, "email": entry.email, "dn": entry.dn})
    return account


def _update(account: User, entry: DirectoryEntry, role: str, unit: OrgUnit | None) -> bool:
    """Name, e-mail, DN, role and unit as the directory has them; reactivated if the
    directory had deactivated it. Whether anything changed."""
    before = _state(account)
    personal_before = (account.display_name, account.email, account.directory_dn)
    account.display_name = entry.display_name
    account.email = entry.email
    account.directory_dn = entry.dn
    account.role = role
    account.org_unit = unit
    reactivated = not account.active and account.directory_deactivated
    if reactivated:
        account.active = True
        account.directory_deactivated = False
    after = _state(account)
    personal_after = (account.display_name, account.email, account.directory_dn)
    if before == after and personal_before == personal_after:
        return False
    account.directory_synced_at = utcnow()
    changed = sorted(key for key in before if before[key] != after[key])
    if personal_before != personal_after:
        changed.append("name, e-mail or entry")
    record("user.directory_activate" if reactivated else "user.directory_update", "User",
           account.id,
           f"{account.username} {'reactivated' if reactivated else 'updated'} from the "
           f"directory: {', '.join(changed)}",
           {"before": before, "after": after}, actor=DIRECTORY,
           personal={"display_name": entry.display_name, "email": entry.email, "dn": entry.dn})
    return True


@transactional
def deactivate(account: User, reason: str) -> None:
    """The directory says the person may not sign in: access ends at once, sessions too."""
    account.active = False
    account.directory_deactivated = True
    account.directory_synced_at = utcnow()
    account.session_token = secrets.token_hex(16)
    ended = sessions.revoke_all(account.id)
    record("user.directory_deactivate", "User", account.id,
           f"Account {account.username} deactivated: the directory says {reason}",
           {"reason": reason, "sessions_ended": ended}, actor=DIRECTORY)


# ---------------------------------------------------------------------------------------------
# The synchronisation


@dataclass
class SyncReport:
    checked: int = 0
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        return {"checked": self.checked, "updated": len(self.updated),
                "deactivated": len(self.deactivated), "reactivated": len(self.reactivated),
                "unchanged": self.unchanged}


class SyncInterrupted(DirectoryUnavailable):
    """The directory failed halfway: the accounts checked so far keep their changes."""

    def __init__(self, report: SyncReport, cause: Exception) -> None:
        super().__init__(f"stopped after {report.checked} accounts "
                         f"({', '.join(f'{k} {v}' for k, v in report.counts().items())}): {cause}")
        self.report = report


def sync() -> SyncReport:
    """Every directory account checked against its entry with the service account: gone,
    disabled or in no mapped group → deactivated; otherwise updated (and reactivated if the
    directory had deactivated it). New accounts are made at a first sign-in, never here.

    Stops with DirectoryUnavailable before changing anything when the directory cannot be
    read; each account is its own unit of work, so an outage halfway keeps what was done
    (SyncInterrupted says how far it got)."""
    lookup = directory.Lookup()
    report = SyncReport()
    try:
        accounts = list(db.session.scalars(
            select(User).where(User.directory_dn.is_not(None)).order_by(User.id)))
        confirmed: list[int] = []
        for account in accounts:
            if not account.active and not account.directory_deactivated:
                continue  # an administrator's deactivation: not the directory's to undo
            try:
                entry = lookup.entry(str(account.directory_dn), account.username)
            except DirectoryUnavailable as exc:
                raise SyncInterrupted(report, exc) from exc
            report.checked += 1
            outcome = _sync_one(account, entry)
            if outcome == "unchanged":
                confirmed.append(account.id)
                report.unchanged += 1
            else:
                getattr(report, outcome).append(account.username)
        _finish_sync(confirmed, report)
    finally:
        lookup.close()
    return report


@transactional
def _sync_one(account: User, entry: DirectoryEntry | None) -> str:
    if entry is None:
        if account.active:
            deactivate(account, "gone")
            return "deactivated"
        return "unchanged"
    role, unit, reason = _grant(entry)
    if role is None:
        if account.active:
            deactivate(account, reason)
            return "deactivated"
        return "unchanged"
    was_active = account.active
    if not _update(account, entry, role, unit):
        return "unchanged"
    return "updated" if was_active else "reactivated"


@transactional
def _finish_sync(confirmed: list[int], report: SyncReport) -> None:
    if confirmed:
        db.session.execute(update(User).where(User.id.in_(confirmed))
                           .values(directory_synced_at=utcnow()))
    record("user.directory_sync", "User", None,
           "Directory accounts synchronised: " + ", ".join(
               f"{name} {count}" for name, count in report.counts().items()),
           report.counts(), actor=DIRECTORY, changes_records=False)
