"""The contracts as Open Contracting Data Standard (OCDS 1.1) release and record packages.

Pure functions over agreements (no request, no writes), for the CLI (`export ocds`) and the
JSON API alike. One contracting process per contract:

- `ocid`: OCDS_OCID_PREFIX + "-" + the agreement's id (the id never changes; a reference
  may be corrected);
- release `id`: `<agreement id>-<first 16 hex digits of the SHA-256 of the release's
  content>`: exporting again gives the same id while nothing changed, and a new one as soon
  as anything the release says changed (a new release, as OCDS wants);
- `buyer`: the City (OCDS_BUYER_NAME) for its departments, the Eigenbetrieb itself for an
  Eigenbetrieb's contracts; `parties` hold the buyer and the supplier with their roles;
- `tender` (title, category, procedure, estimated value) with the clause as a contract
  performance condition in `tender.contractTerms.performanceTerms` (Contract terms
  extension); `awards` and `contracts` with value, currency, dates and periods;
- the contract's `documents`: the clause text attached (`contractAnnexe`: clause, version,
  language, SHA-256 of the text) and the signed copy filed (`contractSigned`: file name,
  the result of its check, SHA-256 of the file).

Grants are no public procurement and are left out (OCDS describes contracting processes).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from clause_tracker.agreements.models import CONTRACT, Agreement
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.documents.web.models import RETURNED_ACTIONS, DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit, UnitKind

OCDS_VERSION = "1.1"
BERLIN = ZoneInfo("Europe/Berlin")
CONTRACT_TERMS_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/"
                            "ocds_contractTerms_extension/master/extension.json")
EXTENSIONS = (CONTRACT_TERMS_EXTENSION,)
CHUNK = 1000  # agreements per query of their signed copies
DEFAULTS = {
    "OCDS_OCID_PREFIX": "ocds-xxxxxx",
    "OCDS_PUBLISHER_NAME": "Stadt Jena",
    "OCDS_PUBLISHER_URI": "https://www.jena.de",
    "OCDS_BUYER_NAME": "Stadt Jena",
    "OCDS_BUYER_ID": "DE-JENA",
}
CATEGORY = {"supplies": "goods", "services": "services", "works": "works",
            "concession": "services"}
# The register's procedures → OCDS procurementMethod (closed codelist)
METHOD = {"open": "open", "public_tender": "open", "restricted": "selective",
          "restricted_tender": "selective", "competitive_dialogue": "selective",
          "innovation_partnership": "selective", "negotiated": "limited",
          "negotiated_award": "limited", "direct_award": "direct"}
# The register's status → (award status, contract status); drafts have no award yet.
STATUSES = {"draft": ("pending", "pending"), "awarded": ("active", "pending"),
            "active": ("active", "active"), "ended": ("active", "terminated"),
            "terminated": ("active", "terminated")}
PERFORMANCE_TERMS = (
    "Antirassismusklausel der Stadt Jena als besondere Bedingung für die Ausführung des "
    "Auftrags (§ 128 Abs. 2 GWB): {title}, Fassung {version} ({language}), SHA-256 des "
    "Klauseltexts {sha256}. Verstöße können zu Maßnahmen bis zur Kündigung führen.")


def settings(config: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The OCDS_* settings of the config (or of the active app), with their defaults."""
    if config is None:
        config = current_app.config if has_app_context() else {}
    return {key: str(config.get(key) or default) for key, default in DEFAULTS.items()}


def contracts(agreements: Iterable[Agreement] | None = None) -> list[Agreement]:
    """The agreements to export: the given ones that are contracts, else every contract."""
    if agreements is None:
        return list(db.session.scalars(select(Agreement).where(Agreement.kind == CONTRACT)
                                       .options(selectinload(Agreement.clause_version))
                                       .order_by(Agreement.id)))
    return [a for a in agreements if a.kind == CONTRACT]


# --- values ----------------------------------------------------------------------------------

def _moment(value: datetime) -> str:
    """A stored time (naive UTC) as RFC 3339."""
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _day(value: date) -> str:
    """A day as the start of that day in Jena."""
    return datetime.combine(value, time(0), BERLIN).isoformat()


def _day_end(value: date) -> str:
    return datetime.combine(value, time(23, 59, 59), BERLIN).isoformat()


