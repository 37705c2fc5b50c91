"""Server-side sessions: a signed cookie alone no longer signs anyone in.

Signing in stores a random key in the (signed) session cookie and its SHA-256 in
`user_sessions`. Each request's user is loaded together with that row in one query, and only
while the row is not revoked, not idle longer than `SESSION_IDLE_MINUTES` and younger than
`PERMANENT_SESSION_LIFETIME` (absolute, from the sign-in: requests do not extend it). Signing
out revokes the row, so a copied cookie is worthless afterwards.

`last_seen_at` is written at most once per `SESSION_TOUCH_SECONDS` (default a minute), in a
short transaction of its own beside the request's unit of work: a page view is not a change of
any record, is not audited, and must not cost a write each time.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from clause_tracker.auth.models import User, UserSession
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db

SESSION_KEY = "sid"  # the key of the session cookie that holds the session's random key


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def open_session(user: User) -> str:
    """A new session for `user`, in the caller's unit of work; returns the cookie's key."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(id=digest(key), user_id=user.id, created_at=now,
                               last_seen_at=now, revoked_at=None))
    return key


def revoke(key: str | None) -> None:
    """End one session (sign-out), in the caller's unit of work."""
    if key:
        db.session.execute(update(UserSession).where(
            UserSession.id == digest(key), UserSession.revoked_at.is_(None)
        ).values(revoked_at=utcnow()))


def revoke_all(user_id: int) -> int:
    """End every session of a user (deactivation, new password, an administrator's
    request), in the caller's unit of work; returns how many were open."""
    result = db.session.execute(update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    ).values(revoked_at=utcnow()))
    return max(getattr(result, "rowcount", 0) or 0, 0)


def open_sessions(user_id: int) -> int:
    """How many sessions of the user are still current (not revoked, idle or expired)."""
    now = utcnow()
    cfg = current_app.config
    rows = db.session.execute(select(UserSession.created_at, UserSession.last_seen_at).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None))).all()
    lifetime = current_app.permanent_session_lifetime  # a timedelta, also when set in seconds
    return sum(1 for created, seen in rows
               if created > now - lifetime and seen > now - _idle(cfg))


def load(user_id: int, token: str, key: object) -> User | None:
    """The user of a request whose cookie names `user_id:token` and session `key`, if that
    session is current; its last_seen_at is renewed when it is older than the touch
    interval."""
    if not isinstance(key, str) or not key:
        return None
    sid = digest(key)
    row = db.session.execute(
        select(User, UserSession.created_at, UserSession.last_seen_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(User.id == user_id, UserSession.id == sid, UserSession.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    user, created_at, last_seen_at = row
    if not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    cfg = current_app.config
    now = utcnow()
    lifetime = current_app.permanent_session_lifetime  # a timedelta, also when set in seconds
    if created_at <= now - lifetime or last_seen_at <= now - _idle(cfg):
        return None
    if now - last_seen_at >= timedelta(seconds=cfg["SESSION_TOUCH_SECONDS"]):
        _touch(sid, now)
    return user


def _touch(sid: str, now: object) -> None:
    # Its own short transaction on its own connection: the request's unit of work stays
    # untouched (nothing of it is committed or expired here).
    with db.engine.begin() as conn:
        conn.execute(update(UserSession.__table__).where(
            UserSession.__table__.c.id == sid).values(last_seen_at=now))


def _idle(cfg: dict) -> timedelta:
    return timedelta(minutes=cfg["SESSION_IDLE_MINUTES"])
