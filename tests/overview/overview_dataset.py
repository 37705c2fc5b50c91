"""A hand-built registry whose every overview figure is known (see EXPECTED).

Fourteen agreements in three units (ZVS a department; KIJ and JK municipal enterprises), written
straight into the tables, dated relative to today so the compliance state is stable. The
contracts expect their signed copy back (SIGNED_COPY_KINDS): a1, a5 and a12 have theirs
verified, a10's deviates, a11's is overdue. a13 is breached by a check's decision with no
measure yet; a14's exemption was voided when its values changed.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from clause_tracker.agreements.models import MODEL_OF_KIND, Agreement
from clause_tracker.audit.services import record
from clause_tracker.auth.services import create_user
from clause_tracker.bootstrap import DEMO_UNITS
from clause_tracker.checks.models import Complaint, ComplianceCheck, Measure
from clause_tracker.clauses.services import current_version, sync
from clause_tracker.clock import utcnow
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.declarations.models import Declaration, SelfCommitment
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.orgunits.services import ensure_unit

UNITS = {code: (name, kind) for code, name, kind in DEMO_UNITS}

# unit → in scope, covered, value in scope, value covered, pending, not compliant, exempt
EXPECTED_UNITS = {
    "ZVS": (5, 1, Decimal("8000"), Decimal("1000"), 1, 3, 0),
    "KIJ": (3, 2, Decimal("12100"), Decimal("11200"), 0, 1, 1),
    "JK": (4, 1, Decimal("6600"), Decimal("5000"), 0, 3, 0),
}
EXPECTED_TOTAL = (12, 4, Decimal("26700"), Decimal("17200"))
EXPECTED_KINDS = {"contract": (10, 3), "grant": (2, 1)}
EXPECTED_UNIT_TYPES = {"department": (5, 1), "eigenbetrieb": (7, 3)}
EXPECTED_DECLARATIONS = {"requested": 10, "returned": 9, "on_time": 8, "expiring_30": 1,
                         "expiring_60": 2, "expiring_90": 2}
EXPECTED_QUARTERS = {"2024-Q4": (1, 0), "2025-Q1": (2, 1), "2025-Q2": (3, 0),
                     "2025-Q3": (3, 1), "2025-Q4": (3, 2)}
# in scope → clause attached, verified in the signed copy, value attached, value verified
EXPECTED_CLAUSE = {
    "total": (12, 10, 4, Decimal("22500"), Decimal("12500")),
    "contract": (10, 8, 4, Decimal("16800"), Decimal("12500")),
    "grant": (2, 2, 0, Decimal("5700"), Decimal("0")),
    "ZVS": (5, 3, 1, Decimal("3800"), Decimal("1000")),
}
EXPECTED_REASONS = {"a1": "declaration_valid", "a5": "declaration_valid",
                    "a10": "signed_copy_deviates", "a11": "signed_copy_overdue",
                    "a12": "declaration_valid", "a13": "check_breach_confirmed",
                    "a14": "exemption_voided"}
EXPECTED_FOLLOW_UP = {"check_overdue": 1, "check_compliant": 1, "check_findings": 2,
                      "measure_exclusion": 1, "measure_exclusion_in_force": 1,
                      "measure_penalty": 0, "complaint_linked": 1}


def build() -> dict[str, Agreement]:
    """The data set; returns the agreements by their short name a1 … a9."""
    sync()
    clause = current_version("procurement", "de").id
    grant_clause = current_version("grant", "de").id
    today = date.today()
    now = utcnow()
    party = Counterparty(name="Muster Bau GmbH", created_at=now)
    db.session.add(party)
    db.session.flush()
    units = {code: ensure_unit(code, *UNITS[code]).id for code in ("ZVS", "KIJ", "JK")}
    admin = create_user(f"overview-admin-{uuid.uuid4().hex[:6]}", "correct horse battery",
                        "admin")

    def agreement(name, kind, unit, status, value, decided, clause_id=None, **extra):
        row = MODEL_OF_KIND[kind](
            reference=f"{name.upper()}-{uuid.uuid4().hex[:6]}", subject=f"Auftrag {name}",
            status=status, org_unit_id=units[unit], counterparty_id=party.id,
            value=Decimal(value), decided_on=decided, clause_version_id=clause_id,
            created_at=now, updated_at=now, **extra)
        db.session.add(row)
        db.session.flush()
        return row

    def declaration(row, state, requested=True, received=None, deadline=None, valid=None):
        db.session.add(Declaration(
            agreement_id=row.id, party="main", party_name="Muster Bau GmbH", state=state,
            requested_on=today - timedelta(days=30) if requested else None,
            deadline=deadline or today + timedelta(days=5), received_on=received,
            valid_until=valid, created_at=now, updated_at=now))

    on_time = today - timedelta(days=20)
    a = {}
    a["a1"] = agreement("a1", "contract", "ZVS", "active", 1000, date(2025, 2, 10), clause)
    declaration(a["a1"], "accepted", received=on_time, deadline=today - timedelta(days=10),
                valid=today + timedelta(days=200))
    a["a2"] = agreement("a2", "contract", "ZVS", "awarded", 2000, date(2025, 5, 1), clause)
    declaration(a["a2"], "requested")
    a["a3"] = agreement("a3", "contract", "ZVS", "active", 4000, date(2025, 5, 20))
    a["a4"] = agreement("a4", "contract", "ZVS", "draft", 500, None)
    a["a5"] = agreement("a5", "contract", "KIJ", "active", 10000, date(2025, 8, 1), clause)
    declaration(a["a5"], "accepted", received=today - timedelta(days=5),
                deadline=today - timedelta(days=10), valid=today + timedelta(days=45))
    a["a6"] = agreement("a6", "grant", "KIJ", "active", 300, date(2025, 8, 15),
                        exemption_reason="below_de_minimis", exemption_approved_at=now)
    a["a7"] = agreement("a7", "grant", "JK", "ended", 5000, date(2025, 11, 1), grant_clause)
    declaration(a["a7"], "accepted", received=on_time, deadline=today - timedelta(days=10),
                valid=today + timedelta(days=20))
    db.session.add(SelfCommitment(agreement_id=a["a7"].id, score=8, notes="",
                                  recorded_at=now))
    a["a8"] = agreement("a8", "grant", "JK", "active", 700, date(2025, 11, 2), grant_clause)
    declaration(a["a8"], "rejected", received=on_time, deadline=today - timedelta(days=10))
    a["a9"] = agreement("a9", "contract", "KIJ", "active", 900, date(2024, 12, 1), clause)
    declaration(a["a9"], "accepted", received=on_time, deadline=today - timedelta(days=10),
                valid=today + timedelta(days=400))

    def returned(row, status, confirmed=False):
        db.session.add(DocumentRecord(
            action="verify", filename=f"{row.reference}-unterschrieben.pdf",
            input_sha256=uuid.uuid4().hex * 2, status=status, agreement_id=row.id,
            org_unit_id=row.org_unit_id, created_by_id=admin.id, created_at=now,
            app_version="test", details_json="{}", confirmed_at=now if confirmed else None))

    returned(a["a1"], "verbatim")
    returned(a["a5"], "formatting_only")
    signed = {"received": on_time, "deadline": today - timedelta(days=10),
              "valid": today + timedelta(days=300)}
    a["a10"] = agreement("a10", "contract", "ZVS", "active", 800, date(2025, 6, 10), clause)
    declaration(a["a10"], "accepted", **signed)
    returned(a["a10"], "deviation")
    a["a11"] = agreement("a11", "contract", "JK", "active", 600, date(2025, 9, 1), clause,
                         signed_copy_due_on=today - timedelta(days=1))
    declaration(a["a11"], "accepted", **signed)
    a["a12"] = agreement("a12", "contract", "KIJ", "awarded", 1200, date(2025, 10, 1), clause,
                         signed_copy_due_on=today - timedelta(days=3))
    declaration(a["a12"], "accepted", **signed)
    returned(a["a12"], "ocr_match", confirmed=True)

    def check(row, stage, occasion, outcome=None, deadline=None):
        item = ComplianceCheck(
            agreement_id=row.id, trigger="interval", occasion=occasion,
            due_on=today - timedelta(days=60), deadline=deadline or today - timedelta(days=30),
            stage=stage, outcome=outcome, created_at=now,
            completed_on=today - timedelta(days=40) if stage == "done" else None)
        db.session.add(item)
        db.session.flush()
        return item

    findings = check(a["a8"], "done", "2025-01", "findings")
    db.session.add(Measure(check_id=findings.id, kind="exclusion", description="Sperre",
                           exclusion_until=today + timedelta(days=100), state="approved",
                           proposed_by_id=admin.id, proposed_at=now, decided_by_id=admin.id,
                           decided_at=now))
    db.session.add(Complaint(agreement_id=a["a8"].id, case_reference="ADS-2025-17",
                             received_on=today - timedelta(days=70), recorded_at=now))
    check(a["a9"], "done", "2024-12", "compliant")
    a["a13"] = agreement("a13", "contract", "JK", "active", 300, date(2025, 7, 1), clause)
    declaration(a["a13"], "accepted", **signed)
    returned(a["a13"], "verbatim")
    breach = check(a["a13"], "breach", "2025-07", "findings")
    breach.decision, breach.decided_on = "breach_confirmed", today - timedelta(days=35)
    a["a14"] = agreement("a14", "contract", "ZVS", "active", 200, date(2025, 1, 20),
                         exemption_reason="below_de_minimis", exemption_voided_at=now)
    check(a["a9"], "due", "2025-12", deadline=today - timedelta(days=1))
    # As every change does, the data set leaves an audit event (the overview's cache key).
    record("test.dataset", "Dataset", None, "overview data set")
    db.session.commit()
    return a
