"""The steering group's texts in the ECCAR report: one per reporting period and section,
written in the app, kept in the database with the period they belong to, audited."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from clause_tracker.audit.services import record
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.overview.metrics import Period
from clause_tracker.overview.models import EccarNarrative
from clause_tracker.transaction import transactional

# The report's sections that carry a text, in the report's order.
SECTIONS = ("summary", "commitment_2", "commitment_3", "commitment_5", "commitment_6",
            "commitment_8")
SECTION_LABELS = {
    "summary": _l("Summary"),
    "commitment_2": _l("Commitment 2: assessing racism and discrimination, monitoring"),
    "commitment_3": _l("Commitment 3: support for victims (complaints)"),
    "commitment_5": _l("Commitment 5: the clause in every award of contracts and grants"),
    "commitment_6": _l("Commitment 6: municipal enterprises and continuous monitoring"),
    "commitment_8": _l("Commitment 8: voluntary self-commitment of grantees"),
}
MAX_LENGTH = 10_000


def texts(period: Period) -> dict[str, str]:
    """Section → text of the period (sections without a text are missing)."""
    if period.start is None or period.end is None:
        return {}
    rows = db.session.scalars(select(EccarNarrative).where(
        EccarNarrative.period_start == period.start, EccarNarrative.period_end == period.end))
    return {row.section: row.text for row in rows}


@transactional
def save(period: Period, written: dict[str, str], user: User) -> list[str]:
    """Store the texts of `period` (an empty text removes the section's); returns the
    sections that changed, each change with its audit event."""
    assert period.start is not None and period.end is not None
    rows = {row.section: row for row in db.session.scalars(select(EccarNarrative).where(
        EccarNarrative.period_start == period.start, EccarNarrative.period_end == period.end))}
    changed = []
    for section in SECTIONS:
        if section not in written:
            continue
        text = "\n".join(line.rstrip() for line in written[section].strip().splitlines())
        row = rows.get(section)
        old = row.text if row is not None else ""
        if text == old:
            continue
        if row is None:
            row = EccarNarrative(period_start=period.start, period_end=period.end,
                                 section=section, text=text, updated_at=utcnow(),
                                 updated_by_id=user.id)
            db.session.add(row)
        elif not text:
            db.session.delete(row)
        else:
            row.text, row.updated_at, row.updated_by_id = text, utcnow(), user.id
        db.session.flush()
        changed.append(section)
        record("eccar.narrative", "EccarNarrative", row.id,
               f"ECCAR report {period.start.isoformat()}–{period.end.isoformat()}: text of "
               f"{section} {'removed' if not text else 'saved'}",
               {"period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
                "section": section, "text": text, "previous": old})
    return changed
