"""Contract awards from eForms notices (UBL XML, the EU's standard forms since 2023).

A contract award notice (`ContractAwardNotice`: the result notices `can-standard`,
`can-social`, `can-desg`, `can-tran`, voluntary ex-ante transparency `veat` and contract
modifications `can-modif`) lists, in its NoticeResult, the contracts concluded
(`efac:SettledContract`). Each becomes a contract record of the register:

- reference: the notice identifier (BT-701, a UUID) and the contract's technical
  identifier (OPT-316, `CON-0001`), `<notice>/<contract>`: unique per notice, so
  importing a notice again (or another version of it) adds nothing;
- counterparty: the winner — the tendering party of the contract's tender, its group
  leader when it is a group — matched by its registration number (CompanyID), else its
  name, created when new;
- value and currency: the sum of the contract's tenders' values (BT-720);
- decided_on: the conclusion date (BT-145), else the winner decision date (BT-1451);
  start and end: the lot's planned period (BT-536, BT-537);
- subject: the title of the lot (BT-21), of every lot when the contract covers several;
- kind and procedure: the lot's (or the procedure's) contract nature and procedure type;
- unit: the buyer that signed the contract (else the buyers of the notice, in order)
  mapped to an organisational unit by the administrators' table (buyers.py).

A lot closed without a winner (`clos-nw`) or not yet decided (`open-nw`) has no settled
contract and adds nothing; the report names it. Fields whose publication is deferred
(`efac:FieldsPrivacy`) are still in the buyer's own notice: they are imported (the
register is not a publication) and the report names them. Other notices (contract
notices, prior information notices, completion notices, …) are refused with their type.

The XML is hostile until checked: a size limit (EFORMS_MAX_FILE_BYTES), then the DOCX
engine's safe parser (no DTD, no entities, no network, a depth limit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from lxml import etree

from clause_tracker.agreements.importing import (
    ImportFileError,
    ImportReport,
    import_rows,
)
from clause_tracker.agreements.models import CONTRACT
from clause_tracker.auth.models import User
from clause_tracker.documents import DocumentRejected
from clause_tracker.documents.ingest import parse_xml
from clause_tracker.interop.buyers import unit_of
from clause_tracker.orgunits.models import OrgUnit

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
    "efext": "http://data.europa.eu/p27/eforms-ubl-extensions/1",
}
AWARD_ROOT = "ContractAwardNotice"
# Notice types (BT-02) of a ContractAwardNotice that report concluded contracts.
AWARD_TYPES = frozenset({"can-standard", "can-social", "can-desg", "can-tran", "can-modif",
                         "veat"})
NOTICE_TYPE_NAMES = {
    "ContractAwardNotice": _l("contract award notice"),
    "ContractNotice": _l("contract notice"),
    "PriorInformationNotice": _l("prior information notice"),
    "BusinessRegistrationInformationNotice": _l("business registration notice"),
}
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
# eForms contract nature → the register's kinds ("combined": services, the usual main part)
CONTRACT_NATURES = {"works": "works", "supplies": "supplies", "services": "services",
                    "combined": "services"}
# eForms procedure types → the register's procedures (others stay empty)
PROCEDURES = {"open": "open", "restricted": "restricted", "neg-w-call": "negotiated",
              "neg-wo-call": "negotiated", "comp-dial": "competitive_dialogue",
              "innovation": "innovation_partnership"}
WINNER_CHOSEN = "selec-w"
NO_WINNER = {"clos-nw": _l("closed without a winner"),
             "open-nw": _l("no winner chosen yet")}
_DAY = re.compile(r"\s*(\d{4}-\d{2}-\d{2})")


class EformsRefused(ImportFileError):
    """The file is no eForms contract award notice we can read; the message says why."""


@dataclass(frozen=True)
class Organisation:
    ident: str
    name: str
    company_id: str


@dataclass
class SettledContract:
    contract_id: str
    line: int
    lot_ids: list[str]
    subject: str
    contract_kind: str | None
    procedure: str | None
    value: Decimal | None
    currency: str | None
    decided_on: date | None
    start_date: date | None
    end_date: date | None
    winner: Organisation
    buyers: list[Organisation]
    contract_reference: str = ""  # the buyer's own contract number (BT-150)


@dataclass
class Notice:
    notice_id: str
    version: str
    notice_type: str
    subtype: str
    contracts: list[SettledContract] = field(default_factory=list)
    # what the report should say besides the contracts: lots without a winner, withheld
    notes: list[str] = field(default_factory=list)


@dataclass
class EformsReport:
    """The import's report of one notice, and what the notice was."""

    report: ImportReport
    notice: Notice | None = None


