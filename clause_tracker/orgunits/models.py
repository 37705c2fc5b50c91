from __future__ import annotations

import enum

from sqlalchemy import Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clause_tracker.extensions import Model

# The city hall's address: where a unit without its own address receives mail.
CITY_ADDRESS = "Am Anger 15\n07743 Jena"


class UnitKind(enum.StrEnum):
    DEPARTMENT = "department"
    EIGENBETRIEB = "eigenbetrieb"


class OrgUnit(Model):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[UnitKind] = mapped_column(
        Enum(UnitKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    active: Mapped[bool] = mapped_column(default=True)
    # How the unit names itself on the documents it issues, and its postal address (lines
    # separated by line breaks); both empty: "Stadt Jena – <name>" and the city's address.
    document_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)

    @property
    def letterhead_name(self) -> str:
        return self.document_name or f"Stadt Jena – {self.name}"

    @property
    def postal_address(self) -> str:
        return self.address or CITY_ADDRESS

    def __str__(self) -> str:
        return self.name
