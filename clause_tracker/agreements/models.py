"""Contracts and grants in ONE table (single-table inheritance).

Lists, the compliance state and the auditors' overview query both kinds with one
set-based statement; kind-specific columns are simply NULL for the other kind.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ForeignKey, Index, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clause_tracker.auth.models import User
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.extensions import Model
from clause_tracker.orgunits.models import OrgUnit

CONTRACT = "contract"
GRANT = "grant"
KINDS = (CONTRACT, GRANT)

# Lifecycle of an award; `awarded` is the Zuschlag for contracts, the grant notice for grants.
STATUS_TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    CONTRACT: {
        "draft": frozenset({"awarded"}),
        "awarded": frozenset({"active", "terminated"}),
        "active": frozenset({"ended", "terminated"}),
    },
    GRANT: {
        "draft": frozenset({"awarded"}),
        "awarded": frozenset({"active", "revoked"}),
        "active": frozenset({"ended", "revoked"}),
    },
}
STATUSES = ("draft", "awarded", "active", "ended", "terminated", "revoked")
# Ending early: a step with a confirmation, a reason and its date. It ends the monitoring
# (no further routine checks, no signed copy awaited); the history stays.
ENDED_EARLY = frozenset({"terminated", "revoked"})
# Entering these needs the clause (or an approved exemption) and a declaration in hand.
GUARDED_STATUSES = frozenset({"awarded", "active"})
# What an exemption or a "no declaration required" is decided on: changing any of these
# afterwards voids the decision (it was made for other facts).
DECISION_BASIS = ("value", "counterparty_id", "procedure", "contract_kind", "org_unit_id")

CONTRACT_KINDS = ("supplies", "services", "works", "concession")
PROCEDURES = ("open", "restricted", "negotiated", "competitive_dialogue",
              "innovation_partnership", "public_tender", "restricted_tender",
              "negotiated_award", "direct_award")
CLAUSE_METHODS = {CONTRACT: ("contract_document", "special_conditions"),
                  GRANT: ("grant_notice",)}


class Agreement(Model):
    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(Text)  # contract subject / grant purpose
    status: Mapped[str] = mapped_column(String(20), default="draft")
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    counterparty_id: Mapped[int | None] = mapped_column(ForeignKey("counterparties.id"),
                                                        index=True)
    counterparty: Mapped[Counterparty | None] = relationship(lazy="joined")
    # Contracts: the awarded value net of VAT (contractual penalties are computed on it);
    # grants: the amount.
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # ISO 4217 code of value and estimated value when not euros (awards imported from
    # eForms notices in another currency); NULL: euros.
    currency: Mapped[str | None] = mapped_column(String(3))
    start_date: Mapped[date | None]  # term / funding period
    end_date: Mapped[date | None]
    decided_on: Mapped[date | None]  # award date / date of the grant notice

    # contracts only
    contract_kind: Mapped[str | None] = mapped_column(String(20))
    procedure: Mapped[str | None] = mapped_column(String(40))
    estimated_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    vat_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # percent, e.g. 19
    renewal_options: Mapped[str | None] = mapped_column(Text)
    # grants only
    programme: Mapped[str | None] = mapped_column(String(200))
    proof_due_on: Mapped[date | None]
    funding_kind: Mapped[str | None] = mapped_column(String(20))  # FUNDING_KINDS
    funding_method: Mapped[str | None] = mapped_column(String(20))  # FUNDING_METHODS
    # Where an objection to the grant notice is lodged; empty: the unit (its document name
    # and address), which issued the notice (§ 70 VwGO).
    remedy_authority: Mapped[str | None] = mapped_column(String(200))
    remedy_address: Mapped[str | None] = mapped_column(Text)

    # The clause, and how it was attached
    clause_version_id: Mapped[int | None] = mapped_column(ForeignKey("clause_versions.id"))
    clause_version: Mapped[ClauseVersion | None] = relationship()
    clause_method: Mapped[str | None] = mapped_column(String(30))
    clause_attached_at: Mapped[datetime | None]
    # The signed copy is expected back by this day (set on the award; see signed_copy.py).
    signed_copy_due_on: Mapped[date | None]
    # Terminated or revoked: why, and from which day.
    end_reason: Mapped[str | None] = mapped_column(Text)
    ended_on: Mapped[date | None]

    # An exemption: requested by one person, approved by another
    exemption_reason: Mapped[str | None] = mapped_column(String(200))
    exemption_note: Mapped[str | None] = mapped_column(Text)
    exemption_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    exemption_requested_by: Mapped[User | None] = relationship(
        foreign_keys=[exemption_requested_by_id])
    exemption_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    exemption_approved_by: Mapped[User | None] = relationship(
        foreign_keys=[exemption_approved_by_id])
    exemption_approved_at: Mapped[datetime | None]
    # What the exemption was decided on (JSON of DECISION_BASIS); a later change of any of
    # these voids it, and the time it was voided says why the record needs the clause again.
    exemption_basis: Mapped[str | None] = mapped_column(Text)
    exemption_voided_at: Mapped[datetime | None]

    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))  # imported by
    updated_at: Mapped[datetime]
    version_id: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        UniqueConstraint("kind", "reference"),
        Index("ix_agreements_unit_kind_status", "org_unit_id", "kind", "status"),
        # The registry list's default order (newest change first: 25 rows read in index
        # order instead of sorting them all) and the overview's period and quarter filters.
        Index("ix_agreements_updated_at", "updated_at", "id"),
        Index("ix_agreements_decided_on", "decided_on"),
    )
    __mapper_args__ = {"polymorphic_on": kind, "version_id_col": version_id}

    @property
    def vat_amount(self) -> Decimal | None:
        if self.value is None or self.vat_rate is None:
            return None
        return (self.value * self.vat_rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def gross_value(self) -> Decimal | None:
        vat = self.vat_amount
        return None if vat is None or self.value is None else self.value + vat

    @property
    def next_statuses(self) -> list[str]:
        return sorted(STATUS_TRANSITIONS[self.kind].get(self.status, ()))

    def __str__(self) -> str:
        return self.reference


class Contract(Agreement):
    __mapper_args__ = {"polymorphic_identity": CONTRACT}


class Grant(Agreement):
    __mapper_args__ = {"polymorphic_identity": GRANT}


MODEL_OF_KIND: dict[str, type[Agreement]] = {CONTRACT: Contract, GRANT: Grant}


class ValueThreshold(Model):
    """Below this value a unit's awards of a kind need no separate declaration.

    Set by an administrator; without a row every award needs one (the clause goes with
    every award).
    The clause itself is attached regardless.
    """

    __tablename__ = "value_thresholds"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("org_unit_id", "kind"),)


class ImportJob(Model):
    """One import of a CSV or XLSX file: run at once when small, else queued for the
    scheduler process (any node's, claimed here in the database), with its progress.

    The file waits here (not on a node's disk) until its job ends, then only its SHA-256
    stays. The agreements it created point back to it (Agreement.import_id).
    """

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    dry_run: Mapped[bool] = mapped_column(default=False)
    # The importing user's unit; restricted: rows only for that unit (officers)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    restrict_unit: Mapped[bool] = mapped_column(default=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    rows_checked: Mapped[int] = mapped_column(default=0)
    rows: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    report: Mapped[str | None] = mapped_column(Text)  # JSON: errors, created, skipped
    message: Mapped[str | None] = mapped_column(Text)  # why it failed
    queued_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_imports_status", "status", "id"),)
