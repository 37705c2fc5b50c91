"""Contract awards from eForms notices: the SDK's example notices, read back from the XML
with XPath of the tests' own, refusals, hostile XML, idempotency, the page and the CLI."""

from __future__ import annotations

import io
import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.models import AuditEvent
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.extensions import db
from clause_tracker.interop import buyers
from clause_tracker.interop.eforms import EformsRefused, import_notice, read_notice
from tests.factories import new_counterparty, new_user, unit
from tests.helpers import REPO, hidden_fields

# The interoperability test data (shared/interop/, see its SOURCES.md) lies beside the
# checkout (or where CLAUSE_TRACKER_TEST_INTEROP_DIR says); a missing corpus fails
# test_the_corpus_is_there.
INTEROP = Path(os.environ.get("CLAUSE_TRACKER_TEST_INTEROP_DIR") or next(
    (p for p in (REPO.parent / "shared" / "interop", REPO.parents[1] / "shared" / "interop")
     if p.is_dir()), REPO.parent / "shared" / "interop"))
EXAMPLES = INTEROP / "eforms-sdk-examples"
# The award notices: can*, veat*, and three more contract award notices of the SDK (the
# minimal result and modification notices, a transport result notice).
AWARDS = sorted([*EXAMPLES.glob("can*.xml"), *EXAMPLES.glob("veat*.xml"),
                 *(EXAMPLES / name for name in ("E4_minimal.xml", "E6_minimal.xml",
                                                "t02_ESP.xml"))])
INVALID = sorted(EXAMPLES.glob("INVALID_*.xml"))
OTHERS = sorted(set(EXAMPLES.glob("*.xml")) - set(AWARDS) - set(INVALID))
NS = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
      "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
      "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1"}


def _x(node, path: str) -> list:
    return node.xpath(path, namespaces=NS)


def _first(node, path: str) -> str:
    found = _x(node, path)
    return " ".join(str(found[0]).split()) if found else ""


def expected_contracts(path: Path) -> list[dict]:
    """What the XML says of each settled contract, read with the test's own XPath."""
    root = etree.parse(str(path)).getroot()
    notice_id = _first(root, "cbc:ID[@schemeName='notice-id']/text()")
    result = _x(root, "//efac:NoticeResult")[0]
    found = []
    for settled in _x(result, "efac:SettledContract[cbc:IssueDate or cbc:AwardDate "
                              "or efac:LotTender]"):
        contract_id = _first(settled, "cbc:ID/text()")
        tender_id = _first(settled, "efac:LotTender/cbc:ID/text()")
        tender = _x(result, f"efac:LotTender[cbc:ID='{tender_id}']")[0]
        party_id = _first(tender, "efac:TenderingParty/cbc:ID/text()")
        party = _x(result, f"efac:TenderingParty[cbc:ID='{party_id}']")[0]
        lead = _first(party, "efac:Tenderer[efbc:GroupLeadIndicator='true']/cbc:ID/text()") \
            or _first(party, "efac:Tenderer/cbc:ID/text()")
        company = _x(root, f"//efac:Organization/efac:Company"
                           f"[cac:PartyIdentification/cbc:ID='{lead}']")[0]
        lot_id = _first(tender, "efac:TenderLot/cbc:ID/text()")
        amount = _first(tender, "cac:LegalMonetaryTotal/cbc:PayableAmount/text()")
        day = _first(settled, "cbc:IssueDate/text()") or _first(settled, "cbc:AwardDate/text()")
        found.append({
            "reference": f"{notice_id}/{contract_id}",
            "value": Decimal(amount).quantize(Decimal("0.01")) if amount else None,
            "currency": _first(tender, "cac:LegalMonetaryTotal/cbc:PayableAmount/@currencyID")
            or None,
            "winner": _first(company, "cac:PartyName/cbc:Name/text()"),
            "register": _first(company, "cac:PartyLegalEntity/cbc:CompanyID/text()"),
            "decided_on": date.fromisoformat(day[:10]) if day else None,
            "lot_title": _first(root, f"cac:ProcurementProjectLot[cbc:ID='{lot_id}']"
                                      f"/cac:ProcurementProject/cbc:Name/text()")
            or _first(root, "cac:ProcurementProject/cbc:Name/text()"),
        })
    return found


def _map_every_buyer(code: str = "ZVS") -> None:
    """Every buyer of the example notices mapped to one unit, through the service."""
    target = unit(code)
    db.session.commit()
    seen: set[str] = set()
    for path in AWARDS:
        root = etree.parse(str(path)).getroot()
        for company in _x(root, "//efac:Organization/efac:Company"):
            number = _first(company, "cac:PartyLegalEntity/cbc:CompanyID/text()")
            name = _first(company, "cac:PartyName/cbc:Name/text()")
            key = buyers.normalise_number(number) or "name:" + name.casefold()
            if key in seen or not (number or name):
                continue
            seen.add(key)
            buyers.add_buyer(number, name if not number else "", target.id)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Agreement))


