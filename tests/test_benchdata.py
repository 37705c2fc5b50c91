"""`bench/benchdata.py` (the synthetic registry) leaves a database the app keeps working
on: on PostgreSQL the id sequences follow the rows it inserted with explicit ids, so the
next sweep schedules its checks and a new counterparty is recorded."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import func, select

from clause_tracker.checks import sweep
from clause_tracker.checks.models import ComplianceCheck
from clause_tracker.counterparties import services as counterparties
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.extensions import db
from tests.helpers import REPO


def test_the_app_works_on_after_bench_data(app, published_clauses) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    done = subprocess.run([sys.executable, "bench/benchdata.py", "--url", url, "--contracts",
                           "60", "--grants", "20", "--audit-events", "200"],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    before = db.session.scalar(select(func.max(ComplianceCheck.id))) or 0
    assert before > 0  # the synthetic checks are there
    report = sweep.run()
    assert report.sweep_id is not None
    party = counterparties.create({"name": "Neue Firma GmbH", "legal_form": "GmbH",
                                   "address": "Jena", "register_number": "", "vat_id": ""})
    assert party.id > (db.session.scalar(select(func.count()).select_from(Counterparty)) or 0) - 1
    assert db.session.scalar(select(func.count()).select_from(Counterparty)
                             .where(Counterparty.name == "Neue Firma GmbH")) == 1
