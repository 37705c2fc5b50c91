"""GET /api/v1/ocds/release-package.json: the contracts the token's user sees, as a valid
OCDS 1.1 release package (the schemas of ../shared/interop/ocds-1.1.5), paged by Link."""

from __future__ import annotations

from clause_tracker.api import resources
from tests.factories import file_signed_copy, insert_agreement
from tests.interop.test_ocds import _errors


def test_the_package_is_valid_and_scoped_to_the_unit(app, bearer, published_clauses) -> None:
    ours = insert_agreement("contract", "ZVS", contract_kind="works", procedure="open")
    theirs = insert_agreement("contract", "KIJ", contract_kind="services", procedure="open")
    insert_agreement("grant", "ZVS", programme="Fonds")  # OCDS: contracts only
    officer = bearer("procurement_officer", "ZVS", write=False)
    response = officer.get("/api/v1/ocds/release-package.json")
    assert response.status_code == 200
    package = response.json
    assert _errors(package, "release-package-schema.json") == []
    assert package["uri"].endswith("/api/v1/ocds/release-package.json")
    assert len(package["releases"]) == 1
    assert ours.reference in response.get_data(as_text=True)
    assert theirs.reference not in response.get_data(as_text=True)
    auditor = bearer("auditor")
    every = auditor.get("/api/v1/ocds/release-package.json").json
    assert len(every["releases"]) == 2
    assert _errors(every, "release-package-schema.json") == []


def test_the_package_is_paged(app, bearer, monkeypatch) -> None:
    monkeypatch.setattr(resources, "OCDS_PER_PAGE", 2)
    for _ in range(3):
        insert_agreement("contract", "ZVS", contract_kind="works", procedure="open")
    api = bearer("auditor")
    first = api.get("/api/v1/ocds/release-package.json")
    assert len(first.json["releases"]) == 2 and 'rel="next"' in first.headers["Link"]
    second = api.get("/api/v1/ocds/release-package.json?page=2")
    assert len(second.json["releases"]) == 1 and 'rel="next"' not in second.headers["Link"]
    assert api.client.get("/api/v1/ocds/release-package.json").status_code == 401


def test_the_record_package_is_valid_and_scoped(app, bearer) -> None:
    own = insert_agreement(code="ZVS", status="active")
    file_signed_copy(own)
    other = insert_agreement(code="KIJ", status="awarded")
    insert_agreement(kind="grant", code="FDJB")
    officer = bearer("procurement_officer", "ZVS", write=False)
    mine = officer.get("/api/v1/ocds/record-package.json")
    assert mine.status_code == 200, mine.get_data(as_text=True)
    assert _errors(mine.json, "record-package-schema.json") == []
    assert [r["ocid"] for r in mine.json["records"]] == [f"ocds-xxxxxx-{own.id}"]
    records = bearer("auditor", write=False).get("/api/v1/ocds/record-package.json").json
    assert _errors(records, "record-package-schema.json") == []
    assert sorted(r["ocid"] for r in records["records"]) == sorted(
        f"ocds-xxxxxx-{a.id}" for a in (own, other))
