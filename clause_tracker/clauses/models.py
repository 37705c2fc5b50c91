from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clause_tracker.clauses.texts import Block, version_key
from clause_tracker.extensions import Model


class ClauseVersion(Model):
    """One published version (Klauselfassung). Loaded from clause_texts/, never edited."""

    __tablename__ = "clause_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[str] = mapped_column(String(80))
    variant: Mapped[str] = mapped_column(String(30))
    version: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(300))
    valid_from: Mapped[date]
    legal_basis: Mapped[str] = mapped_column(Text)
    council_decision: Mapped[str] = mapped_column(Text, default="")
    change_note: Mapped[str] = mapped_column(Text)
    master_version: Mapped[str | None] = mapped_column(String(20))
    blocks_json: Mapped[str] = mapped_column(Text)
    canonical_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source_path: Mapped[str] = mapped_column(String(300))
    published_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("variant", "language", "version"),)

    @property
    def blocks(self) -> list[Block]:
        return [Block(kind, text) for kind, text in json.loads(self.blocks_json)]

    @property
    def version_key(self) -> tuple[int, ...]:
        return version_key(self.version)
