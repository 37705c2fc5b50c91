"""Benchmark: the OCDS export of N contracts, and the import of the eForms SDK's award notices.

    python bench/bench_interop.py [--contracts 20000] [--url postgresql+psycopg://…]
        [--examples ../shared/interop/eforms-sdk-examples]
    (without a URL: a SQLite file; the scratch database is dropped afterwards)

In the same run:
  baseline   the same contracts read bare (one SELECT of their columns with unit and
             counterparty) and written as JSON: what any export costs at least;
  release    ocds.release_package() of all contracts and its JSON (every contract with the
             clause attached, every tenth with a signed copy filed), and its ratio to the
             baseline;
  eforms     every contract award notice of the examples imported (parsed, checked, saved,
             audited), notices per second.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch_database import scratch  # bench/ is on sys.path when run as a script
from sqlalchemy import select, update

from clause_tracker import create_app
from clause_tracker.agreements.importing import import_file
from clause_tracker.agreements.models import Agreement
from clause_tracker.auth.services import create_user
from clause_tracker.bootstrap import init_database, load_demo_data
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.interop import buyers, ocds
from clause_tracker.interop.eforms import import_notice, read_notice
from clause_tracker.orgunits.models import OrgUnit

HEADER = "Vergabenummer;Gegenstand;Art;Verfahren;Auftragswert;Zuschlag;Beginn;Ende;" \
         "Auftragnehmer\n"


def _contracts(count: int) -> bytes:
    return (HEADER + "".join(
        f"B-{n:06d};Leistung Nr. {n};Dienstleistung;Offenes Verfahren;{n % 900 + 1}.000,50;"
        f"05.03.2026;01.04.2026;31.12.2027;Firma {n % 2000} GmbH\n"
        for n in range(count))).encode()


def _baseline() -> int:
    rows = db.session.execute(
        select(Agreement.id, Agreement.reference, Agreement.subject, Agreement.value,
               Agreement.start_date, Agreement.end_date, Agreement.decided_on,
               OrgUnit.name, Counterparty.name)
        .join(OrgUnit, OrgUnit.id == Agreement.org_unit_id)
        .join(Counterparty, Counterparty.id == Agreement.counterparty_id, isouter=True)
        .where(Agreement.kind == "contract")).all()
    return len(json.dumps([[str(v) for v in row] for row in rows]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=20_000)
    parser.add_argument("--url", default=os.environ.get("CLAUSE_TRACKER_BENCH_DATABASE_URL"))
    here = Path(__file__).resolve().parents[1]  # the checkout; shared/ lies beside it
    found = [p / "shared" / "interop" / "eforms-sdk-examples" for p in here.parents[:2]]
    parser.add_argument("--examples", type=Path,
                        default=next((p for p in found if p.is_dir()), found[0]))
    args = parser.parse_args()
    url, drop = scratch(args.url)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "WTF_CSRF_ENABLED": False})
        with app.app_context():
            init_database()
            load_demo_data()
            unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "ZVS"))
            user = create_user("bench-officer", "bench password 123", "procurement_officer",
                               org_unit=unit)
            unit_id = unit.id
            import_file("contract", _contracts(args.contracts), "bench.csv", unit=unit)
            version = db.session.scalars(select(ClauseVersion)).first()
            db.session.execute(update(Agreement).values(clause_version_id=version.id))
            now = datetime.now(UTC).replace(tzinfo=None)
            ids = db.session.scalars(select(Agreement.id).order_by(Agreement.id)).all()
            db.session.add_all(DocumentRecord(
                action="verify", filename=f"signed-{i}.pdf", status="verbatim",
                input_sha256=hashlib.sha256(str(i).encode()).hexdigest(), agreement_id=i,
                org_unit_id=unit_id, created_by_id=user.id, created_at=now,
                app_version="bench", details_json="{}") for i in ids[::10])
            db.session.commit()
            db.session.expunge_all()

            start = time.perf_counter()
            size = _baseline()
            base = time.perf_counter() - start
            db.session.expunge_all()
            start = time.perf_counter()
            package = ocds.release_package(None, published=datetime.now(UTC), uri="bench")
            text = json.dumps(package, ensure_ascii=False)
            export = time.perf_counter() - start
            print(f"contracts: {len(package['releases'])}")
            print(f"baseline (bare SELECT + JSON): {base:.2f} s ({size / 1e6:.1f} MB)")
            print(f"OCDS release package + JSON:   {export:.2f} s ({len(text) / 1e6:.1f} MB), "
                  f"{len(package['releases']) / export:,.0f} contracts/s, "
                  f"{export / base:.1f}× the baseline")

            notices = [p for p in sorted(args.examples.glob("*.xml"))
                       if p.name.startswith(("can", "veat"))]
            for path in notices:
                for contract in read_notice(path.read_bytes()).contracts:
                    for buyer in contract.buyers:
                        if buyers.unit_of(buyer.company_id, buyer.name) is None:
                            buyers.add_buyer(buyer.company_id, buyer.name if not
                                             buyer.company_id else "", unit_id)
            start = time.perf_counter()
            created = sum(len(import_notice(p.read_bytes(), p.name).report.created)
                          for p in notices)
            took = time.perf_counter() - start
            print(f"eForms: {len(notices)} notices, {created} contracts in {took:.2f} s "
                  f"({len(notices) / took:.1f} notices/s)")
    finally:
        drop()


if __name__ == "__main__":
    main()
