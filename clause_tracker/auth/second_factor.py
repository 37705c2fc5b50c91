"""The optional second factor: TOTP (RFC 6238, pyotp) with one-time recovery codes.

A user sets it up on the account page: a new secret is stored unconfirmed, shown as an
otpauth URI, in groups of four and as a QR code; it counts only once a code from it was
entered. Then ten recovery codes are shown once and stored as argon2 hashes, each good for
one sign-in. A TOTP code is accepted once only (the time step is remembered), within one
step of clock drift. Each change is audited; with REQUIRE_2FA_ADMIN administrators cannot
switch it off.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pyotp
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from clause_tracker.audit.services import Actor, record
from clause_tracker.auth import directory
from clause_tracker.auth.models import RecoveryCode, User
from clause_tracker.auth.passwords import check_password, hash_password
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.permissions import Role
from clause_tracker.transaction import transactional
from clause_tracker.versioning import RefusedChange

RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


class SecondFactorError(RefusedChange):
    """A second-factor change that cannot be made; the message says why."""


def required_for(user: User) -> bool:
    return bool(current_app.config.get("REQUIRE_2FA_ADMIN")) and user.role == Role.ADMIN


def provisioning_uri(user: User) -> str:
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).provisioning_uri(
        name=user.username, issuer_name=current_app.config["TOTP_ISSUER"])


def grouped_secret(user: User) -> str:
    secret = user.totp_secret or ""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@transactional
def begin_setup(user: User) -> None:
    """A new, unconfirmed secret (replacing one not yet confirmed)."""
    if user.has_second_factor:
        raise SecondFactorError(_l("The second factor is set up already."))
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = None
    user.totp_last_step = None
    record("user.totp_setup", "User", user.id,
           f"{user.username} began setting up a second factor", actor=_as(user),
           changes_records=False)


@transactional
def confirm_setup(user: User, code: str) -> list[str]:
    """Confirm the new secret with a code from it; returns the recovery codes (shown once)."""
    if not user.totp_secret or user.has_second_factor:
        raise SecondFactorError(_l("Please start the set-up again."))
    step = _matching_step(user, code)
    if step is None:
        raise SecondFactorError(_l("The code is not right. Check the time on your device "
                                   "and enter the code it shows now."))
    user.totp_confirmed_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    record("user.totp_enabled", "User", user.id, f"{user.username} set up a second factor",
           {"recovery_codes": len(codes)}, actor=_as(user), changes_records=False)
    return codes


@transactional
def disable(user: User, password: str) -> None:
    """Switch the second factor off (the password confirms it is the user)."""
    if required_for(user):
        raise SecondFactorError(_l("Administrators must keep a second factor."))
    if not _password_right(user, password):
        raise SecondFactorError(_l("The current password is wrong."))
    _clear(user)
    record("user.totp_disabled", "User", user.id, f"{user.username} removed the second factor",
           actor=_as(user), changes_records=False)


def _password_right(user: User, password: str) -> bool:
    """The local password, or for an account of the city's directory the directory's."""
    if user.directory_dn is None:
        return check_password(user.password_hash, password)
    try:
        return directory.check_password(user.directory_dn, password)
    except directory.DirectoryUnavailable as exc:
        raise SecondFactorError(_l("The city's directory cannot be reached just now, so the "
                                   "password cannot be checked. Please try again later."))\
            from exc


@transactional
def reset_by_admin(user: User) -> None:
    """An administrator removes a user's second factor (device and codes lost); the user sets
    it up again (administrators under REQUIRE_2FA_ADMIN at their next sign-in)."""
    _clear(user)
    record("user.totp_reset", "User", user.id, f"Second factor of {user.username} removed")


def check(user: User, code: str) -> str | None:
    """Inside the caller's unit of work: which kind of code matched ("totp",
    "recovery_code"), using it up, or None."""
    text = "".join(code.split()).lower()
    if not user.has_second_factor or not text or len(text) > 20:
        return None
    if text.isdigit() and len(text) == 6:
        step = _matching_step(user, text)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            return None  # wrong, or a code already used: each is good once
        user.totp_last_step = step
        return "totp"
    for stored in db.session.scalars(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))):
        if check_password(stored.code_hash, text.replace("-", "")):
            stored.used_at = utcnow()
            return "recovery_code"
    return None


def recovery_codes_left(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def _matching_step(user: User, code: str) -> int | None:
    text = "".join(code.split())
    if not (text.isdigit() and len(text) == 6) or not user.totp_secret:
        return None
    totp = pyotp.TOTP(user.totp_secret)
    now = utcnow()
    current = totp.timecode(_aware(now))
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), text):
            return step
    return None


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
             for _ in range(RECOVERY_CODES)]
    now = utcnow()
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(code),
                                    created_at=now, used_at=None))
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _as(user: User) -> Actor:
    return Actor(user.id, user.username, user.role)
