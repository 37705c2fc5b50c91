from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clause_tracker.extensions import Model
from clause_tracker.orgunits.models import OrgUnit


class EformsBuyer(Model):
    """A buyer as eForms notices name it (its registration number, or its name when the
    notices carry none), and the organisational unit its awards belong to. Kept by the
    administrators; every change audited."""

    __tablename__ = "eforms_buyers"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[str] = mapped_column(String(80), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version_id: Mapped[int] = mapped_column(default=1)

    __table_args__ = (UniqueConstraint("company_id", "name"),)
    __mapper_args__ = {"version_id_col": version_id}

    def __str__(self) -> str:
        return self.name or self.company_id
