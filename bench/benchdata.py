"""A realistic synthetic registry for benchmarks (`generate`, used by bench_overview.py), or
on its own: `python bench/benchdata.py --url DATABASE_URL [--contracts N] …` fills the
database at that URL (migrated first) and keeps it.

Ten years of awards across the demo units, counterparties, declarations in every state,
self-commitments, checks with outcomes, measures, complaints, and about a million audit
events. Rows go in with multi-row INSERTs in batches (executemany), never one ORM object at a
time. The audit events EXTEND the existing hash chain (each with its predecessor's hash), so
`clause-tracker audit verify` still passes afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import func, insert, select, text

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import GENESIS, event_hash
from clause_tracker.auth.models import User
from clause_tracker.bootstrap import DEMO_UNITS
from clause_tracker.checks.models import Complaint, ComplianceCheck, Measure
from clause_tracker.clauses.services import current_version, sync
from clause_tracker.clock import utcnow
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.declarations.models import Declaration, SelfCommitment
from clause_tracker.extensions import db
from clause_tracker.orgunits.services import ensure_unit
from clause_tracker.sql import move_sequences_past_rows

BATCH = 5000
DECLARATION_STATES = ["accepted"] * 8 + ["requested", "received", "rejected", "expired",
                                         "not_required", "suspended", "cleared",
                                         "breach_confirmed", "superseded"]
SUBJECTS = ["Reinigung", "Dachsanierung", "Workshops", "IT-Support", "Catering",
            "Schulbuslinie", "Jugendfreizeit", "Festival", "Sprachkurse", "Gutachten"]


def _insert(table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[start:start + BATCH])


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def generate(contracts: int, grants: int, audit_events: int, seed: int) -> Iterator[str]:
    rnd = random.Random(seed)
    started = time.perf_counter()
    sync()
    units = [ensure_unit(code, name, kind).id for code, name, kind in DEMO_UNITS]
    clause = {}
    for kind, variant in (("contract", "procurement"), ("grant", "grant")):
        version = current_version(variant, "de")
        if version is None:
            raise RuntimeError(f"no {variant} clause (de) is valid today")
        clause[kind] = version.id
    user_id = db.session.scalar(select(User.id).limit(1))
    if user_id is None:  # measures need a proposer and approver
        import secrets

        from clause_tracker.auth.services import create_user

        user_id = create_user("bench-data", secrets.token_urlsafe(16), "admin").id
    db.session.commit()
    today = date.today()
    now = utcnow()

    first_party = _next_id(Counterparty)
    parties = [{"id": first_party + n, "name": f"Synthetische Firma {first_party + n} GmbH",
                "legal_form": "GmbH", "address": "Jena", "register_number": "", "vat_id": "",
                "created_at": now, "version_id": 1} for n in range(max(100, contracts // 20))]
    _insert(Counterparty.__table__, parties)

    first = _next_id(Agreement)
    agreements, declarations, commitments = [], [], []
    for n in range(contracts + grants):
        kind = "contract" if n < contracts else "grant"
        decided = today - timedelta(days=rnd.randint(0, 3650))
        status = rnd.choices(["draft", "awarded", "active", "ended", "terminated"],
                             [3, 10, 50, 35, 2])[0]
        if kind == "grant" and status == "terminated":
            status = "revoked"
        exempt = rnd.random() < 0.01
        agreements.append({
            "id": first + n, "kind": kind, "reference": f"BENCH-{kind[0].upper()}-{first + n}",
            "subject": f"{rnd.choice(SUBJECTS)} Los {n % 97}", "status": status,
            "org_unit_id": rnd.choice(units),
            "counterparty_id": rnd.choice(parties)["id"],
            "value": Decimal(rnd.randint(500, 2_000_000)),
            "start_date": decided, "end_date": decided + timedelta(days=rnd.randint(90, 1500)),
            "decided_on": None if status == "draft" else decided,
            "contract_kind": rnd.choice(["supplies", "services", "works"]) if kind == "contract"
            else None,
            "procedure": "open" if kind == "contract" else None,
            "programme": "Fonds Politische Bildung" if kind == "grant" else None,
            "clause_version_id": clause[kind] if rnd.random() < 0.93 else None,
            "clause_method": "contract_document" if kind == "contract" else "grant_notice",
            "exemption_reason": "Notvergabe" if exempt else None,
            "exemption_approved_at": now if exempt else None,
            "created_at": now, "updated_at": now, "version_id": 1,
        })
        if status != "draft" or rnd.random() < 0.5:
            state = rnd.choice(DECLARATION_STATES)
            requested = decided - timedelta(days=rnd.randint(5, 20))
            deadline = requested + timedelta(days=7)
            received = None if state in ("requested", "not_required") else \
                requested + timedelta(days=rnd.randint(1, 12))
            declarations.append({
                "agreement_id": first + n, "party": "main", "party_name": "Synthetisch",
                "state": state, "requested_on": None if state == "not_required" else requested,
                "deadline": deadline, "received_on": received,
                "valid_until": decided + timedelta(days=rnd.randint(300, 1500)),
                "not_required_reason": "below_threshold" if state == "not_required" else None,
                "created_at": now, "updated_at": now, "version_id": 1,
            })
        if kind == "grant" and rnd.random() < 0.3:
            commitments.append({"agreement_id": first + n, "score": rnd.randint(0, 10),
                                "notes": "", "recorded_at": now})
    _insert(Agreement.__table__, agreements)
    _insert(Declaration.__table__, declarations)
    _insert(SelfCommitment.__table__, commitments)
    # The ids above were given explicitly: the sequences must follow, or the next
    # counterparty or agreement recorded in the app collides with them.
    move_sequences_past_rows([Counterparty.__table__, Agreement.__table__])
    db.session.commit()
    yield (f"{contracts} contracts, {grants} grants, {len(parties)} counterparties, "
           f"{len(declarations)} declarations, {len(commitments)} self-commitments "
           f"({time.perf_counter() - started:.0f} s)")

    first_check = _next_id(ComplianceCheck)
    checks, measures, complaints = [], [], []
    active = [a for a in agreements if a["status"] in ("active", "awarded")]
    for n, a in enumerate(rnd.sample(active, min(len(active), len(agreements) // 4))):
        due = today - timedelta(days=rnd.randint(-200, 900))
        done = due < today - timedelta(days=60) or rnd.random() < 0.3
        outcome = rnd.choices(["compliant", "findings"], [9, 1])[0] if done else None
        checks.append({
            "id": first_check + n, "agreement_id": a["id"], "trigger": "interval",
            "occasion": f"bench-{due.isoformat()}", "due_on": due,
            "deadline": due + timedelta(days=30),
            "stage": "done" if done else ("scheduled" if due > today else "due"),
            "outcome": outcome, "completed_on": due + timedelta(days=10) if done else None,
            "created_at": now, "version_id": 1,
        })
        if outcome == "findings" and rnd.random() < 0.5:
            kind = rnd.choice(["action_plan", "penalty", "exclusion", "termination"])
            measures.append({
                "check_id": first_check + n, "kind": kind, "description": "synthetisch",
                "exclusion_until": due + timedelta(days=rnd.randint(100, 1000))
                if kind == "exclusion" else None,
                "state": "approved", "proposed_by_id": user_id, "proposed_at": now,
                "decided_by_id": user_id, "decided_at": now, "version_id": 1,
            })
        if rnd.random() < 0.01:
            complaints.append({"agreement_id": a["id"], "case_reference": f"ADS-{n}",
                               "received_on": due, "recorded_at": now})
    _insert(ComplianceCheck.__table__, checks)
    if user_id is not None:
        _insert(Measure.__table__, measures)
    _insert(Complaint.__table__, complaints)
    move_sequences_past_rows([ComplianceCheck.__table__])
    db.session.commit()
    yield (f"{len(checks)} checks, {len(measures) if user_id else 0} measures "
           f"(none without a user to propose them), {len(complaints)} complaints "
           f"({time.perf_counter() - started:.0f} s)")

    written = _audit(audit_events, agreements, rnd)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    yield f"{written} audit events appended to the chain ({time.perf_counter() - started:.0f} s)"


def _audit(total: int, agreements: list[dict], rnd: random.Random) -> int:
    """Extend the hash chain by about `total` events, in id order, each hashed as
    audit.services.record would hash it."""
    last = db.session.execute(select(AuditEvent.id, AuditEvent.hash)
                              .order_by(AuditEvent.id.desc()).limit(1)).first()
    next_id, prev = (last.id + 1, last.hash) if last else (1, GENESIS)
    moment = datetime.now() - timedelta(days=3650)
    step = timedelta(days=3650) / max(total, 1)
    actions = ["agreement.create", "agreement.update", "agreement.status", "declaration.request",
               "declaration.receive", "declaration.accept", "agreement.clause"]
    rows: list[dict] = []
    for n in range(total):
        a = agreements[n % len(agreements)]
        action = actions[n % len(actions)] if n >= len(agreements) else "agreement.create"
        event = SimpleNamespace(
            id=next_id + n, occurred_at=moment + step * n, actor_id=None,
            actor_name="bench-data", actor_role="system", action=action,
            object_type="Agreement", object_id=str(a["id"]),
            summary=f"{action} {a['reference']}",
            details=json.dumps({"synthetic": True}, sort_keys=True), prev_hash=prev,
            changes_records=True,
        )
        event.hash = event_hash(event)  # type: ignore[arg-type]
        prev = event.hash
        rows.append(vars(event))
        if len(rows) == 20_000:
            db.session.execute(insert(AuditEvent.__table__), rows)
            db.session.commit()
            rows = []
    if rows:
        db.session.execute(insert(AuditEvent.__table__), rows)
    db.session.commit()
    del rnd
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the database to fill")
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=20_000)
    parser.add_argument("--audit-events", type=int, default=1_000_000,
                        help="about this many audit events in total (the chain stays valid)")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    from flask_migrate import upgrade

    from clause_tracker import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url})
    with app.app_context():
        upgrade()
        for line in generate(args.contracts, args.grants, args.audit_events, args.seed):
            print(line)


if __name__ == "__main__":
    main()
