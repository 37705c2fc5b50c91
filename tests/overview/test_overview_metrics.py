"""The overview's figures against a hand-built data set with known numbers."""

from __future__ import annotations

from datetime import date

from clause_tracker.auth.visibility import unit_scope
from clause_tracker.compliance.state import compliance_of
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.overview import metrics
from clause_tracker.overview.metrics import Period
from tests.overview.overview_dataset import (
    EXPECTED_CLAUSE,
    EXPECTED_DECLARATIONS,
    EXPECTED_FOLLOW_UP,
    EXPECTED_KINDS,
    EXPECTED_QUARTERS,
    EXPECTED_REASONS,
    EXPECTED_TOTAL,
    EXPECTED_UNIT_TYPES,
    EXPECTED_UNITS,
)


def _unit_ids():
    from clause_tracker.extensions import db

    return {u.code: u.id for u in db.session.query(OrgUnit)}


def test_coverage_per_unit_kind_and_type(dataset) -> None:
    data = metrics.compute(None, Period(), date.today())
    cov = data.coverage
    ids = _unit_ids()
    for code, (scope, covered, value, value_covered, pending, bad, exempt) in \
            EXPECTED_UNITS.items():
        t = cov.by_unit[ids[code]]
        assert (t.in_scope, t.covered, t.value_in_scope, t.value_covered, t.pending,
                t.non_compliant, t.exempt) == (scope, covered, value, value_covered, pending,
                                               bad, exempt), code
    total = cov.total
    assert (total.in_scope, total.covered, total.value_in_scope, total.value_covered) == \
        EXPECTED_TOTAL
    assert str(total.share) == "33.3"  # 4 of 12
    assert str(total.value_share) == "64.4"  # 17,200 of 26,700
    for kind, expected in EXPECTED_KINDS.items():
        assert (cov.by_kind[kind].in_scope, cov.by_kind[kind].covered) == expected
    for kind, expected in EXPECTED_UNIT_TYPES.items():
        assert (cov.by_unit_kind[kind].in_scope, cov.by_unit_kind[kind].covered) == expected
    assert {q: (t.in_scope, t.covered) for q, t in cov.by_quarter.items()} == EXPECTED_QUARTERS


def test_clause_attached_and_verified_in_the_signed_copy(dataset) -> None:
    cov = metrics.compute(None, Period(), date.today()).coverage
    groups = {"total": cov.total, "contract": cov.by_kind["contract"],
              "grant": cov.by_kind["grant"], "ZVS": cov.by_unit[_unit_ids()["ZVS"]]}
    found = {name: (t.in_scope, t.attached, t.verified, t.value_attached, t.value_verified)
             for name, t in groups.items()}
    assert found == EXPECTED_CLAUSE


def test_the_signed_copy_decides_the_state(dataset) -> None:
    """A contract's state follows its returned copy: verified (a confirmed OCR match too)
    counts, a deviating copy or one past its due day does not."""
    found = {name: compliance_of(dataset[name].id).reason for name in EXPECTED_REASONS}
    assert found == EXPECTED_REASONS


def test_declarations_exemptions_versions_commitments(dataset) -> None:
    data = metrics.compute(None, Period(), date.today())
    assert data.declarations.counts == EXPECTED_DECLARATIONS
    assert str(data.declarations.return_rate) == "90.0"
    assert str(data.declarations.on_time_rate) == "80.0"
    assert [(r, n, int(v)) for r, n, v in data.exemptions] == [("below_de_minimis", 1, 300)]
    assert sorted(n for _, _, n in data.clause_versions) == [2, 8]  # grant, procurement
    assert data.commitments[0] == 2 and data.commitments[1] == 1
    assert str(data.commitments[2]) == "8.0"


def test_checks_measures_complaints(dataset) -> None:
    follow = metrics.compute(None, Period(), date.today()).follow_up
    for name, expected in EXPECTED_FOLLOW_UP.items():
        assert follow.agreements[name] == expected, name
    assert follow.checks_done == 3
    assert follow.complaints == 1
    assert [ref[:2] for _, ref, _ in follow.exclusions] == ["A8"]


def test_period_limits_to_decisions_in_it(dataset) -> None:
    data = metrics.compute(None, Period(date(2025, 1, 1), date(2025, 6, 30)), date.today())
    assert (data.coverage.total.in_scope, data.coverage.total.covered) == (5, 1)
    assert set(data.coverage.by_quarter) == {"2025-Q1", "2025-Q2"}


def test_officer_sees_only_their_unit(dataset, make_user) -> None:
    officer = make_user("procurement_officer", "ZVS")
    data = metrics.compute(unit_scope(officer), Period(), date.today())
    assert [u.code for u in data.units] == ["ZVS"]
    assert (data.coverage.total.in_scope, data.coverage.total.covered) == (5, 1)
    assert data.follow_up.agreements["complaint_linked"] == 0  # JK's complaint is not theirs
    assert data.declarations.counts["requested"] == 3
