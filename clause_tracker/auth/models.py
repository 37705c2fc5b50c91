from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clause_tracker.extensions import Model
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.permissions import Permission, role_has


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    org_unit: Mapped[OrgUnit | None] = relationship(lazy="joined")
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]  # naive UTC
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Changes on password change or deactivation: old session cookies stop working.
    session_token: Mapped[str] = mapped_column(String(64))
    # Set when an administrator resets the password: the user chooses a new one first.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # The TOTP second factor (RFC 6238): the base32 secret, confirmed once a code from it
    # was entered (until then it is only being set up).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None]
    # The time step of the last TOTP code accepted: a code is good once only.
    totp_last_step: Mapped[int | None]
    # A service account: a machine client's identity with a role and a unit, used through
    # API tokens only; its password is random and never shown, so nobody signs in with it.
    service_account: Mapped[bool] = mapped_column(default=False)
    # Accounts of the city's directory (auth/directory_accounts.py): the entry's DN (None: a
    # local account with its own password), when the directory last spoke for it, and
    # whether it was the directory that deactivated it (it reactivates it too).
    directory_dn: Mapped[str | None] = mapped_column(String(500))
    directory_synced_at: Mapped[datetime | None]
    directory_deactivated: Mapped[bool] = mapped_column(default=False)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot sign in
        return self.active

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None and self.totp_confirmed_at is not None

    @property
    def from_directory(self) -> bool:
        return self.directory_dn is not None

    def can(self, permission: Permission | str) -> bool:
        return role_has(self.role, permission)


class UserSession(Model):
    """One sign-in: the session cookie carries a random key whose SHA-256 is the id here.

    Signing out, deactivation, a new password and an administrator's "end all sessions" set
    `revoked_at`; a request whose session is revoked, idle too long or older than the
    absolute lifetime is not signed in. `last_seen_at` is updated at most once a minute."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class RecoveryCode(Model):
    """A one-time code that stands in for a TOTP code (the phone is lost); argon2-hashed."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