def _amount(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _value(amount: Decimal | None, currency: str | None) -> dict[str, Any] | None:
    if amount is None:
        return None
    return {"amount": _amount(amount), "currency": currency or "EUR"}


def _period(start: date | None, end: date | None) -> dict[str, str] | None:
    period = {}
    if start:
        period["startDate"] = _day(start)
    if end:
        period["endDate"] = _day_end(end)
    return period or None


def _empty(value: Any) -> bool:
    return value is None or (not value and isinstance(value, str | list | dict))


def _clean(data: Any) -> Any:
    """Without empty values (OCDS: omit a field rather than give it empty); 0 stays."""
    if isinstance(data, dict):
        cleaned = {}
        for key, value in data.items():
            if isinstance(value, dict | list):
                value = _clean(value)
            if not _empty(value):
                cleaned[key] = value
        return cleaned
    if isinstance(data, list):
        items = [_clean(v) if isinstance(v, dict | list) else v for v in data]
        return [v for v in items if not _empty(v)]
    return data


# --- parties ---------------------------------------------------------------------------------

def _buyer(unit: OrgUnit, conf: dict[str, str]) -> dict[str, Any]:
    """The city, or the Eigenbetrieb (a buyer of its own), with the unit as its detail."""
    if unit.kind == UnitKind.EIGENBETRIEB:
        return {"id": f"{conf['OCDS_BUYER_ID']}-{unit.code}", "name": unit.name,
                "roles": ["buyer", "procuringEntity"]}
    return {"id": conf["OCDS_BUYER_ID"], "name": conf["OCDS_BUYER_NAME"],
            "roles": ["buyer", "procuringEntity"],
            "contactPoint": {"name": unit.name}}


def _supplier(party: Counterparty) -> dict[str, Any]:
    supplier: dict[str, Any] = {"id": f"supplier-{party.id}", "name": party.name,
                                "roles": ["supplier", "payee"]}
    if party.register_number:
        supplier["identifier"] = {"id": party.register_number,
                                  "legalName": party.name}
    if party.address:
        supplier["address"] = {"streetAddress": party.address}
    return supplier


def _reference(data: dict[str, Any]) -> dict[str, str]:
    return {"id": data["id"], "name": data["name"]}


# --- documents -------------------------------------------------------------------------------

def signed_copies(agreement_ids: list[int]) -> dict[int, DocumentRecord]:
    """agreement id → its signed copy (the latest returned file filed on it), in a few
    queries for any number of agreements."""
    found: dict[int, DocumentRecord] = {}
    for start in range(0, len(agreement_ids), CHUNK):
        chunk = agreement_ids[start:start + CHUNK]
        latest = (select(func.max(DocumentRecord.id))
                  .where(DocumentRecord.agreement_id.in_(chunk),
                         DocumentRecord.action.in_(RETURNED_ACTIONS))
                  .group_by(DocumentRecord.agreement_id))
        for record in db.session.scalars(select(DocumentRecord)
                                          .where(DocumentRecord.id.in_(latest))):
            if record.agreement_id is not None:
                found[record.agreement_id] = record
    return found


def _clause_document(version: ClauseVersion) -> dict[str, Any]:
    return {
        "id": f"clause-{version.clause_id}-{version.version}-{version.language}",
        "documentType": "contractAnnexe",
        "title": version.title,
        "description": (f"Antirassismusklausel {version.clause_id}, Fassung {version.version} "
                        f"({version.language}), gültig ab {version.valid_from.isoformat()}; "
                        f"SHA-256 des Klauseltexts: {version.sha256}"),
        "format": "text/plain",
        "language": version.language,
        "datePublished": _moment(version.published_at),
    }


def _signed_document(record: DocumentRecord) -> dict[str, Any]:
    sha256 = record.input_sha256 or record.output_sha256 or ""
    check = record.status or record.action
    return {
        "id": f"signed-copy-{record.id}",
        "documentType": "contractSigned",
        "title": record.filename,
        "description": (f"Unterschriebene Ausfertigung; Prüfung der Klausel: {check}"
                        + (f"; Klauselfassung {record.version}" if record.version else "")
                        + (f"; SHA-256 der Datei: {sha256}" if sha256 else "")),
        "format": mimetypes.guess_type(record.filename)[0] or "application/octet-stream",
        "dateModified": _moment(record.created_at),
    }


# --- the release -----------------------------------------------------------------------------

def release(agreement: Agreement, conf: dict[str, str] | None = None,
            copies: Mapping[int, DocumentRecord] | None = None) -> dict[str, Any]:
    """One contract as an OCDS release (its id and date depend on its content only).
    `copies`: the signed copies by agreement id (signed_copies), when looked up already."""
    conf = conf or settings()
    if copies is None:
        copies = signed_copies([agreement.id])
    signed = copies.get(agreement.id)
    ocid = f"{conf['OCDS_OCID_PREFIX']}-{agreement.id}"
    award_status, contract_status = STATUSES.get(agreement.status, ("active", "terminated"))
    buyer = _buyer(agreement.org_unit, conf)
    parties = [buyer]
    supplier = _supplier(agreement.counterparty) if agreement.counterparty else None
    if supplier:
        parties.append(supplier)
    version = agreement.clause_version
    documents = []
    if version is not None:
        documents.append(_clause_document(version))
    if signed is not None:
        documents.append(_signed_document(signed))
    terms = None
    if version is not None:
        terms = {"performanceTerms": PERFORMANCE_TERMS.format(
            title=version.title, version=version.version, language=version.language,
            sha256=version.sha256)}
    value = _value(agreement.value, agreement.currency)
    period = _period(agreement.start_date, agreement.end_date)
    award_id = f"{agreement.id}-award"
    body: dict[str, Any] = {
        "ocid": ocid,
        "initiationType": "tender",
        "language": "de",
        "parties": parties,
        "buyer": _reference(buyer),
        "tender": {
            "id": f"{agreement.id}-tender",
            "title": agreement.subject,
            "status": "complete" if agreement.status != "draft" else None,
            "procuringEntity": _reference(buyer),
            "procurementMethod": METHOD.get(agreement.procedure or ""),
            "procurementMethodDetails": agreement.procedure,
            "mainProcurementCategory": CATEGORY.get(agreement.contract_kind or ""),
            "value": _value(agreement.estimated_value, agreement.currency),
            "contractTerms": terms,
        },
        "awards": [{
            "id": award_id,
            "title": agreement.subject,
            "status": award_status,
            "date": _day(agreement.decided_on) if agreement.decided_on else None,
            "value": value,
            "suppliers": [_reference(supplier)] if supplier else None,
            "contractPeriod": period,
        }],
        "contracts": [{
            "id": f"{agreement.id}-contract",
            "awardID": award_id,
            "title": agreement.subject,
            "description": f"Vergabenummer {agreement.reference}",
            "status": contract_status,
            "period": period,
            "value": value,
            "dateSigned": _day(agreement.decided_on) if agreement.decided_on else None,
            "documents": documents,
        }],
    }
    body = _clean(body)
    tags = ["tender"] if agreement.status == "draft" else ["award", "contract"]
    if agreement.status in ("ended", "terminated"):
        tags.append("contractTermination")
    body["tag"] = tags
    moments = [agreement.updated_at] + ([signed.created_at] if signed is not None else [])
    body["date"] = _moment(max(moments))
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                            .encode()).hexdigest()[:16]
    return {"id": f"{agreement.id}-{digest}", **body}


