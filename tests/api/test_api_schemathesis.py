"""Schemathesis against the live OpenAPI document, in process (WSGI): every operation,
property-based from its schemas, with a write token of an officer. No answer may be a 500,
and every answer must match what the document says (status, media type, body, headers).
Bounded in time: a fixed number of examples per operation, derandomized."""

from __future__ import annotations

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

from tests.api.conftest import Bearer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
EXAMPLES = 25
OPERATIONS = 17  # every operation of the document


def _records(officer: Bearer) -> None:
    """A few records to find: ids 1…3 exist, so reads and writes get past the 404."""
    for reference in ("S-1", "S-2", "S-3"):
        assert officer.post("/api/v1/contracts", json={
            "reference": reference, "subject": "Fuzz", "contract_kind": "works",
            "procedure": "open"}).status_code == 201
    assert officer.post("/api/v1/agreements/1/declarations",
                        json={"requested_on": "2026-01-05",
                              "party_name": "Fuzz GmbH"}).status_code == 201


@pytest.mark.slow
def test_every_operation_conforms_to_the_document(app, published_clauses, bearer) -> None:
    officer: Bearer = bearer("procurement_officer", "ZVS")
    _records(officer)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {officer.secret}"}
    fuzzed = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
        fuzzed.append(operation.label)
    assert len(fuzzed) == OPERATIONS, fuzzed
