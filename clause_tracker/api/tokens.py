"""Making, finding and revoking API tokens; each change audited in its own unit of work.

The secret is `ctk_` and 43 characters of `secrets.token_urlsafe(32)`; it is returned once
by `issue` and never stored: the table keeps its SHA-256 and its first characters (so a
list can tell tokens apart). `authenticate` finds a token by that hash and accepts it only
while it is neither revoked nor expired and its user is active.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from clause_tracker.api.models import READ, SCOPES, WRITE, ApiToken
from clause_tracker.audit.services import record as audit
from clause_tracker.auth.models import User
from clause_tracker.auth.services import create_user
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.permissions import Role
from clause_tracker.transaction import transactional
from clause_tracker.versioning import RefusedChange

SECRET_PREFIX = "ctk_"  # noqa: S105  # the public start of every secret, not a secret
SHOWN_CHARACTERS = 8  # of the secret after its prefix, kept to tell tokens apart
DEFAULT_DAYS = 90


class TokenError(RefusedChange):
    """A token change refused; the message is for the person."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def max_days() -> int:
    return int(current_app.config.get("API_TOKEN_MAX_DAYS", 365))


def _scopes(write: bool) -> str:
    return f"{READ} {WRITE}" if write else READ


@transactional
def issue(owner: User, name: str, write: bool, days: int, by: User) -> tuple[ApiToken, str]:
    """A new token for `owner`, valid `days` days; returns it and its secret (shown once)."""
    name = name.strip()
    if not name:
        raise TokenError(_l("Say what the token is for."))
    if not 1 <= days <= max_days():
        raise TokenError(_l("A token is valid for 1 to %(days)d days.", days=max_days()))
    if not owner.active:
        raise TokenError(_l("The account is inactive."))
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(user_id=owner.id, name=name[:120], token_hash=digest(secret),
                     prefix=secret[:len(SECRET_PREFIX) + SHOWN_CHARACTERS],
                     scopes=_scopes(write), created_at=now, created_by_id=by.id,
                     expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit("api_token.create", "ApiToken", token.id,
          f"API token {token.prefix}… for {owner.username} created ({token.scopes})",
          {"user_id": owner.id, "username": owner.username, "scopes": token.scope_list,
           "expires_at": token.expires_at, "name": token.name})
    return token, secret


@transactional
def revoke(token: ApiToken, by: User) -> ApiToken:
    if token.revoked_at is not None:
        raise TokenError(_l("This token was revoked already."))
    token.revoked_at, token.revoked_by_id = utcnow(), by.id
    audit("api_token.revoke", "ApiToken", token.id,
          f"API token {token.prefix}… of {token.user.username} revoked",
          {"user_id": token.user_id, "name": token.name})
    return token


@transactional
def create_service_account(username: str, display_name: str, role: str,
                           org_unit: OrgUnit | None) -> User:
    """An account for a machine client: a role and a unit like a person's, a random
    password nobody knows (no sign-in), used through its tokens only."""
    if role == Role.ADMIN:
        raise TokenError(_l("A service account cannot be an administrator."))
    user = create_user(username, secrets.token_urlsafe(32), role,
                       display_name=display_name, org_unit=org_unit)
    user.service_account = True
    audit("user.service_account", "User", user.id,
          f"{user.username} is a service account (API tokens only)", {"role": role})
    return user


def service_accounts() -> list[User]:
    return list(db.session.scalars(select(User).where(User.service_account.is_(True))
                                   .order_by(User.username)))


def of_user(user_id: int) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                   .order_by(ApiToken.id.desc())))


def everyone() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def get(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id)


def authenticate(secret: str) -> ApiToken | None:
    """The token of `secret` while it may be used; records its use (at most once a
    minute, in a short transaction of its own: using a token changes no record)."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    now = utcnow()
    if token is None or not token.usable_at(now):
        return None
    touch = timedelta(seconds=current_app.config.get("SESSION_TOUCH_SECONDS", 60))
    if token.last_used_at is None or now - token.last_used_at >= touch:
        _touch(token.id, now)
    return token


def _touch(token_id: int, now: datetime) -> None:
    # Its own connection and transaction, like a session's last_seen_at: the request's unit
    # of work stays untouched.
    with db.engine.begin() as conn:
        conn.execute(update(ApiToken.__table__).where(
            ApiToken.__table__.c.id == token_id).values(last_used_at=now))


__all__ = ["SCOPES", "ApiToken", "TokenError", "authenticate", "issue", "revoke"]