def _package_meta(published: datetime, uri: str, conf: dict[str, str]) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": list(EXTENSIONS),
        "publishedDate": _moment(published.astimezone(UTC).replace(tzinfo=None)
                                 if published.tzinfo else published),
        "publisher": {"name": conf["OCDS_PUBLISHER_NAME"], "uri": conf["OCDS_PUBLISHER_URI"]},
        "license": None,
        "publicationPolicy": None,
    }


def release_package(agreements: Iterable[Agreement] | None = None, *, published: datetime,
                    uri: str, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An OCDS 1.1 release package of the contracts among `agreements` (None: all)."""
    conf = settings(config)
    meta = _clean(_package_meta(published, uri, conf))
    chosen = contracts(agreements)
    signed = signed_copies([a.id for a in chosen])
    return {**meta, "releases": [release(a, conf, signed) for a in chosen]}


def record_package(agreements: Iterable[Agreement] | None = None, *, published: datetime,
                   uri: str, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An OCDS 1.1 record package: per contract its record, with its one release embedded
    and the compiled release (the same content, tagged `compiled`)."""
    conf = settings(config)
    meta = _clean(_package_meta(published, uri, conf))
    records = []
    chosen = contracts(agreements)
    signed = signed_copies([a.id for a in chosen])
    for agreement in chosen:
        one = release(agreement, conf, signed)
        compiled = {**one, "id": f"{one['ocid']}-{one['date']}", "tag": ["compiled"]}
        records.append({"ocid": one["ocid"], "releases": [one], "compiledRelease": compiled})
    return {**meta, "records": records}
