from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clause_tracker.auth.models import User
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.extensions import Model
from clause_tracker.orgunits.models import OrgUnit

# A returned copy filed on an agreement: a checked file, or a manual check of a paper copy
# nothing could be read from. The latest one filed is the agreement's signed copy.
RETURNED_ACTIONS = ("verify", "manual")
PASSING_STATUSES = ("verbatim", "formatting_only")
# Passes only once a person confirmed it: an OCR reading is never proof of "verbatim", and
# a manual check needs a second person's approval.
CONFIRMABLE_STATUSES = ("ocr_match", "manual")
FAILING_STATUSES = ("deviation", "missing", "tracked_changes")


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
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    org_unit: Mapped[OrgUnit | None] = relationship()
    # The contract or grant the document belongs to, when made or checked from its page.
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), index=True)
    # A second look that makes a returned copy count: the officer who confirmed an OCR
    # match on the page, or the second person who approved a manual check (action "manual",
    # its reason in `note`).
    note: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def details(self) -> dict:
        return json.loads(self.details_json or "{}")

    @property
    def passes(self) -> bool:
        """The clause is in the file as published (an OCR match or a manual check once
        confirmed)."""
        if self.status in CONFIRMABLE_STATUSES:
            return self.confirmed_at is not None
        return self.status in PASSING_STATUSES

    @property
    def awaits_confirmation(self) -> bool:
        return self.status in CONFIRMABLE_STATUSES and self.confirmed_at is None
