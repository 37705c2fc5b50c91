"""The OCDS export over the JSON API: valid packages, scoped like every list."""

from __future__ import annotations

from tests.factories import file_signed_copy, insert_agreement
from tests.interop.test_ocds import _errors


def test_release_and_record_packages_of_the_contracts_one_sees(app, bearer) -> None:
    own = insert_agreement(code="ZVS", status="active")
    file_signed_copy(own)
    other = insert_agreement(code="KIJ", status="awarded")
    insert_agreement(kind="grant", code="FDJB")
    officer = bearer("procurement_officer", "ZVS", write=False)
    response = officer.get("/api/v1/ocds/release-package.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    package = response.json
    assert _errors(package, "release-package-schema.json") == []
    assert [r["ocid"] for r in package["releases"]] == [f"ocds-xxxxxx-{own.id}"]
    assert package["uri"].endswith("/api/v1/ocds/release-package.json")
    auditor = bearer("auditor", write=False)
    records = auditor.get("/api/v1/ocds/record-package.json").json
    assert _errors(records, "record-package-schema.json") == []
    assert sorted(r["ocid"] for r in records["records"]) == sorted(
        f"ocds-xxxxxx-{a.id}" for a in (own, other))
