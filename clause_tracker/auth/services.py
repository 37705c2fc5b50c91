"""Signing in (with lockout) and managing users; each change writes its audit event.

Sign-ins, sign-outs, failed sign-ins, lockouts and a user's language are recorded with
changes_records=False: they touch only the user's own sign-in fields and preferences, which
no overview figure or compliance state reads, so stored figures stay current.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from clause_tracker.audit.services import Actor, current_actor, record
from clause_tracker.auth import second_factor, sessions
from clause_tracker.auth.models import User
from clause_tracker.auth.passwords import check_password, dummy_check, hash_password
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.permissions import Role
from clause_tracker.transaction import transactional
from clause_tracker.versioning import RefusedChange

MIN_PASSWORD_LENGTH = 12


class UserError(RefusedChange):
    """A user change that cannot be made; the message is shown to the person."""


class WrongPassword(UserError):
    """The current password given to confirm a change is not the account's."""


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    session_key: str | None = None  # the new server-side session's key, for the cookie
    second_factor_user: int | None = None  # password right; the second factor is awaited
    unavailable: bool = False  # the directory could not be asked (directory_accounts)

    @property
    def ok(self) -> bool:
        return self.user is not None


def find_user(username: str) -> User | None:
    return db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower())
    )


def authenticate(username: str, password: str) -> LoginOutcome:
    """Check a sign-in; count failures in the database and lock after too many.

    Every attempt on an account is counted *before* its password is checked, by one atomic
    `UPDATE … SET failed_logins = failed_logins + 1 … RETURNING` that also refuses a locked
    account: however many attempts arrive at once, at most LOGIN_MAX_FAILURES passwords are
    checked before the lock, and a right password after a lock (set by parallel attempts
    meanwhile) does not sign in. A successful sign-in sets the counter back to zero.

    Unknown, inactive and locked accounts get the same outcome as a wrong password (and
    cost an argon2 check alike), so the answer tells nobody which accounts exist.

    With a second factor set up, a right password only yields `second_factor_user`: the
    sign-in is completed by `complete_second_factor`, and the counter stays until then."""
    user = find_user(username)
    # A service account works through API tokens only: it never signs in, even with a
    # password an administrator set on it.
    if user is None or not user.active or user.service_account:
        dummy_check(password)
        _record_failure(user, "auth.login_failed",
                        "Failed sign-in (unknown or inactive account)", anonymous=True)
        return LoginOutcome(None)
    attempt = reserve_attempt(user.id)
    if attempt is None or attempt > current_app.config["LOGIN_MAX_FAILURES"]:
        dummy_check(password)
        _record_failure(user, "auth.login_refused_locked",
                        f"Sign-in refused: {user.username} is locked")
        return LoginOutcome(None)
    if not check_password(user.password_hash, password):
        _count_failure(user, attempt)
        return LoginOutcome(None)
    if user.has_second_factor:
        _record_failure(user, "auth.password_ok",
                        f"Password right, second factor awaited: {user.username}")
        return LoginOutcome(None, second_factor_user=user.id)
    return _signed_in(user)


def reserve_attempt(user_id: int) -> int | None:
    """Count one sign-in attempt on the account before its secret is checked; the number of
    attempts in a row so far, or None while the account is locked.

    Its own short transaction, committed at once so that parallel attempts see it; it is not
    an audited change of its own: the outcome of the same attempt is recorded right after
    (auth.login, auth.login_failed, auth.locked), in the unit of work that sets the counter
    back or locks the account."""
    now = utcnow()
    table = User.__table__
    with db.engine.begin() as conn:
        return conn.execute(
            update(table)
            .where(table.c.id == user_id,
                   or_(table.c.locked_until.is_(None), table.c.locked_until <= now))
            .values(failed_logins=table.c.failed_logins + 1)
            .returning(table.c.failed_logins)
        ).scalar()


@transactional
def _count_failure(user: User, attempt: int, what: str = "Failed sign-in") -> None:
    cfg = current_app.config
    if attempt >= cfg["LOGIN_MAX_FAILURES"]:
        locked_until = utcnow() + timedelta(minutes=cfg["LOGIN_LOCKOUT_MINUTES"])
        db.session.execute(update(User).where(User.id == user.id).values(
            locked_until=locked_until, failed_logins=0))
        record("auth.locked", "User", user.id,
               f"Account locked after repeated failed sign-ins: {user.username}",
               {"locked_until": locked_until}, actor=_as(user), changes_records=False)
    else:
        record("auth.login_failed", "User", user.id, f"{what}: {user.username}",
               actor=_as(user), changes_records=False)


