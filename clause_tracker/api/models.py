"""API tokens: the credentials of machine clients (and of people's own scripts).

A token is a random secret shown once when it is made; only its SHA-256 is stored (the
secret has 256 bits of entropy, so a fast hash is as safe here as a password hash would
be, and a lookup by hash costs one index read). A token belongs to one user, whose role
and unit decide what it may do, exactly as in the browser; its scopes can only narrow
that: `read` alone never writes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clause_tracker.auth.models import User
from clause_tracker.extensions import Model

READ = "read"
WRITE = "write"
SCOPES = (READ, WRITE)


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    name: Mapped[str] = mapped_column(String(120))  # what it is for, e.g. "ERP nightly sync"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the secret
    prefix: Mapped[str] = mapped_column(String(16))  # the secret's first characters, shown
    scopes: Mapped[str] = mapped_column(String(40))  # "read" or "read write"
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    expires_at: Mapped[datetime]  # naive UTC
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None]

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def can_write(self) -> bool:
        return WRITE in self.scope_list

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.active
