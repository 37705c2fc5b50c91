"""Compliance checks (Überprüfungen) and what follows from them.

The schedule lives here, not in the scheduler: ONE row per agreement, trigger and occasion
(the unique key makes every sweep idempotent — a second insert of the same check is a
no-op). Findings, hearings and measures hang off a check; a complaint only carries the
anti-discrimination office's case reference, never complainant data (GDPR Art. 9).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clause_tracker.agreements.models import Agreement
from clause_tracker.auth.models import User
from clause_tracker.extensions import Model

# Why a check exists.
INTERVAL = "interval"
RENEWAL = "renewal"
DECLARATION_EXPIRY = "declaration_expiry"
CLAUSE_CHANGE = "clause_change"
SUBCONTRACTOR = "subcontractor"
FUNDING_PERIOD = "funding_period"
SAMPLE = "sample"
COMPLAINT = "complaint"
TRIGGERS = (INTERVAL, RENEWAL, DECLARATION_EXPIRY, CLAUSE_CHANGE, SUBCONTRACTOR,
            FUNDING_PERIOD, SAMPLE, COMPLAINT)

# Where a check stands. The sweep moves scheduled → due → overdue (and sends the reminder
# of each step exactly once); the compliance state reads the dates, not these marks, so it
# is right even on a day the sweep has not run. Carried out, a check without findings is
# done; one with findings goes on: the counterparty is heard, then the breach is decided —
# none (done) or confirmed (its measures follow; the state reads them).
SCHEDULED, DUE, OVERDUE, DONE = "scheduled", "due", "overdue", "done"
FINDINGS_RECORDED, HEARD, BREACH = "findings", "heard", "breach"
STAGES = (SCHEDULED, DUE, OVERDUE, FINDINGS_RECORDED, HEARD, BREACH, DONE)
OPEN_STAGES = (SCHEDULED, DUE, OVERDUE)  # not yet carried out: these can be overdue
FOLLOW_UP_STAGES = (FINDINGS_RECORDED, HEARD)  # carried out, waiting on a hearing or decision

COMPLIANT, FINDINGS = "compliant", "findings"
OUTCOMES = (COMPLIANT, FINDINGS)
NO_BREACH, BREACH_CONFIRMED = "no_breach", "breach_confirmed"
DECISIONS = (NO_BREACH, BREACH_CONFIRMED)

MEASURE_KINDS = ("action_plan", "penalty", "termination", "revocation", "exclusion",
                 "self_cleaning")
PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"
# How an action plan ended: done by its deadline, done late, or not done.
ON_TIME, LATE, NOT_DONE = "on_time", "late", "not_done"
COMPLETIONS = (ON_TIME, LATE, NOT_DONE)
# Measures that still bind the counterparty (a confirmed breach with an open measure).
OPEN_MEASURE_STATES = (PROPOSED, APPROVED)


class ComplianceCheck(Model):
    __tablename__ = "compliance_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    agreement: Mapped[Agreement] = relationship(lazy="joined")
    trigger: Mapped[str] = mapped_column(String(30))
    # What the trigger was about: the due date of an interval check, the term end before a
    # renewal, the declaration that expired … Makes the row unique per occasion.
    occasion: Mapped[str] = mapped_column(String(80))
    due_on: Mapped[date]
    deadline: Mapped[date]  # overdue after this day
    stage: Mapped[str] = mapped_column(String(20), default=SCHEDULED)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    sweep_id: Mapped[int | None] = mapped_column(ForeignKey("compliance_sweeps.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    completed_on: Mapped[date | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    escalated_at: Mapped[datetime | None]
    # After the hearing: was the clause breached? (DECISIONS)
    decision: Mapped[str | None] = mapped_column(String(20))
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    created_at: Mapped[datetime]
    version_id: Mapped[int] = mapped_column(default=1)

    findings: Mapped[list[Finding]] = relationship(back_populates="check",
                                                   order_by="Finding.id")
    hearings: Mapped[list[Hearing]] = relationship(back_populates="check",
                                                   order_by="Hearing.held_on")
    measures: Mapped[list[Measure]] = relationship(back_populates="check",
                                                   order_by="Measure.id")

    __table_args__ = (
        UniqueConstraint("agreement_id", "trigger", "occasion",
                         name="uq_compliance_checks_occasion"),
        # No (agreement_id, stage) index: the unique index above leads with agreement_id
        # and serves every query by agreement (migration 0005).
        Index("ix_compliance_checks_stage_due", "stage", "due_on"),
    )
    __mapper_args__ = {"version_id_col": version_id}

class Sweep(Model):
    """One run of the sweep: when, the seed of its random sample, what it did."""

    __tablename__ = "compliance_sweeps"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_on: Mapped[date]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    host: Mapped[str] = mapped_column(String(120), default="")
    counts: Mapped[str] = mapped_column(Text, default="{}")  # JSON: step → rows


class SampleDraw(Model):
    """The random sample of one month: its seed is drawn once and kept, so the selection
    can be reproduced (and a sweep re-run after a crash picks the same agreements)."""

    __tablename__ = "compliance_sample_draws"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    seed: Mapped[int]
    share: Mapped[Decimal] = mapped_column(Numeric(6, 5))
    sweep_id: Mapped[int | None] = mapped_column(ForeignKey("compliance_sweeps.id"))
    drawn_at: Mapped[datetime]


class Finding(Model):
    __tablename__ = "compliance_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("compliance_checks.id"), index=True)
    check: Mapped[ComplianceCheck] = relationship(back_populates="findings")
    description: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Hearing(Model):
    """Anhörung: the counterparty is heard before any measure."""

    __tablename__ = "compliance_hearings"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("compliance_checks.id"), index=True)
    check: Mapped[ComplianceCheck] = relationship(back_populates="hearings")
    held_on: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    statement: Mapped[str | None] = mapped_column(Text)  # the counterparty's own statement
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Measure(Model):
    """A consequence, proposed by one person and approved by another (four eyes)."""

    __tablename__ = "compliance_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("compliance_checks.id"), index=True)
    check: Mapped[ComplianceCheck] = relationship(back_populates="measures")
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date | None]  # action plan
    breaches: Mapped[int | None]  # penalty: number of breaches
    penalty_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    penalty_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    exclusion_until: Mapped[date | None]
    state: Mapped[str] = mapped_column(String(20), default=PROPOSED)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    proposed_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    # An action plan's completion record (COMPLETIONS), and when its overdue was escalated.
    completion: Mapped[str | None] = mapped_column(String(20))
    completed_on: Mapped[date | None]
    completion_note: Mapped[str | None] = mapped_column(Text)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    escalated_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class Complaint(Model):
    """A complaint received by the anti-discrimination office, known here ONLY by its case
    reference: no complainant, no description (they may reveal ethnic origin)."""

    __tablename__ = "compliance_complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    case_reference: Mapped[str] = mapped_column(String(60))
    received_on: Mapped[date]
    check_id: Mapped[int | None] = mapped_column(ForeignKey("compliance_checks.id"))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("agreement_id", "case_reference",
                                       name="uq_compliance_complaints_case"),)


class RetentionPurge(Model):
    """An agreement whose personal data was erased after its retention period; the
    agreement row itself stays for the aggregate figures."""

    __tablename__ = "retention_purges"

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    purged_at: Mapped[datetime]
    purged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