def max_file_bytes() -> int:
    if has_app_context():
        return int(current_app.config.get("EFORMS_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))
    return DEFAULT_MAX_FILE_BYTES


# --- reading ---------------------------------------------------------------------------------

def _text(el: etree._Element | None, path: str) -> str:
    if el is None:
        return ""
    found = el.find(path, NS)
    return " ".join((found.text or "").split()) if found is not None else ""


def _all(el: etree._Element, path: str) -> list[etree._Element]:
    return list(el.iterfind(path, NS))


def _day(text: str) -> date | None:
    match = _DAY.match(text)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def parse_root(data: bytes) -> etree._Element:
    """The notice's root element, parsed safely; refused with a clear reason otherwise."""
    limit = max_file_bytes()
    if not data.strip():
        raise EformsRefused(_l("The file is empty."))
    if len(data) > limit:
        raise EformsRefused(_l("The file is larger than %(mib)s MiB.",
                               mib=f"{limit / (1024 * 1024):.1f}"))
    try:
        root = parse_xml(data, "notice")
    except DocumentRejected as exc:
        if exc.code == "doctype":
            raise EformsRefused(_l("The file contains a document type declaration (DTD); "
                                   "eForms notices have none, and it is not read.")) from exc
        if exc.code == "xml_too_deep":
            raise EformsRefused(_l("The XML is nested too deeply.")) from exc
        raise EformsRefused(_l("The file is not well-formed XML.")) from exc
    return root


def notice_kind(root: etree._Element) -> tuple[str, str, str]:
    """(root element name, notice type BT-02, notice subtype OPP-070)."""
    name = etree.QName(root).localname
    notice_type = _text(root, "cbc:NoticeTypeCode")
    subtype = _text(root, "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/"
                          "efext:EformsExtension/efac:NoticeSubType/cbc:SubTypeCode")
    return name, notice_type, subtype


def _refuse_other(name: str, notice_type: str, subtype: str) -> None:
    if name == AWARD_ROOT and notice_type in AWARD_TYPES:
        return
    shown = NOTICE_TYPE_NAMES.get(name)
    what = f"{shown} ({name})" if shown else name
    raise EformsRefused(_l(
        "The file is a %(what)s of type %(type)s (subtype %(subtype)s); only contract award "
        "notices that report concluded contracts (results, voluntary ex-ante transparency, "
        "modifications) are imported.",
        what=what, type=notice_type or "–", subtype=subtype or "–"))


def read_notice(data: bytes) -> Notice:
    """Every settled contract of an eForms contract award notice; refused (EformsRefused,
    naming the reason) for anything else or a notice that lacks what a contract needs."""
    root = parse_root(data)
    name, notice_type, subtype = notice_kind(root)
    _refuse_other(name, notice_type, subtype)
    extension = root.find("ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/"
                          "efext:EformsExtension", NS)
    notice_id = _text(root, "cbc:ID[@schemeName='notice-id']") or _text(root, "cbc:ID")
    problems: list[str] = []
    if not notice_id:
        problems.append(str(_l("the notice identifier (BT-701) is missing")))
    if not subtype:
        problems.append(str(_l("the notice subtype (OPP-070) is missing")))
    result = extension.find("efac:NoticeResult", NS) if extension is not None else None
    if result is None:
        problems.append(str(_l("the notice result (the lots' results and contracts) is "
                               "missing")))
    if problems:
        raise EformsRefused(_l("The contract award notice cannot be read: %(problems)s.",
                               problems="; ".join(problems)))
    assert result is not None and extension is not None
    notice = Notice(notice_id=notice_id, version=_text(root, "cbc:VersionID"),
                    notice_type=notice_type, subtype=subtype)
    organisations = _organisations(extension)
    lots = {_text(lot, "cbc:ID"): lot for lot in _all(root, "cac:ProcurementProjectLot")}
    tenders = {_text(t, "cbc:ID"): t for t in _all(result, "efac:LotTender")}
    parties = {_text(p, "cbc:ID"): p for p in _all(result, "efac:TenderingParty")}
    buyers = [organisations[i] for i in
              (_text(p, "cac:Party/cac:PartyIdentification/cbc:ID")
               for p in _all(root, "cac:ContractingParty")) if i in organisations]
    for lot_result in _all(result, "efac:LotResult"):
        code = _text(lot_result, "cbc:TenderResultCode")
        if code in NO_WINNER:
            notice.notes.append(str(_l("Lot %(lot)s: %(what)s; no contract.",
                                       lot=_text(lot_result, "efac:TenderLot/cbc:ID") or "–",
                                       what=NO_WINNER[code])))
    withheld = sorted({_text(p, "efbc:FieldIdentifierCode")
                       for p in root.iter(f"{{{NS['efac']}}}FieldsPrivacy")} - {""})
    if withheld:
        notice.notes.append(str(_l(
            "Publication of these fields is deferred (%(fields)s); the notice carries them "
            "and they were read as given.", fields=", ".join(withheld))))
    for changed in extension.iterfind("efac:ContractModification/efbc:ChangedNoticeIdentifier",
                                      NS):
        notice.notes.append(str(_l(
            "The notice modifies notice %(changed)s; its contracts are recorded as modified, "
            "under this notice's identifier.", changed=(changed.text or "").strip()[:80])))
    for settled in _all(result, "efac:SettledContract"):
        contract = _contract(root, settled, lots, tenders, parties, organisations, buyers,
                             problems, notice.notes)
        if contract is not None:
            notice.contracts.append(contract)
    if problems:
        shown = problems[:20] + (["…"] if len(problems) > 20 else [])
        raise EformsRefused(_l("The contract award notice cannot be read: %(problems)s.",
                               problems="; ".join(shown)))
    if not notice.contracts and not notice.notes:
        notice.notes.append(str(_l("The notice reports no concluded contract.")))
    return notice


def _organisations(extension: etree._Element) -> dict[str, Organisation]:
    found: dict[str, Organisation] = {}
    for company in extension.iterfind("efac:Organizations/efac:Organization/efac:Company",
                                      NS):
        ident = _text(company, "cac:PartyIdentification/cbc:ID")
        if ident:
            found[ident] = Organisation(ident, _text(company, "cac:PartyName/cbc:Name"),
                                        _text(company, "cac:PartyLegalEntity/cbc:CompanyID"))
    return found


def _lot_project(root: etree._Element, lot: etree._Element | None,
                 path: str) -> str:
    """A lot's value of `path` under its ProcurementProject, else the procedure's."""
    return (_text(lot, f"cac:ProcurementProject/{path}") if lot is not None else "") \
        or _text(root, f"cac:ProcurementProject/{path}")


def _contract(root: etree._Element, settled: etree._Element,
              lots: dict[str, etree._Element], tenders: dict[str, etree._Element],
              parties: dict[str, etree._Element], organisations: dict[str, Organisation],
              buyers: list[Organisation], problems: list[str],
              notes: list[str]) -> SettledContract | None:
    contract_id = _text(settled, "cbc:ID")
    shown = contract_id or f"line {settled.sourceline}"
    tender_ids = [_text(t, "cbc:ID") for t in _all(settled, "efac:LotTender")]
    own = [tenders[i] for i in tender_ids if i in tenders]
    if not contract_id or not own:
        problems.append(str(_l("contract %(id)s names no tender of the notice", id=shown)))
        return None
    winner = _winner(own[0], parties, organisations)
    if winner is None or not winner.name:
        problems.append(str(_l("contract %(id)s names no winner with a name", id=shown)))
        return None
    lot_ids = list(dict.fromkeys(_text(t, "efac:TenderLot/cbc:ID") for t in own))
    lot_els = [lots.get(i) for i in lot_ids]
    titles = list(dict.fromkeys(t for t in (_lot_project(root, lot, "cbc:Name")
                                            for lot in lot_els) if t))
    value, currency = _value(own, shown, problems)
    first = lot_els[0] if lot_els else None
    signatories = [organisations[i] for i in
                   (_text(s, "cac:PartyIdentification/cbc:ID")
                    for s in _all(settled, "cac:SignatoryParty")) if i in organisations]
    procedure = _text(first, "cac:TenderingProcess/cbc:ProcedureCode") \
        or _text(root, "cac:TenderingProcess/cbc:ProcedureCode")
    nature = _lot_project(root, first, "cbc:ProcurementTypeCode")
    if not nature:
        notes.append(str(_l("Contract %(id)s: the notice gives no contract nature (BT-23); "
                            "it is recorded as services, correct it on the record.",
                            id=contract_id)))
        nature = "services"
    return SettledContract(
        contract_id=contract_id, line=settled.sourceline or 0, lot_ids=lot_ids,
        subject="; ".join(titles) or _text(settled, "cbc:Title"),
        contract_kind=CONTRACT_NATURES.get(nature, nature or None),
        procedure=PROCEDURES.get(procedure),
        value=value, currency=currency,
        decided_on=_day(_text(settled, "cbc:IssueDate")) or _day(_text(settled,
                                                                       "cbc:AwardDate")),
        start_date=_day(_lot_project(root, first, "cac:PlannedPeriod/cbc:StartDate")),
        end_date=_day(_lot_project(root, first, "cac:PlannedPeriod/cbc:EndDate")),
        winner=winner, buyers=list(dict.fromkeys(signatories + buyers)),
        contract_reference=_text(settled, "efac:ContractReference/cbc:ID"))


def _winner(tender: etree._Element, parties: dict[str, etree._Element],
            organisations: dict[str, Organisation]) -> Organisation | None:
    party = parties.get(_text(tender, "efac:TenderingParty/cbc:ID"))
    if party is None:
        return None
    tenderers = _all(party, "efac:Tenderer")
    leads = [t for t in tenderers if _text(t, "efbc:GroupLeadIndicator") == "true"]
    for tenderer in leads + tenderers:
        organisation = organisations.get(_text(tenderer, "cbc:ID"))
        if organisation is not None:
            return organisation
    return None


def _value(tenders: list[etree._Element], shown: str,
           problems: list[str]) -> tuple[Decimal | None, str | None]:
    total: Decimal | None = None
    currencies: set[str] = set()
    for tender in tenders:
        amount = tender.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS)
        if amount is None or not (amount.text or "").strip():
            continue
        try:
            value = Decimal(amount.text.strip())  # type: ignore[union-attr]  # checked above
        except InvalidOperation:
            problems.append(str(_l("contract %(id)s: the value %(value)s is no amount",
                                   id=shown, value=(amount.text or "")[:40])))
            continue
        currencies.add((amount.get("currencyID") or "").strip())
        total = value if total is None else total + value
    if len(currencies) > 1:
        problems.append(str(_l("contract %(id)s: tenders in several currencies", id=shown)))
    return total, (currencies.pop() or None) if len(currencies) == 1 else None


# --- the import ------------------------------------------------------------------------------

def _unit_code(contract: SettledContract) -> str:
    for buyer in contract.buyers:
        unit = unit_of(buyer.company_id, buyer.name)
        if unit is not None:
            return unit.code
    named = ", ".join(f"“{b.name}”" + (f" ({b.company_id})" if b.company_id else "")
                      for b in contract.buyers) or "–"
    raise EformsRefused(_l(
        "The buyer %(buyers)s of contract %(id)s is mapped to no organisational unit; an "
        "administrator maps it on the page “eForms buyers”.",
        buyers=named, id=contract.contract_id))


def rows_of(notice: Notice) -> Iterator[tuple[int, dict[str, Any]]]:
    """The notice's contracts as rows of the agreements' import."""
    for contract in notice.contracts:
        row: dict[str, Any] = {
            "reference": f"{notice.notice_id}/{contract.contract_id}",
            "subject": contract.subject,
            "contract_kind": contract.contract_kind,
            "procedure": contract.procedure,
            "value": contract.value,
            "decided_on": contract.decided_on,
            "start_date": contract.start_date,
            "end_date": contract.end_date,
            "counterparty": contract.winner.name,
            "counterparty_register": contract.winner.company_id,
            "currency": contract.currency if contract.currency != "EUR" else None,
            "unit": _unit_code(contract),
        }
        yield contract.line, {k: v for k, v in row.items() if v is not None}


def import_notice(data: bytes, filename: str, *, dry_run: bool = False,
                  unit: OrgUnit | None = None, restrict_unit: bool = False,
                  user: User | None = None) -> EformsReport:
    """Check every contract of the notice; when all pass (and not a dry run) save them in one
    transaction, with the CSV import's rules (importing.import_rows): contracts already
    registered are skipped, any error imports nothing. Refused notices raise EformsRefused."""
    notice = read_notice(data)
    report = ImportReport(kind=CONTRACT, filename=filename, dry_run=dry_run)
    rows = list(rows_of(notice))  # buyers are resolved before anything is checked
    import_rows(CONTRACT, rows, data, report, unit=unit, restrict_unit=restrict_unit,
                user=user)
    return EformsReport(report=report, notice=notice)