@transactional
def _record_failure(user: User | None, action: str, summary: str,
                    anonymous: bool = False) -> None:
    record(action, "User", user.id if user else None, summary,
           actor=_anonymous() if anonymous or user is None else _as(user),
           changes_records=False)


def complete_second_factor(user_id: int, token: str, code: str) -> LoginOutcome:
    """The second step of a sign-in whose password was right: a TOTP or recovery code.
    Counted against the lockout like a password (a code can be guessed as well)."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or not user.has_second_factor \
            or not secrets.compare_digest(user.session_token, token):
        return LoginOutcome(None)
    attempt = reserve_attempt(user.id)
    if attempt is None or attempt > current_app.config["LOGIN_MAX_FAILURES"]:
        _record_failure(user, "auth.login_refused_locked",
                        f"Sign-in refused: {user.username} is locked")
        return LoginOutcome(None)
    return _second_factor_checked(user, code, attempt)


@transactional
def _second_factor_checked(user: User, code: str, attempt: int) -> LoginOutcome:
    kind = second_factor.check(user, code)
    if kind is None:
        _count_failure(user, attempt, "Wrong second-factor code")
        return LoginOutcome(None)
    return _signed_in(user, kind)


@transactional
def _signed_in(user: User, second: str | None = None) -> LoginOutcome:
    """The counter back to zero, unless the account was locked meanwhile; a new session."""
    now = utcnow()
    table = User.__table__
    done = db.session.execute(
        update(table)
        .where(table.c.id == user.id,
               or_(table.c.locked_until.is_(None), table.c.locked_until <= now))
        .values(failed_logins=0, locked_until=None, last_login_at=now)
        .returning(table.c.id)
    ).scalar()
    if done is None:
        record("auth.login_refused_locked", "User", user.id,
               f"Sign-in refused: {user.username} is locked", actor=_as(user),
               changes_records=False)
        return LoginOutcome(None)
    key = sessions.open_session(user)
    record("auth.login", "User", user.id, f"Signed in: {user.username}",
           {"second_factor": second} if second else None, actor=_as(user),
           changes_records=False)
    return LoginOutcome(user, session_key=key)


@transactional
def sign_out(user: User, session_key: str | None) -> None:
    """End this session server-side: its cookie is worthless from now on, copies included."""
    sessions.revoke(session_key)
    record("auth.logout", "User", user.id, f"Signed out: {user.username}", actor=_as(user),
           changes_records=False)


@transactional
def create_user(
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    org_unit: OrgUnit | None = None,
    email: str | None = None,
) -> User:
    username = username.strip()
    if not username:
        raise UserError(_l("A username is required."))
    if find_user(username):
        raise UserError(_l("The username %(name)s is taken.", name=username))
    if role not in set(Role):
        raise UserError(
            _l("Unknown role %(role)s; roles: %(roles)s.", role=role, roles=", ".join(Role))
        )
    if role in (Role.PROCUREMENT_OFFICER, Role.GRANT_MANAGER) and org_unit is None:
        raise UserError(_l("Procurement officers and grant managers belong to a unit."))
    _check_password_strength(password)
    user = User(
        username=username,
        display_name=display_name or username,
        email=email or None,
        password_hash=hash_password(password),
        role=role,
        org_unit=org_unit,
        created_at=utcnow(),
        session_token=secrets.token_hex(16),
        failed_logins=0,
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    record("user.create", "User", user.id, f"User {username} created with role {role}",
           {"username": username, "role": role, "unit": org_unit.code if org_unit else None})
    return user


@transactional
def set_password(user: User, password: str) -> None:
    _local_password(user)
    _check_password_strength(password)
    user.password_hash = hash_password(password)
    user.session_token = secrets.token_hex(16)
    sessions.revoke_all(user.id)
    user.failed_logins = 0
    user.locked_until = None
    record("user.password_set", "User", user.id, f"Password set for {user.username}")


@transactional
def change_own_password(user: User, current: str, new: str) -> str:
    """The user's own new password (also the one an administrator's reset asks for): every
    session of the user ends; returns the key of a fresh one for this browser."""
    _local_password(user)
    if not check_password(user.password_hash, current):
        raise WrongPassword(_l("The current password is wrong."))
    if current == new:
        raise UserError(_l("Choose a password other than the current one."))
    _check_password_strength(new)
    user.password_hash = hash_password(new)
    user.session_token = secrets.token_hex(16)
    user.must_change_password = False
    sessions.revoke_all(user.id)
    record("user.password_changed", "User", user.id,
           f"{user.username} chose a new password", actor=_as(user), changes_records=False)
    return sessions.open_session(user)


@transactional
def reset_password(user: User, temporary: str) -> None:
    """An administrator's reset: a temporary password, replaced by the user at the next
    sign-in; the account's sessions end at once."""
    _not_yourself(user, _l("Change your own password on your account page."))
    _local_password(user)
    _check_password_strength(temporary)
    user.password_hash = hash_password(temporary)
    user.session_token = secrets.token_hex(16)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    ended = sessions.revoke_all(user.id)
    record("user.password_reset", "User", user.id,
           f"Password of {user.username} reset; a new one is due at the next sign-in",
           {"sessions_ended": ended})


