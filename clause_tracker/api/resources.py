"""The JSON API, version 1: thin views over the service layer.

Every view names its permission in the one permission map (`@requires`), sees only what the
token's user sees (`visible`, `get_for_work` of the services, unit scoping included) and
changes records only through the services, whose units of work write the audit events.
Updates need `If-Match` with the record's ETag (its version counter): 428 without it, 412
when it is stale. Errors are RFC 9457 problem details (problems.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException, NotFound

from clause_tracker import idempotency
from clause_tracker.agreements import documents, signed_copy
from clause_tracker.agreements import services as agreements
from clause_tracker.agreements.models import CONTRACT, GRANT, Agreement
from clause_tracker.api import schemas
from clause_tracker.checks import services as checks
from clause_tracker.checks.models import ComplianceCheck
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.clock import utcnow
from clause_tracker.compliance.labels import reason_text
from clause_tracker.compliance.state import Compliance, compliance_of
from clause_tracker.counterparties import services as counterparties
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.declarations import services as declarations
from clause_tracker.declarations.evidence import accept_upload
from clause_tracker.declarations.models import Declaration
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.idempotency import AlreadySubmitted
from clause_tracker.interop import ocds
from clause_tracker.pagination import clamp, page_count
from clause_tracker.permissions import Permission, requires
from clause_tracker.registry import queries

MULTIPART = "multipart"  # a form with files: its fields and its files in one schema


class Parser(FlaskParser):
    """webargs' parser with one more location: a multipart form's fields and files."""

    __location_map__ = {**FlaskParser.__location_map__, MULTIPART: "load_multipart"}

    def load_multipart(self, req: Any, schema: Any) -> MultiDictProxy:
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             MULTIPART: "multipart/form-data"}


blp = ApiBlueprint("api_v1", __name__, url_prefix="/api/v1",
                   description="Contracts, grants, declarations, checks and signed copies.")

PER_PAGE = 25
ETAG_HEADER = {"ETag": {"description": "the record's version counter, quoted; send it "
                                       "back as If-Match to update",
                        "schema": {"type": "string"}}}
PAGE_HEADERS = {"Link": {"description": "RFC 8288 links: first, prev, next, last",
                         "schema": {"type": "string"}}}
CREATED_HEADERS = {**ETAG_HEADER, "Location": {"description": "the new record",
                                               "schema": {"type": "string"}}}


class ApiProblem(HTTPException):
    """An HTTP error with a message for people and a problem type (problems.py)."""

    def __init__(self, code: int, message: Any, kind: str) -> None:
        super().__init__(description=str(message))
        self.code = code
        self.user_message = str(message)
        self.problem_kind = kind


# --- helpers ---------------------------------------------------------------------------------

def _etag(version: int) -> str:
    return f'"{version}"'


def _expected_version(current: int) -> int:
    """The version the client read, from If-Match: 428 without it, 412 when stale."""
    header = request.headers.get("If-Match")
    if header is None:
        raise ApiProblem(428, _l("Send If-Match with the ETag you read; an update without "
                                 "it could overwrite someone else's change."),
                         "precondition-required")
    tags = [tag.strip() for tag in header.split(",")]
    if "*" in tags or _etag(current) in tags:
        return current
    raise ApiProblem(412, _l("The record was changed since you read it (its ETag is now "
                             "%(etag)s). Read it again and repeat your change.",
                             etag=_etag(current)), "edit-conflict")


def _links(number: int, pages: int) -> tuple[str | None, dict[str, str]]:
    """The next page's URL and the Link header for a page of a list."""
    args = request.args.to_dict()

    def page_url(n: int) -> str:
        return request.base_url + "?" + urlencode({**args, "page": str(n)})

    links = {"first": page_url(1), "last": page_url(max(pages, 1))}
    if number > 1:
        links["prev"] = page_url(number - 1)
    if number < pages:
        links["next"] = page_url(number + 1)
    header = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    return links.get("next"), {"Link": header}


