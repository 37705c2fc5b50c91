"""Schemathesis against the live OpenAPI document, in process (WSGI): every operation,
property-based from its schemas, with a write token of an officer. No answer may be a 500,
and every answer must match what the document says (status, media type, body, headers).
Bounded in time: a fixed number of examples per operation, derandomized."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clause_tracker.checks.models import ComplianceCheck
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from tests.api.conftest import Bearer
from tests.factories import new_counterparty

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
EXAMPLES = 25
OPERATIONS = 19  # every operation of the document


def _records(officer: Bearer, manager: Bearer) -> None:
    """A few records to find, id 1 of each kind (the grant is id 4): half the generated ids
    are turned into these (below), so reads and writes get past the 404 to the checks."""
    party = new_counterparty(name="Fuzz GmbH")
    for reference in ("S-1", "S-2", "S-3"):
        assert officer.post("/api/v1/contracts", json={
            "reference": reference, "subject": "Fuzz", "contract_kind": "works",
            "procedure": "open", "counterparty_id": party.id}).status_code == 201
    assert manager.post("/api/v1/grants", json={
        "reference": "G-1", "subject": "Fuzz", "programme": "Fonds"}).status_code == 201
    assert officer.post("/api/v1/agreements/1/declarations",
                        json={"requested_on": "2026-01-05"}).status_code == 201
    db.session.add(ComplianceCheck(agreement_id=1, trigger="interval", occasion="fuzz",
                                   due_on=date(2026, 1, 1), deadline=date(2026, 2, 1),
                                   stage="due", created_at=utcnow()))
    db.session.commit()


def _aim(case, grant: bool) -> None:
    """Half the generated ids (the even ones) become a record that exists; half the
    If-Match values become `*` (any version), so updates get through too."""
    for name, value in (case.path_parameters or {}).items():
        if isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = 4 if grant else 1
    if case.headers and len(case.headers.get("If-Match", "x")) % 2 == 0:
        case.headers["If-Match"] = "*"


def _fuzz(operation, token: str, grant: bool) -> Counter[int]:
    """Run one operation's examples; the statuses it was answered with."""
    found: Counter[int] = Counter()
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        _aim(case, grant)
        found[case.call_and_validate(headers=headers, checks=CHECKS).status_code] += 1

    run()
    return found


@pytest.mark.slow
def test_every_operation_conforms_to_the_document(app, published_clauses, bearer) -> None:
    officer: Bearer = bearer("procurement_officer", "ZVS")
    manager: Bearer = bearer("grant_manager", "ZVS")
    _records(officer, manager)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    fuzzed: list[str] = []
    statuses: dict[str, Counter[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        grant = "/grants" in operation.path  # a grant manager's, the rest an officer's
        token = (manager if grant else officer).secret
        statuses[operation.label] = _fuzz(operation, token, grant)
        fuzzed.append(operation.label)
    assert len(fuzzed) == OPERATIONS, fuzzed
    print({label: dict(found) for label, found in statuses.items()})  # the run's statuses
    # The data reached the views: every read answered some requests with 200.
    assert all(found[200] for label, found in statuses.items() if label.startswith("GET"))
