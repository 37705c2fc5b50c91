from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clause_tracker.auth.models import User
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.extensions import Model
from clause_tracker.orgunits.models import OrgUnit


class DocumentRecord(Model):
    """A document the city issued with the clause, or a returned one that was checked.

    Keeps the provenance written into the file (clause id, version, language, text
    fingerprint, app version, time) and the files' SHA-256, so an issued document can
    be matched to what comes back.
    """

    __tablename__ = "document_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(20), index=True)  # insert | generate | verify
    filename: Mapped[str] = mapped_column(String(255))
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    output_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    clause_version_id: Mapped[int | None] = mapped_column(ForeignKey("clause_versions.id"))
    clause_version: Mapped[ClauseVersion | None] = relationship()
    clause_id: Mapped[str | None] = mapped_column(String(80))
    variant: Mapped[str | None] = mapped_column(String(30))
    version: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(5))
    clause_sha256: Mapped[str | None] = mapped_column(String(64))
    location_mode: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str | None] = mapped_column(String(30), index=True)  # verification result
    details_json: Mapped[str] = mapped_column(Text, default="{}")
    app_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[User] = relationship()
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    org_unit: Mapped[OrgUnit | None] = relationship()
    # The contract or grant the document belongs to, when made or checked from its page.
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), index=True)

    @property
    def details(self) -> dict:
        return json.loads(self.details_json or "{}")

    @property
    def passes(self) -> bool:
        return self.status in ("verbatim", "formatting_only")
