"""The OCDS export: every package valid against the OCDS 1.1.5 schemas (JSON Schema draft 4,
the release schema resolved from the local copy), compiled by ocdskit without errors,
with stable release ids and the clause where OCDS users look for a contract condition."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from jsonschema import Draft4Validator
from ocdskit.combine import merge
from ocdskit.upgrade import upgrade_10_11
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from sqlalchemy import select

from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.extensions import db
from clause_tracker.interop import ocds
from tests.factories import file_signed_copy, insert_agreement, new_counterparty
from tests.interop.test_eforms import INTEROP

SCHEMAS = INTEROP / "ocds-1.1.5"
PUBLISHED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def _validator(name: str) -> Draft4Validator:
    registry = Registry().with_resources(
        (s["id"], Resource.from_contents(s, default_specification=DRAFT4))
        for s in (_schema("release-schema.json"),
                  _schema("versioned-release-validation-schema.json")))
    return Draft4Validator(_schema(name), registry=registry,
                           format_checker=Draft4Validator.FORMAT_CHECKER)


def _errors(package: dict, name: str) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}"
            for e in _validator(name).iter_errors(package)]


@pytest.fixture
def shapes(app, published_clauses):
    """Contracts of several shapes, and a grant."""
    version = db.session.scalars(select(ClauseVersion).where(
        ClauseVersion.variant == "procurement", ClauseVersion.language == "de")).first()
    party = new_counterparty(name="Muster Bau GmbH", register_number="HRB 1234 Jena")
    signed = insert_agreement(code="ZVS", status="active", counterparty_id=party.id,
                              clause_version_id=version.id, contract_kind="works",
                              procedure="open", estimated_value=Decimal("120000.50"))
    file_signed_copy(signed, status="verbatim")
    eigenbetrieb = insert_agreement(code="KIJ", status="awarded",
                                    clause_version_id=version.id, contract_kind="services",
                                    procedure="negotiated_award", value=Decimal("9.99"),
                                    currency="GBP")
    draft = insert_agreement(code="ZVS", status="draft", counterparty_id=None, value=None,
                             start_date=None, end_date=None, decided_on=None)
    ended = insert_agreement(code="ZVS", status="terminated", end_date=date(2026, 1, 31))
    grant = insert_agreement(kind="grant", code="FDJB", programme="Fonds")
    return {"signed": signed, "eigenbetrieb": eigenbetrieb, "draft": draft, "ended": ended,
            "grant": grant, "version": version}


def test_release_package_is_valid_and_says_what_it_should(app, shapes) -> None:
    package = ocds.release_package(None, published=PUBLISHED, uri="https://x.example/p.json")
    assert _errors(package, "release-package-schema.json") == []
    assert package["extensions"] == [ocds.CONTRACT_TERMS_EXTENSION]
    by_ocid = {r["ocid"]: r for r in package["releases"]}
    assert f"ocds-xxxxxx-{shapes['grant'].id}" not in by_ocid and len(by_ocid) == 4
    signed = by_ocid[f"ocds-xxxxxx-{shapes['signed'].id}"]
    assert signed["buyer"] == {"id": "DE-JENA", "name": "Stadt Jena"}
    assert {p["id"]: p["roles"] for p in signed["parties"]} == {
        "DE-JENA": ["buyer", "procuringEntity"],
        f"supplier-{shapes['signed'].counterparty_id}": ["supplier", "payee"]}
    [contract] = signed["contracts"]
    types = {d["documentType"]: d for d in contract["documents"]}
    version = shapes["version"]
    assert set(types) == {"contractSigned", "contractAnnexe"}
    assert version.sha256 in types["contractAnnexe"]["description"]
    assert version.version in types["contractAnnexe"]["description"]
    assert "verbatim" in types["contractSigned"]["description"]
    assert version.sha256 in signed["tender"]["contractTerms"]["performanceTerms"]
    assert contract["value"] == {"amount": 100000, "currency": "EUR"}
    assert contract["status"] == "active" and signed["awards"][0]["status"] == "active"
    assert signed["tender"]["value"] == {"amount": 120000.5, "currency": "EUR"}
    assert contract["period"]["startDate"].startswith("2025-01-01T00:00:00+01:00")
    eigen = by_ocid[f"ocds-xxxxxx-{shapes['eigenbetrieb'].id}"]
    assert eigen["buyer"]["id"] == "DE-JENA-KIJ" and "Immobilien" in eigen["buyer"]["name"]
    assert eigen["contracts"][0]["value"] == {"amount": 9.99, "currency": "GBP"}
    assert [d["documentType"] for d in eigen["contracts"][0]["documents"]] == [
        "contractAnnexe"]
    draft = by_ocid[f"ocds-xxxxxx-{shapes['draft'].id}"]
    assert draft["tag"] == ["tender"] and "documents" not in draft["contracts"][0]
    assert "contractTermination" in by_ocid[f"ocds-xxxxxx-{shapes['ended'].id}"]["tag"]


def test_record_package_is_valid(app, shapes) -> None:
    package = ocds.record_package(None, published=PUBLISHED, uri="https://x.example/r.json")
    assert _errors(package, "record-package-schema.json") == []
    assert len(package["records"]) == 4
    assert all(r["compiledRelease"]["tag"] == ["compiled"] for r in package["records"])


def test_an_invalid_package_is_caught_by_the_validation(app, shapes) -> None:
    package = ocds.release_package(None, published=PUBLISHED, uri="u")
    package["releases"][0]["tag"] = ["signed"]
    del package["releases"][1]["ocid"]
    assert len(_errors(package, "release-package-schema.json")) == 2


def test_release_ids_are_stable_and_change_with_the_content(app, shapes) -> None:
    first = ocds.release_package(None, published=PUBLISHED, uri="u")
    again = ocds.release_package(None, published=datetime.now(UTC), uri="u")
    assert [r["id"] for r in first["releases"]] == [r["id"] for r in again["releases"]]
    shapes["draft"].subject = "Neuer Gegenstand"
    db.session.commit()
    changed = ocds.release_package(None, published=PUBLISHED, uri="u")
    ids = {r["ocid"]: r["id"] for r in changed["releases"]}
    before = {r["ocid"]: r["id"] for r in first["releases"]}
    assert [o for o in ids if ids[o] != before[o]] == [f"ocds-xxxxxx-{shapes['draft'].id}"]


def test_ocid_prefix_and_publisher_are_settings(app, shapes) -> None:
    app.config["OCDS_OCID_PREFIX"] = "ocds-abc123"
    package = ocds.release_package([shapes["signed"], shapes["grant"]], published=PUBLISHED,
                                   uri="u")
    assert [r["ocid"] for r in package["releases"]] == [f"ocds-abc123-{shapes['signed'].id}"]


def test_the_packages_round_trip_through_ocdskit(app, shapes) -> None:
    package = ocds.release_package(None, published=PUBLISHED, uri="https://x.example/p.json")
    upgraded = upgrade_10_11(json.loads(json.dumps(package)))
    assert upgraded["releases"] == package["releases"]
    [records] = list(merge([upgraded], uri="https://x.example/r.json",
                           published_date="2026-12-07T12:00:00Z",
                           schema=_schema("release-schema.json"), return_package=True))
    assert _errors(records, "record-package-schema.json") == []
    ours = ocds.record_package(None, published=PUBLISHED, uri="u")
    compiled = {r["ocid"]: r["compiledRelease"] for r in records["records"]}
    for record in ours["records"]:
        theirs = compiled[record["ocid"]]
        assert theirs["contracts"] == record["compiledRelease"]["contracts"]
        assert theirs["parties"] == record["compiledRelease"]["parties"]


def test_cli_writes_both_packages(app, shapes, runner, tmp_path) -> None:
    target = tmp_path / "ocds.json"
    out = runner.invoke(args=["export", "ocds", "-o", str(target)])
    assert out.exit_code == 0 and "wrote 4 release(s)" in out.output
    assert _errors(json.loads(target.read_text()), "release-package-schema.json") == []
    out = runner.invoke(args=["export", "ocds", "-o", str(target), "--records"])
    assert out.exit_code == 0 and "wrote 4 record(s)" in out.output
    assert _errors(json.loads(target.read_text()), "record-package-schema.json") == []


def test_cli_refuses_an_empty_package(app, runner, tmp_path) -> None:
    """OCDS packages hold at least one release: with no contracts nothing is written."""
    target = tmp_path / "ocds.json"
    out = runner.invoke(args=["export", "ocds", "-o", str(target)])
    assert out.exit_code == 1
    assert "no contracts to export" in out.output
    assert not target.exists()
