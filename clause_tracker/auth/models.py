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

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot sign in
        return self.active

    def can(self, permission: Permission | str) -> bool:
        return role_has(self.role, permission)