def _paged(stmt: Select, number: int, dump) -> tuple[dict[str, Any], int, dict[str, str]]:
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    number = clamp(number, total, PER_PAGE)
    rows = db.session.scalars(stmt.limit(PER_PAGE).offset((number - 1) * PER_PAGE)).unique()
    pages = page_count(total, PER_PAGE)
    next_url, headers = _links(number, pages)
    return ({"items": [dump(row) for row in rows], "page": number, "pages": pages,
             "total": total, "per_page": PER_PAGE, "next": next_url}, 200, headers)


def _compliance(found: Compliance | tuple[str, str]) -> dict[str, str]:
    state, reason = (found.state, found.reason) if isinstance(found, Compliance) else found
    return {"state": state, "reason": reason, "reason_text": reason_text(reason)}


def _agreement(agreement: Agreement, compliance: Compliance | tuple[str, str] | None = None
               ) -> dict[str, Any]:
    version = agreement.clause_version
    party = agreement.counterparty
    data = {
        name: getattr(agreement, name) for name in (
            "id", "kind", "reference", "subject", "status", "counterparty_id", "value",
            "start_date", "end_date", "decided_on", "clause_method", "signed_copy_due_on",
            "created_at", "updated_at")
    }
    if agreement.kind == CONTRACT:
        data |= {name: getattr(agreement, name) for name in (
            "contract_kind", "procedure", "estimated_value", "vat_rate", "vat_amount",
            "gross_value", "renewal_options")}
    else:
        data |= {"programme": agreement.programme, "proof_due_on": agreement.proof_due_on}
    unit = agreement.org_unit
    return data | {
        "org_unit": {"id": unit.id, "code": unit.code, "name": unit.name},
        "counterparty_name": party.name if party else None,
        "clause_version": (f"{version.variant} {version.version} ({version.language})"
                           if version else None),
        "exemption_approved": agreement.exemption_approved_at is not None,
        "compliance": _compliance(compliance or compliance_of(agreement.id)),
        "version": agreement.version_id,
    }


def _load_clause_versions(rows: Iterable[Agreement]) -> None:
    """The page's clause versions in one query (then in the session: no query per row)."""
    ids = {a.clause_version_id for a in rows if a.clause_version_id is not None}
    if ids:
        db.session.scalars(select(ClauseVersion).where(ClauseVersion.id.in_(ids))).all()


def _agreement_response(agreement: Agreement, status: int = 200,
                        headers: dict[str, str] | None = None):
    return _agreement(agreement), status, {"ETag": _etag(agreement.version_id),
                                           **(headers or {})}


def _visible_agreement(agreement_id: int) -> Agreement:
    return agreements.get_visible(agreement_id, current_user) or _not_found()


def _not_found() -> Any:
    raise NotFound()


def _of_kind(agreement_id: int, kind: str) -> Agreement:
    agreement = agreements.get_for_work(agreement_id, current_user)
    if agreement.kind != kind:
        raise NotFound()
    return agreement


# --- agreements ------------------------------------------------------------------------------

@blp.route("/agreements")
@requires(Permission.REGISTRY_READ)
@blp.arguments(schemas.AgreementListQuerySchema, location="query", as_kwargs=True)
@blp.response(200, schemas.AgreementPageSchema, headers=PAGE_HEADERS)
def list_agreements(page: int, **_filters: Any):
    """Contracts and grants the token's user sees, with their compliance state.

    The filters are the registry list's (same names, same values); 25 a page, newest
    change first unless `sort` says otherwise."""
    filters = queries.ListFilter.from_args(request.args)
    found = queries.page(current_user, filters, page)
    _load_clause_versions(row.agreement for row in found.rows)
    next_url, headers = _links(found.number, found.pages)
    return ({"items": [_agreement(row.agreement, (row.compliance, row.reason))
                       for row in found.rows],
             "page": found.number, "pages": found.pages, "total": found.total,
             "per_page": queries.PAGE_SIZE, "next": next_url}, 200, headers)