def test_the_corpus_is_there() -> None:
    assert len(AWARDS) == 23 and len(INVALID) == 12 and len(OTHERS) == 49


def test_every_award_notice_imports_with_the_values_of_its_xml(app) -> None:
    _map_every_buyer()
    imported = 0
    references: set[str] = set()
    for path in AWARDS:
        result = import_notice(path.read_bytes(), path.name)
        assert result.report.errors == [], (path.name, result.report.errors)
        expected = [e for e in expected_contracts(path) if e["reference"] not in references]
        # (Some examples share a notice identifier: their contracts count once.)
        assert sorted(result.report.created) == sorted(e["reference"] for e in expected), \
            path.name
        for item in expected:
            record = db.session.scalar(select(Agreement).where(
                Agreement.reference == item["reference"]))
            assert record is not None and record.kind == "contract", item
            assert record.value == item["value"], (path.name, item)
            currency = item["currency"] if item["value"] is not None else None
            assert (record.currency or ("EUR" if record.value is not None else None)) \
                == currency, (path.name, item)
            # Matched by registration number (the examples reuse numbers across notices),
            # else by name.
            if item["register"]:
                assert record.counterparty.register_number == item["register"]
            else:
                assert record.counterparty.name == item["winner"], (path.name, item)
            assert record.decided_on == item["decided_on"], (path.name, item)
            assert item["lot_title"] and item["lot_title"] in record.subject, (path.name, item)
            assert record.org_unit.code == "ZVS" and record.status == "draft"
        imported += 1
        references.update(e["reference"] for e in expected)
    assert imported == 23 and len(references) == _count() == 24
    contracts = len(references)
    # Importing again adds nothing.
    for path in AWARDS:
        again = import_notice(path.read_bytes(), path.name)
        assert again.report.created == [] and again.report.errors == []
    assert _count() == contracts