@transactional
def set_active(user: User, active: bool) -> None:
    """Deactivate (access ends at once, sessions included) or reactivate an account."""
    _not_yourself(user, _l("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    user.directory_deactivated = False  # an administrator's decision: the directory keeps it
    ended = 0
    if not active:
        user.session_token = secrets.token_hex(16)
        ended = sessions.revoke_all(user.id)
    record("user.activate" if active else "user.deactivate", "User", user.id,
           f"Account {user.username} {'reactivated' if active else 'deactivated'}",
           {"sessions_ended": ended} if not active else None)


@transactional
def change_role(user: User, role: str, org_unit: OrgUnit | None) -> None:
    """A new role and unit for an account (never one's own role)."""
    if role not in set(Role):
        raise UserError(
            _l("Unknown role %(role)s; roles: %(roles)s.", role=role, roles=", ".join(Role))
        )
    if role != user.role:
        _not_yourself(user, _l("You cannot change your own role."))
    if role in (Role.PROCUREMENT_OFFICER, Role.GRANT_MANAGER) and org_unit is None:
        raise UserError(_l("Procurement officers and grant managers belong to a unit."))
    before = {"role": user.role, "unit": user.org_unit.code if user.org_unit else None}
    after = {"role": role, "unit": org_unit.code if org_unit else None}
    if before == after:
        return
    user.role = role
    user.org_unit = org_unit
    record("user.role", "User", user.id,
           f"{user.username}: role {before['role']} → {role}, "
           f"unit {before['unit'] or '—'} → {after['unit'] or '—'}",
           {"before": before, "after": after})


@transactional
def end_sessions(user: User) -> int:
    """An administrator signs the user out everywhere."""
    user.session_token = secrets.token_hex(16)
    ended = sessions.revoke_all(user.id)
    record("user.sessions_ended", "User", user.id,
           f"All sessions of {user.username} ended", {"sessions_ended": ended},
           changes_records=False)
    return ended


@transactional
def unlock(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
    record("user.unlock", "User", user.id, f"Account {user.username} unlocked")


@transactional
def set_locale(user: User, locale: str) -> None:
    if user.locale != locale:
        user.locale = locale
        record("user.locale", "User", user.id, f"Language set to {locale}", actor=_as(user),
               params={"language": locale},
               changes_records=False)


def all_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            _l("Passwords have at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
        )


def _local_password(user: User) -> None:
    """Accounts of the city's directory have no password here to set or change."""
    if user.from_directory:
        raise UserError(_l("The password of %(name)s is kept in the city's directory: it is "
                           "changed there.", name=user.username))


def _not_yourself(user: User, message: object) -> None:
    actor = current_actor()
    if actor.id is not None and actor.id == user.id:
        raise UserError(message)


def _as(user: User) -> Actor:
    return Actor(user.id, user.username, user.role)


def _anonymous() -> Actor:
    return Actor(None, "anonymous", "anonymous")