@blp.route("/agreements/<int:agreement_id>")
@requires(Permission.REGISTRY_READ)
@blp.response(200, schemas.AgreementSchema, headers=ETAG_HEADER)
def get_agreement(agreement_id: int):
    """One contract or grant, with its compliance state and the reason for it."""
    return _agreement_response(_visible_agreement(agreement_id))


def _create(kind: str, values: dict[str, Any], key: str | None):
    _check_counterparty(values)
    token = key or idempotency.new_token()
    done = idempotency.already_done(token)
    try:
        if done is not None:
            raise AlreadySubmitted(token)
        agreement = agreements.create(kind, values, current_user, token)
    except AlreadySubmitted:
        done = idempotency.already_done(token)
        if done is None or done.object_type != "Agreement":
            raise ApiProblem(409, _l("This Idempotency-Key was used for another request."),
                             "idempotency-key-reused") from None
        existing = _visible_agreement(int(done.object_id))
        return _agreement_response(existing, 200, {"Idempotent-Replayed": "true"})
    location = url_for("api_v1.get_agreement", agreement_id=agreement.id)
    return _agreement_response(agreement, 201, {"Location": location})


def _check_counterparty(values: dict[str, Any]) -> None:
    party = values.get("counterparty_id")
    if party is not None and counterparties.get(party) is None:
        raise ApiProblem(422, _l("There is no contractor or grantee with this id."),
                         "unknown-counterparty")


def _update(agreement_id: int, kind: str, values: dict[str, Any]):
    agreement = _of_kind(agreement_id, kind)
    expected = _expected_version(agreement.version_id)
    _check_counterparty(values)
    start = values.get("start_date", agreement.start_date)
    end = values.get("end_date", agreement.end_date)
    if start and end and end < start:
        raise ApiProblem(422, _l("The end lies before the start."), "invalid-period")
    agreements.update(agreement, values, expected, current_user)
    return _agreement_response(agreement)


