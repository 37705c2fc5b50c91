from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, String, Text, and_, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clause_tracker.agreements.models import Agreement
from clause_tracker.auth.models import User
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.declarations.lifecycle import VALID_STATES
from clause_tracker.extensions import Model

MAIN = "main"  # the contractor or grantee itself
SUBCONTRACTOR = "subcontractor"  # contracts only: the obligation flows down
CHANNELS = ("post", "email", "portal", "in_person")
NOT_REQUIRED_REASONS = ("below_threshold", "exempt")


class Declaration(Model):
    """The counterparty's signed declaration to comply with the clause (Eigenerklärung)."""

    __tablename__ = "declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    agreement: Mapped[Agreement] = relationship(backref="declarations")
    party: Mapped[str] = mapped_column(String(20), default=MAIN)
    party_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    not_required_reason: Mapped[str | None] = mapped_column(String(30))
    # A "not required": the agreement's values it was decided on (JSON of DECISION_BASIS).
    decided_basis: Mapped[str | None] = mapped_column(Text)
    clause_version_id: Mapped[int | None] = mapped_column(ForeignKey("clause_versions.id"))
    clause_version: Mapped[ClauseVersion | None] = relationship()

    requested_on: Mapped[date | None]
    working_days: Mapped[int | None]
    deadline: Mapped[date | None]
    signer_name: Mapped[str | None] = mapped_column(String(120))
    signer_function: Mapped[str | None] = mapped_column(String(120))
    signed_on: Mapped[date | None]
    received_on: Mapped[date | None]
    channel: Mapped[str | None] = mapped_column(String(20))
    valid_until: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)  # why rejected, suspended …

    evidence_key: Mapped[str | None] = mapped_column(String(64))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_mimetype: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None]
    evidence_filename: Mapped[str | None] = mapped_column(String(255))

    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[User | None] = relationship()
    updated_at: Mapped[datetime]
    version_id: Mapped[int] = mapped_column(default=1)

    __table_args__ = (Index("ix_declarations_agreement_state", "agreement_id", "state"),)
    __mapper_args__ = {"version_id_col": version_id}

    def is_valid_on(self, day: date) -> bool:
        """valid_on() for one declaration in hand (the same rule, asked without a query)."""
        return self.state in VALID_STATES and (self.valid_until is None
                                               or self.valid_until >= day)


class SelfCommitment(Model):
    """A grantee's voluntary self-commitment (Commitment 8): a quality criterion with a
    score, never a condition. Nothing in the lifecycle or the compliance state reads it."""

    __tablename__ = "self_commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), unique=True)
    agreement: Mapped[Agreement] = relationship(
        backref="self_commitment_rows")
    score: Mapped[int]  # points awarded as a quality criterion, 0 … MAX_SCORE
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[User | None] = relationship()


MAX_SCORE = 10


def valid_on(day: date | ColumnElement[date]) -> ColumnElement[bool]:
    """THE rule of a valid declaration, in SQL for the state, the lists and the figures: in
    hand (accepted, or cleared after an investigation) and not past `valid_until`.
    Declaration.is_valid_on asks the same of one loaded row."""
    return and_(Declaration.state.in_(VALID_STATES),
                or_(Declaration.valid_until.is_(None), Declaration.valid_until >= day))