def test_lots_without_a_winner_and_withheld_fields_are_reported(app) -> None:
    none = read_notice((EXAMPLES / "can_24_no_tenders.xml").read_bytes())
    assert none.contracts == [] and any("closed without a winner" in n for n in none.notes)
    withheld = read_notice((EXAMPLES / "can_25_withheld.xml").read_bytes())
    assert len(withheld.contracts) == 1
    assert any("not-val" in n and "win-cho" in n for n in withheld.notes)
    several = read_notice((EXAMPLES / "can_24_maximal.xml").read_bytes())
    assert [c.contract_id for c in several.contracts] == ["CON-0001", "CON-0002"]
    assert any("LOT-0002" in n for n in several.notes)


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.name)
def test_other_notices_are_refused_naming_their_type(app, path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    notice_type = _first(root, "cbc:NoticeTypeCode/text()")
    with pytest.raises(EformsRefused, match=f"of type {notice_type} "):
        import_notice(path.read_bytes(), path.name)
    assert _count() == 0


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_notices_get_a_clear_message(app, path: Path) -> None:
    with pytest.raises(EformsRefused, match=r"cannot be read|of type") as caught:
        import_notice(path.read_bytes(), path.name)
    assert "Traceback" not in str(caught.value) and _count() == 0


HOSTILE = {
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                      b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                      b'<ContractAwardNotice>&lol3;</ContractAwardNotice>',
    "external entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                       b'"file:///etc/passwd">]><ContractAwardNotice>&e;</ContractAwardNotice>',
    "network DTD": b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">'
                   b'<ContractAwardNotice/>',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused(app, name: str) -> None:
    with pytest.raises(EformsRefused, match=r"document type declaration|not well-formed"):
        import_notice(HOSTILE[name], "x.xml")


def test_size_limit_garbage_and_empty(app) -> None:
    app.config["EFORMS_MAX_FILE_BYTES"] = 1000
    with pytest.raises(EformsRefused, match="larger than"):
        import_notice((EXAMPLES / "can_24_minimal.xml").read_bytes(), "big.xml")
    app.config["EFORMS_MAX_FILE_BYTES"] = 10 * 1024 * 1024
    with pytest.raises(EformsRefused, match="not well-formed"):
        import_notice(b"PK\x03\x04 not xml at all", "x.xml")
    with pytest.raises(EformsRefused, match="empty"):
        import_notice(b"  ", "x.xml")


def test_an_unmapped_buyer_is_named_and_nothing_is_imported(app) -> None:
    with pytest.raises(EformsRefused, match=r"Rouen Habitat.*123 456 789"):
        import_notice((EXAMPLES / "can_24_minimal.xml").read_bytes(), "can.xml")
    assert _count() == 0


def test_counterparty_matched_by_registration_number_then_name(app) -> None:
    buyers.add_buyer("123456789", "", unit("KIJ").id)  # spaces are ignored
    known = new_counterparty(name="Lemire Espaces Verts SARL", register_number="326 912 557")
    import_notice((EXAMPLES / "can_24_FRA_comments.xml").read_bytes(), "can.xml")
    records = db.session.scalars(select(Agreement).order_by(Agreement.reference)).all()
    assert [r.counterparty_id == known.id for r in records] == [True, False]
    assert records[0].org_unit.code == "KIJ"
    assert db.session.scalar(select(func.count()).select_from(Counterparty)) == 2
    events = db.session.scalars(select(AuditEvent.action)).all()
    assert "contract.import_file" in events and "eforms_buyer.add" in events


def test_the_page_checks_then_imports_for_the_officers_unit(app, client, login) -> None:
    buyers.add_buyer("", "Rouen Habitat", unit("ZVS").id)
    officer = new_user("procurement_officer", "ZVS")
    login(client, officer.username)
    data = (EXAMPLES / "can_24_minimal.xml").read_bytes()
    fields = hidden_fields(client, "/interop/eforms")
    page = client.post("/interop/eforms", data={**fields, "dry_run": "y", "file": (
        io.BytesIO(data), "can.xml")}, content_type="multipart/form-data")
    assert page.status_code == 200 and _count() == 0
    assert "Espaces Verts Lemire" in page.get_data(as_text=True)
    page = client.post("/interop/eforms", data={**fields, "file": (io.BytesIO(data),
                                                                    "can.xml")},
                       content_type="multipart/form-data")
    assert page.status_code == 200 and _count() == 1
    refused = client.post("/interop/eforms", data={**fields, "file": (io.BytesIO(
        (EXAMPLES / "cn_24_minimal.xml").read_bytes()), "cn.xml")},
        content_type="multipart/form-data")
    assert refused.status_code == 422 and "cn-standard" in refused.get_data(as_text=True)


def test_an_officer_imports_only_for_the_own_unit(app, client, login) -> None:
    buyers.add_buyer("", "Rouen Habitat", unit("KIJ").id)
    officer = new_user("procurement_officer", "ZVS")
    result = import_notice((EXAMPLES / "can_24_minimal.xml").read_bytes(), "can.xml",
                           unit=officer.org_unit, restrict_unit=True, user=officer)
    assert result.report.errors and "own unit" in result.report.errors[0].message
    assert _count() == 0


def test_the_buyer_table_is_kept_by_administrators_and_audited(app, client, login) -> None:
    admin = new_user("admin")
    login(client, admin.username)
    target = unit("JK")
    db.session.commit()
    fields = hidden_fields(client, "/interop/buyers")
    answer = client.post("/interop/buyers", data={**fields, "company_id": "DE 123",
                                                  "name": "", "org_unit_id": target.id})
    assert answer.status_code == 302
    [row] = buyers.all_buyers()
    assert row.company_id == "DE 123" and buyers.unit_of("de123", "x").code == "JK"
    again = client.post("/interop/buyers", data={**fields, "company_id": "de123",
                                                 "org_unit_id": target.id})
    assert again.status_code == 303 and len(buyers.all_buyers()) == 1
    client.post(f"/interop/buyers/{row.id}/remove", data=fields)
    assert buyers.all_buyers() == []
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "eforms_buyer.add" in actions and "eforms_buyer.remove" in actions
    officer = new_user("procurement_officer", "ZVS")
    client.post("/logout", data=fields)
    other = client.application.test_client()
    login(other, officer.username)
    assert other.get("/interop/buyers").status_code == 403


def test_cli_checks_every_notice_first(app, runner) -> None:
    _map_every_buyer()
    good = [str(EXAMPLES / "can_24_minimal.xml"), str(EXAMPLES / "veat_24.xml")]
    out = runner.invoke(args=["import", "eforms", *good, str(EXAMPLES / "pin-only_24.xml")])
    assert out.exit_code != 0 and "pin-only" in out.output and _count() == 0
    out = runner.invoke(args=["import", "eforms", *good])
    assert out.exit_code == 0, out.output
    assert "imported 2 contract(s) from 2 notice(s)" in out.output and _count() == 2
    out = runner.invoke(args=["import", "eforms", *good])
    assert "imported 0 contract(s)" in out.output and "2 already registered" in out.output
    details = json.loads(db.session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "contract.import_file")).first())
    assert details["file"] == "can_24_minimal.xml" and len(details["sha256"]) == 64


def test_a_value_in_another_currency_shows_its_currency(app, client, login) -> None:
    buyers.add_buyer("", "NI Water and its subsidiaries", unit("ZVS").id)
    import_notice((EXAMPLES / "can_25_ENG.xml").read_bytes(), "can.xml")
    record = db.session.scalar(select(Agreement))
    assert record is not None and record.currency == "GBP" and record.value == Decimal("9.99")
    officer = new_user("procurement_officer", "ZVS")
    login(client, officer.username)
    page = client.get(f"/agreements/{record.id}").get_data(as_text=True)
    assert "9,99\u00a0£" in page and "9,99\u00a0€" not in page
