from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clause_tracker.extensions import Model


class Counterparty(Model):
    """A contractor or grantee: an organisation, shared by all units (no personal data
    beyond the contact persons' work details)."""

    __tablename__ = "counterparties"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    legal_form: Mapped[str] = mapped_column(String(80), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    register_number: Mapped[str] = mapped_column(String(80), default="")
    vat_id: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime]
    version_id: Mapped[int] = mapped_column(default=1)
    contacts: Mapped[list[ContactPerson]] = relationship(
        back_populates="counterparty", order_by="ContactPerson.id")

    __mapper_args__ = {"version_id_col": version_id}

    def __str__(self) -> str:
        return self.name


class ContactPerson(Model):
    """Only what the task needs (GDPR Art. 5): name, function, work e-mail."""

    __tablename__ = "contact_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    counterparty_id: Mapped[int] = mapped_column(ForeignKey("counterparties.id"), index=True)
    counterparty: Mapped[Counterparty] = relationship(back_populates="contacts")
    name: Mapped[str] = mapped_column(String(120))
    function: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