@blp.route("/contracts", methods=["POST"])
@requires(Permission.CONTRACTS_MANAGE)
@blp.arguments(schemas.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(schemas.ContractInputSchema)
@blp.response(201, schemas.AgreementSchema, headers=CREATED_HEADERS)
@blp.alt_response(200, schema=schemas.AgreementSchema,
                  description="the same Idempotency-Key again: the first result")
def create_contract(values: dict[str, Any], idempotency_key: str | None = None):
    """Record a contract as a draft in the unit of the token's user."""
    return _create(CONTRACT, values, idempotency_key)


@blp.route("/grants", methods=["POST"])
@requires(Permission.GRANTS_MANAGE)
@blp.arguments(schemas.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(schemas.GrantInputSchema)
@blp.response(201, schemas.AgreementSchema, headers=CREATED_HEADERS)
@blp.alt_response(200, schema=schemas.AgreementSchema,
                  description="the same Idempotency-Key again: the first result")
def create_grant(values: dict[str, Any], idempotency_key: str | None = None):
    """Record a grant as a draft in the unit of the token's user."""
    return _create(GRANT, values, idempotency_key)


@blp.route("/contracts/<int:agreement_id>", methods=["PATCH"])
@requires(Permission.CONTRACTS_MANAGE)
@blp.arguments(schemas.IfMatchHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(schemas.ContractPatchSchema(partial=True))
@blp.response(200, schemas.AgreementSchema, headers=ETAG_HEADER)
def update_contract(values: dict[str, Any], agreement_id: int, **_headers: Any):
    """Change fields of a contract (only those sent); needs If-Match."""
    return _update(agreement_id, CONTRACT, values)


@blp.route("/grants/<int:agreement_id>", methods=["PATCH"])
@requires(Permission.GRANTS_MANAGE)
@blp.arguments(schemas.IfMatchHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(schemas.GrantPatchSchema(partial=True))
@blp.response(200, schemas.AgreementSchema, headers=ETAG_HEADER)
def update_grant(values: dict[str, Any], agreement_id: int, **_headers: Any):
    """Change fields of a grant (only those sent); needs If-Match."""
    return _update(agreement_id, GRANT, values)


# --- counterparties --------------------------------------------------------------------------

def _counterparty(party: Counterparty) -> dict[str, Any]:
    return {name: getattr(party, name) for name in (
        "id", "name", "legal_form", "address", "register_number", "vat_id")} | {
        "version": party.version_id}


@blp.route("/counterparties")
@requires(Permission.REGISTRY_READ)
@blp.arguments(schemas.CounterpartyQuerySchema, location="query", as_kwargs=True)
@blp.response(200, schemas.CounterpartyPageSchema, headers=PAGE_HEADERS)
def list_counterparties(page: int, q: str = ""):
    """Contractors and grantees (shared by all units), by name."""
    stmt = select(Counterparty)
    if q.strip():
        stmt = stmt.where(Counterparty.name.ilike(f"%{q.strip()}%"))
    return _paged(stmt.order_by(Counterparty.name, Counterparty.id), page, _counterparty)


@blp.route("/counterparties/<int:counterparty_id>")
@requires(Permission.REGISTRY_READ)
@blp.response(200, schemas.CounterpartySchema, headers=ETAG_HEADER)
def get_counterparty(counterparty_id: int):
    party = counterparties.get(counterparty_id) or _not_found()
    return _counterparty(party), 200, {"ETag": _etag(party.version_id)}


# --- declarations ----------------------------------------------------------------------------

def _declaration(decl: Declaration) -> dict[str, Any]:
    return {name: getattr(decl, name) for name in (
        "id", "agreement_id", "party", "party_name", "state", "not_required_reason",
        "requested_on", "working_days", "deadline", "signer_name", "signer_function",
        "signed_on", "received_on", "channel", "valid_until", "evidence_sha256")} | {
        "version": decl.version_id}


def _declaration_response(decl: Declaration, status: int = 200,
                          headers: dict[str, str] | None = None):
    return _declaration(decl), status, {"ETag": _etag(decl.version_id), **(headers or {})}


def _visible_declaration(declaration_id: int) -> Declaration:
    decl = declarations.get(declaration_id) or _not_found()
    _visible_agreement(decl.agreement_id)
    return decl


def _declaration_for_work(declaration_id: int) -> Declaration:
    decl = _visible_declaration(declaration_id)
    agreements.get_for_work(decl.agreement_id, current_user)
    return decl


@blp.route("/declarations")
@requires(Permission.REGISTRY_READ)
@blp.arguments(schemas.DeclarationQuerySchema, location="query", as_kwargs=True)
@blp.response(200, schemas.DeclarationPageSchema, headers=PAGE_HEADERS)
def list_declarations(page: int, agreement_id: int | None = None, state: str | None = None):
    """Declarations of the contracts and grants the token's user sees."""
    stmt = declarations.visible(current_user)
    if agreement_id is not None:
        stmt = stmt.where(Declaration.agreement_id == agreement_id)
    if state:
        stmt = stmt.where(Declaration.state == state)
    return _paged(stmt.order_by(Declaration.id.desc()), page, _declaration)


@blp.route("/declarations/<int:declaration_id>")
@requires(Permission.REGISTRY_READ)
@blp.response(200, schemas.DeclarationSchema, headers=ETAG_HEADER)
def get_declaration(declaration_id: int):
    return _declaration_response(_visible_declaration(declaration_id))


@blp.route("/agreements/<int:agreement_id>/declarations", methods=["POST"])
@requires(Permission.RECORDS_WORK)
@blp.arguments(schemas.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(schemas.DeclarationRequestSchema)
@blp.response(201, schemas.DeclarationSchema, headers=CREATED_HEADERS)
@blp.alt_response(200, schema=schemas.DeclarationSchema,
                  description="the same Idempotency-Key again: the first result")
def request_declaration(values: dict[str, Any], agreement_id: int,
                        idempotency_key: str | None = None):
    """Ask the contractor or grantee (or a subcontractor) for the declaration, with a
    deadline in working days."""
    agreement = agreements.get_for_work(agreement_id, current_user)
    token = idempotency_key or idempotency.new_token()
    try:
        if idempotency.already_done(token):
            raise AlreadySubmitted(token)
        decl = declarations.request(agreement, values["party"], values.get("party_name", ""),
                                    values["requested_on"], values["working_days"],
                                    current_user, token)
    except AlreadySubmitted:
        done = idempotency.already_done(token)
        if done is None or done.object_type != "Declaration":
            raise ApiProblem(409, _l("This Idempotency-Key was used for another request."),
                             "idempotency-key-reused") from None
        return _declaration_response(_visible_declaration(int(done.object_id)), 200,
                                     {"Idempotent-Replayed": "true"})
    location = url_for("api_v1.get_declaration", declaration_id=decl.id)
    return _declaration_response(decl, 201, {"Location": location})


@blp.route("/declarations/<int:declaration_id>/receipt", methods=["POST"])
@requires(Permission.RECORDS_WORK)
@blp.arguments(schemas.IfMatchHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(schemas.ReceiptSchema, location=MULTIPART)
@blp.response(200, schemas.DeclarationSchema, headers=ETAG_HEADER)
def receive_declaration(values: dict[str, Any], declaration_id: int, **_headers: Any):
    """Record the signed declaration as received: a multipart form with its fields and,
    optionally, the signed file as `evidence` (PDF, DOCX, PNG or JPEG; accepting the
    declaration needs it). Needs If-Match."""
    decl = _declaration_for_work(declaration_id)
    expected = _expected_version(decl.version_id)
    upload = values.get("evidence")
    evidence = accept_upload(upload) if upload is not None else None
    declarations.receive(decl, evidence=evidence, expected_version=expected, user=current_user,
                         valid_until=values.get("valid_until"),
                         **{name: values[name] for name in (
                             "signer_name", "signer_function", "signed_on", "received_on",
                             "channel")})
    return _declaration_response(decl)


@blp.route("/declarations/<int:declaration_id>/transitions", methods=["POST"])
@requires(Permission.RECORDS_WORK)
@blp.arguments(schemas.IfMatchHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(schemas.TransitionSchema)
@blp.response(200, schemas.DeclarationSchema, headers=ETAG_HEADER)
def transition_declaration(values: dict[str, Any], declaration_id: int, **_headers: Any):
    """A step of the declaration's lifecycle (accept, reject, request again, …): the same
    transition table as on its page. Needs If-Match."""
    decl = _declaration_for_work(declaration_id)
    expected = _expected_version(decl.version_id)
    declarations.transition(decl, values["action"], values.get("note", ""), expected,
                            current_user)
    return _declaration_response(decl)


# --- checks and measures ---------------------------------------------------------------------

def _check(check: ComplianceCheck) -> dict[str, Any]:
    return {name: getattr(check, name) for name in (
        "id", "agreement_id", "trigger", "due_on", "deadline", "stage", "outcome",
        "completed_on", "decision", "decided_on")} | {
        "version": check.version_id,
        "measures": [{name: getattr(m, name) for name in (
            "id", "kind", "state", "deadline", "exclusion_until", "penalty_amount",
            "completion", "completed_on", "decided_at")} for m in check.measures]}


@blp.route("/checks")
@requires(Permission.REGISTRY_READ)
@blp.arguments(schemas.CheckQuerySchema, location="query", as_kwargs=True)
@blp.response(200, schemas.CheckPageSchema, headers=PAGE_HEADERS)
def list_checks(page: int, agreement_id: int | None = None, stage: str | None = None):
    """Compliance checks (with their measures) of the records the token's user sees."""
    stmt = checks.visible(current_user)
    if agreement_id is not None:
        stmt = stmt.where(ComplianceCheck.agreement_id == agreement_id)
    if stage:
        stmt = stmt.where(ComplianceCheck.stage == stage)
    return _paged(stmt.order_by(ComplianceCheck.due_on.desc(), ComplianceCheck.id.desc()),
                  page, _check)


@blp.route("/checks/<int:check_id>")
@requires(Permission.REGISTRY_READ)
@blp.response(200, schemas.CheckSchema, headers=ETAG_HEADER)
def get_check(check_id: int):
    check = checks.get_visible(check_id, current_user) or _not_found()
    return _check(check), 200, {"ETag": _etag(check.version_id)}


# --- signed copies ---------------------------------------------------------------------------

def _signed_copy(record: DocumentRecord) -> dict[str, Any]:
    return {"id": record.id, "agreement_id": record.agreement_id, "kind": record.action,
            "status": record.status, "filename": record.filename,
            "sha256": record.input_sha256, "created_at": record.created_at,
            "confirmed_at": record.confirmed_at}


@blp.route("/agreements/<int:agreement_id>/signed-copies")
@requires(Permission.REGISTRY_READ)
@blp.response(200, schemas.SignedCopyListSchema)
def list_signed_copies(agreement_id: int):
    """The returned signed copies filed on the record, newest (the one that counts) first."""
    agreement = _visible_agreement(agreement_id)
    rows: Sequence[DocumentRecord] = signed_copy.returned(agreement.id)
    return {"items": [_signed_copy(r) for r in rows]}


@blp.route("/agreements/<int:agreement_id>/signed-copies", methods=["POST"])
@requires(Permission.RECORDS_WORK)
@blp.arguments(schemas.SignedCopyUploadSchema, location="files")
@blp.response(201, schemas.SignedCopySchema)
def file_signed_copy(files: dict[str, Any], agreement_id: int):
    """File the returned signed copy (multipart field `file`): it is kept and checked at
    once, as on the record's page; the result's status says what the check found."""
    agreement = agreements.get_for_work(agreement_id, current_user)
    record = documents.check(agreement, files["file"], current_user)
    return _signed_copy(record), 201


# --- OCDS ------------------------------------------------------------------------------------

OCDS_PER_PAGE = 1000


def _contracts_page(page: int) -> tuple[list[Agreement], dict[str, str]]:
    """One page of the contracts the token's user sees, in the order of their ids, and the
    Link header naming the other pages."""
    stmt = agreements.visible(current_user).where(Agreement.kind == CONTRACT)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    number = clamp(page, total, OCDS_PER_PAGE)
    chosen = list(db.session.scalars(stmt.order_by(Agreement.id).limit(OCDS_PER_PAGE)
                                     .offset((number - 1) * OCDS_PER_PAGE)))
    _next, headers = _links(number, page_count(total, OCDS_PER_PAGE))
    return chosen, headers


@blp.route("/ocds/release-package.json")
@requires(Permission.REGISTRY_READ)
@blp.arguments(schemas.PageQuerySchema, location="query", as_kwargs=True)
@blp.response(200, schemas.OcdsPackageSchema, headers=PAGE_HEADERS)
def ocds_release_package(page: int):
    """The contracts the token's user sees as an OCDS 1.1 release package (interop/ocds.py,
    as `clause-tracker export ocds` writes it), 1,000 contracts a page in the order of their
    ids; the other pages are named in the Link header."""
    chosen, headers = _contracts_page(page)
    return ocds.release_package(chosen, published=utcnow(), uri=request.url), 200, headers


@blp.route("/ocds/record-package.json")
@requires(Permission.REGISTRY_READ)
@blp.arguments(schemas.PageQuerySchema, location="query", as_kwargs=True)
@blp.response(200, schemas.OcdsRecordPackageSchema, headers=PAGE_HEADERS)
def ocds_record_package(page: int):
    """The same contracts as an OCDS 1.1 record package (one record per contract, with its
    release and the compiled release), paged like the release package."""
    chosen, headers = _contracts_page(page)
    return ocds.record_package(chosen, published=utcnow(), uri=request.url), 200, headers
